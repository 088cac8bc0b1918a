"""The expo with real Socket.IO clients: a visitor walks up to a booth and is told so, the
booth's staff see who is there and chat with them on ``booth:<id>``; a profile edit reaches
everyone in the hall; booth texts pass moderation; the directory, favourites and the way to a
booth."""

from __future__ import annotations

import asyncio
import math

from tests.expo.live import exhibitor, organiser, visitor
from tests.helpers import LiveServer, RecordingClient, connect


async def walk(c: RecordingClient, start: list[float], goal: tuple[float, float],
               step: float = 0.5) -> None:
    """Walk in straight steps at 5 m/s (the server allows 6 m/s)."""
    x, z = start[0], start[2]
    n = max(1, math.ceil(math.hypot(goal[0] - x, goal[1] - z) / step))
    for i in range(1, n + 1):
        px, pz = x + (goal[0] - x) * i / n, z + (goal[1] - z) * i / n
        await c.sio.emit("move", [px, 0, pz, 0.0, 1])
        await asyncio.sleep(0.1)


async def test_visitor_at_a_booth_chats_with_its_staff(server: LiveServer) -> None:
    admin = await organiser(server)
    # b55 is a demo booth near the entrance: the invited account joins its staff.
    ex, staff_id, booth = await exhibitor(server, admin, "kiosk", "b55", "ignored")
    assert booth == "demo-jiangnan"
    v, vid = await visitor(server, "Walker")
    far, _ = await visitor(server, "Faraway")
    staff = await connect(server.url, ex.token)
    walker = await connect(server.url, v.token)
    other = await connect(server.url, far.token)
    try:
        assert (await staff.call("join", {"room": "expo:demo"}))["ok"]
        assert (await other.call("join", {"room": "expo:demo"}))["ok"]
        ack = await walker.call("join", {"room": "expo:demo"})
        assert ack["ok"]
        # Not at the booth yet: may not post in its channel.
        chat = await walker.call("chat", {"channel": f"booth:{booth}", "text": "hello?"})
        assert not chat["ok"] and chat["error"]["code"] == "forbidden"
        way = await walker.call("expo.path", {"booth_id": booth})
        assert way["ok"] and way["here"] and len(way["path"]) >= 2
        await walk(walker, ack["spawn"], tuple(way["goal"]))  # type: ignore[arg-type]
        here = await walker.wait("expo.at_booth", lambda m: m["booth_id"] == booth, timeout=5)
        assert here["booth"]["name"]["en"] == "Jiangnan Tea" and here["slot"] == "b55"
        pres = await staff.wait("booth.presence", lambda m: m["count"] == 1, timeout=5)
        assert pres["visitors"][0]["user_id"] == vid and pres["staff"][0]["online"]
        chat = await walker.call("chat", {"channel": f"booth:{booth}", "text": "你好，有样品吗？"})
        assert chat["ok"], chat
        got = await staff.wait("chat", lambda m: m["channel"] == f"booth:{booth}")
        assert got["text"] == "你好，有样品吗？" and got["from"]["user_id"] == vid
        reply = await staff.call("chat", {"channel": f"booth:{booth}", "text": "有的，请稍等"})
        assert reply["ok"]
        await walker.wait("chat", lambda m: m["text"] == "有的，请稍等")
        await asyncio.sleep(0.3)
        assert not [m for m in other.events["chat"] if m["channel"].startswith("booth:")]
        stats = await staff.call("booth.presence", {"booth_id": booth})
        assert stats["ok"] and stats["count"] == 1
        # Walk away: the visitor is told, and the staff see the booth empty.
        await walk(walker, [way["goal"][0], 0, way["goal"][1]], (0.0, 42.0))
        await walker.wait("expo.at_booth", lambda m: m["booth_id"] is None, timeout=5)
        await staff.wait("booth.presence", lambda m: m["count"] == 0, timeout=5)
    finally:
        for c in (staff, walker, other):
            await c.close()


async def test_a_profile_edit_reaches_the_hall_and_moderation_applies(server: LiveServer) -> None:
    admin = await organiser(server)
    ex, _, booth = await exhibitor(server, admin, "editor", "b50")
    v, _ = await visitor(server, "Looker")
    looker = await connect(server.url, v.token)
    try:
        assert (await looker.call("join", {"room": "expo:demo"}))["ok"]
        profile = {"name": {"zh-CN": "新名字", "en": "New Name"}, "color": "#aa3300",
                   "banner": {"en": "Come and see"}, "category": "food",
                   "keywords": ["dumplings", "饺子"],
                   "description": {"en": "We sell dumplings, you idiot."},
                   "products": [{"name": {"en": "Pork dumplings"}}],
                   "videos": [{"title": {"en": "Kitchen"}, "url": "https://example.org/v"}]}
        status, b = await ex.call("PUT", f"/api/expo/booths/{booth}", profile)
        assert status == 200, b
        assert b["description"]["en"] == "We sell dumplings, you *****."  # redacted
        pushed = await looker.wait("expo.booth", lambda m: m["booth"]["id"] == booth)
        assert pushed["booth"]["name"]["en"] == "New Name"
        status, lay = await v.call("GET", "/api/rooms/expo:demo/layout")
        f = next(f for f in lay["features"] if f.get("booth_id") == booth)
        assert f["color"] == "#aa3300" and f["label"]["zh-CN"] == "新名字"
        assert f["banner"]["en"] == "Come and see"
        # A blocked phrase refuses the whole save: nothing changes.
        status, err = await ex.call("PUT", f"/api/expo/booths/{booth}",
                                    {**profile, "banner": {"zh-CN": "代开发票"}})
        assert status == 403 and err["error"]["code"] == "blocked"
        assert server.app.expo.booths[booth].banner["zh-CN"] == ""
        for bad in ({**profile, "color": "red"}, {**profile, "category": "weapons"},
                    {**profile, "videos": [{"url": "javascript:alert(1)"}]},
                    {**profile, "name": {"en": ""}}):
            status, err = await ex.call("PUT", f"/api/expo/booths/{booth}", bad)
            assert status == 422, bad
        assert server.app.expo.booths[booth].color == "#aa3300"
        # The directory finds it by name, keyword and category, in both languages.
        for q in ("new name", "饺子", "dumpl", "新名"):
            status, found = await v.call("GET", f"/api/expos/demo/booths?q={q}")
            assert booth in [x["id"] for x in found], q
        status, found = await v.call("GET", "/api/expos/demo/booths?category=food")
        assert {x["id"] for x in found} == {booth, "demo-jiangnan"}
        status, found = await v.call("GET", "/api/expos/demo/booths?q=zzzz")
        assert found == []
        assert (await v.call("GET", "/api/expos/demo/booths?category=weapons"))[0] == 422
        # Favourites.
        assert (await v.call("PUT", f"/api/expo/favourites/{booth}"))[0] == 200
        ack = await looker.call("expo.directory", {"expo_id": "demo", "q": "new"})
        assert ack["ok"] and ack["booths"][0]["favourite"] is True
        assert (await v.call("GET", "/api/me/expo"))[1]["favourites"] == [booth]
        assert (await v.call("DELETE", f"/api/expo/favourites/{booth}"))[0] == 200
        assert (await v.call("GET", "/api/me/expo"))[1]["favourites"] == []
    finally:
        await looker.close()


async def test_analytics_and_heatmap_over_http(server: LiveServer) -> None:
    admin = await organiser(server)
    ex, _, booth = await exhibitor(server, admin, "figures", "b56")
    v, _ = await visitor(server, "Counted")
    status, stats = await ex.call("GET", f"/api/expo/booths/{booth}/analytics")
    assert status == 200 and stats["visitors"] == 0 and stats["leads"] == 0
    await v.call("POST", f"/api/expo/booths/{booth}/lead",
                 {"consent": True, "contact": {"email": "c@example.org"}})
    status, stats = await ex.call("GET", f"/api/expo/booths/{booth}/analytics")
    assert stats["leads"] == 1
    status, headers, png = await ex.raw("GET", f"/api/expo/halls/expo:demo/heatmap.png?booth={booth}")
    assert status == 200 and headers["Content-Type"] == "image/png" and png[:4] == b"\x89PNG"
    assert (await v.raw("GET", "/api/expo/halls/expo:demo/heatmap.png"))[0] == 403
    assert (await admin.raw("GET", "/api/expo/halls/expo:demo/heatmap.png"))[0] == 200


async def test_the_way_to_the_stage_goes_around_the_booths(server: LiveServer) -> None:
    from rooms.expo.layout import DEMO_HALL, plan_hall
    from rooms.hall.path import rects_from_features
    from rooms.stage import stage_area

    plan = plan_hall(DEMO_HALL)
    area = stage_area(plan.layout)
    assert area is not None
    v, _ = await visitor(server, "Audience")
    c = await connect(server.url, v.token)
    try:
        assert not (await c.call("expo.path", {"to": "stage"}))["ok"]  # not in a hall yet
        ack = await c.call("join", {"room": "expo:demo"})
        bad = await c.call("expo.path", {"to": "booth"})
        assert bad["error"]["code"] == "bad_request" and bad["error"]["field"] == "to"
        # From the entrance's far corner the straight line to the stage crosses booths.
        spawn = ack["spawn"]
        corner = [plan.layout.spawn_area[0] + 0.5, 0, spawn[2]]
        await walk(c, spawn, (corner[0], corner[2]))
        way = await c.call("expo.path", {"to": "stage"})
        assert way["ok"] and way["here"], way
        goal = way["goal"]
        assert area.contains(goal[0], goal[1])
        rects = rects_from_features(plan.layout.features)
        points = way["path"]
        assert len(points) > 2  # not a straight line
        for (ax, az), (bx, bz) in zip(points, points[1:], strict=False):
            for i in range(21):  # no leg of the path runs through a booth or the stage
                x, z = ax + (bx - ax) * i / 20, az + (bz - az) * i / 20
                assert not any(r[0] < x < r[1] and r[2] < z < r[3] for r in rects), (x, z)
        assert points[-1] == goal
    finally:
        await c.close()
