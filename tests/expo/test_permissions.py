"""Who may do what: exhibitor A cannot touch booth B (profile, files, leads, figures, slots);
only organisers create, publish and invite; an unpublished expo is closed to visitors. Every
refusal leaves the stored state as it was."""

from __future__ import annotations

from tests.expo.crafted import png
from tests.expo.live import exhibitor, organiser, visitor
from tests.hall.fakes import live_token
from tests.helpers import LiveServer, connect

PROFILE = {"name": {"zh-CN": "甲公司", "en": "A Corp"}, "color": "#112233", "category": "tech"}


async def test_exhibitor_a_cannot_act_on_booth_b(server: LiveServer) -> None:
    admin = await organiser(server)
    a, _, booth_a = await exhibitor(server, admin, "alice", "b1")
    b, _, booth_b = await exhibitor(server, admin, "bob", "b2")
    before = server.app.expo.booths[booth_b].to_wire()
    files_before = len(server.app.expo.booths[booth_b].files)

    assert (await a.call("PUT", f"/api/expo/booths/{booth_a}", PROFILE))[0] == 200
    for method, path, body in (
            ("PUT", f"/api/expo/booths/{booth_b}", PROFILE),
            ("GET", f"/api/expo/booths/{booth_b}/leads", None),
            ("GET", f"/api/expo/booths/{booth_b}/leads.csv", None),
            ("GET", f"/api/expo/booths/{booth_b}/leads.xlsx", None),
            ("GET", f"/api/expo/booths/{booth_b}/analytics", None),
            ("GET", f"/api/expo/booths/{booth_b}/presence", None),
            ("GET", f"/api/expo/booths/{booth_b}/meetings", None),
            ("POST", f"/api/expo/booths/{booth_b}/slots",
             {"start": 4_000_000_000_000, "minutes": 30}),
            ("DELETE", f"/api/expo/booths/{booth_b}/files/{'0' * 32}", None)):
        status, body = await a.call(method, path, body)
        assert status == 403, (method, path, status, body)
        assert body["error"]["code"] == "forbidden"
    status, body = await a.upload(booth_b, png(), "x.png", "image/png")
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert server.app.expo.booths[booth_b].to_wire() == before
    assert len(server.app.expo.booths[booth_b].files) == files_before
    # Over the socket too.
    c = await connect(server.url, a.token)
    try:
        ack = await c.call("lead.list", {"booth_id": booth_b})
        assert not ack["ok"] and ack["error"]["code"] == "forbidden"
        ack = await c.call("slot.add", {"booth_id": booth_b, "start": 4_000_000_000_000,
                                        "minutes": 30})
        assert not ack["ok"] and ack["error"]["code"] == "forbidden"
    finally:
        await c.close()


async def test_a_visitor_and_even_the_organiser_cannot_read_a_booths_leads(
        server: LiveServer) -> None:
    admin = await organiser(server)
    _, _, booth = await exhibitor(server, admin, "carol", "b3")
    guest, _ = await visitor(server, "Vic")
    assert (await guest.call("PUT", f"/api/expo/booths/{booth}", PROFILE))[0] == 403
    assert (await guest.call("GET", f"/api/expo/booths/{booth}/leads"))[0] == 403
    assert (await admin.call("GET", f"/api/expo/booths/{booth}/leads"))[0] == 403
    assert (await admin.call("PUT", f"/api/expo/booths/{booth}", PROFILE))[0] == 200
    assert (await admin.call("GET", f"/api/expo/booths/{booth}/analytics"))[0] == 200


async def test_only_organisers_create_publish_and_invite(server: LiveServer) -> None:
    admin = await organiser(server)
    guest, _ = await visitor(server, "Vic")
    spec = {"id": "spring", "name": {"zh-CN": "春季展", "en": "Spring Fair"},
            "halls": [{"rows": 2, "cols": 3}]}
    status, body = await guest.call("POST", "/api/expos", spec)
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert (await guest.call("POST", "/api/expos/demo/exhibitors",
                             {"username": "mallory", "company": "M", "slot": "b9"}))[0] == 403
    assert (await guest.call("POST", "/api/expos/demo/publish", {"published": False}))[0] == 403
    status, expo = await admin.call("POST", "/api/expos", spec)
    assert status == 201 and expo["published"] is False
    assert expo["halls"][0]["room_id"] == "expo:spring" and expo["halls"][0]["slots"] == 6
    assert (await admin.call("POST", "/api/expos", spec))[0] == 409
    # Unpublished: hidden from visitors, not in the room list, joins refused.
    assert [e["id"] for e in (await guest.call("GET", "/api/expos"))[1]] == ["demo"]
    assert (await guest.call("GET", "/api/expos/spring"))[0] == 403
    rooms = (await guest.call("GET", "/api/rooms"))[1]
    assert "expo:spring" not in [r["id"] for r in rooms]
    token, _ = await live_token(server.app, "Early")
    c = await connect(server.url, token)
    try:
        ack = await c.call("join", {"room": "expo:spring"})
        assert not ack["ok"] and ack["error"]["code"] == "forbidden"
        # The layout is the expo's own grid: 2 × 3 booths and a stage.
        status, lay = await guest.call("GET", "/api/rooms/expo:spring/layout")
        assert status == 200
        assert sorted(f["id"] for f in lay["features"] if f["type"] == "booth") == \
            ["b1", "b2", "b3", "b4", "b5", "b6"]
        assert (await admin.call("POST", "/api/expos/spring/publish", {"published": True}))[0] == 200
        assert "expo:spring" in [r["id"] for r in (await guest.call("GET", "/api/rooms"))[1]]
        ack = await c.call("join", {"room": "expo:spring"})
        assert ack["ok"], ack
    finally:
        await c.close()
    status, body = await admin.call("POST", "/api/expos/spring/exhibitors",
                                    {"username": "dave", "company": "D", "slot": "b99"})
    assert status == 404


async def test_an_exhibitor_runs_one_booth_and_a_slot_holds_one_company(
        server: LiveServer) -> None:
    admin = await organiser(server)
    _, _, booth = await exhibitor(server, admin, "erin", "b4", "Erin Ltd")
    # Erin again, elsewhere: refused (an account runs one booth).
    status, body = await admin.call("POST", "/api/expos/demo/exhibitors",
                                    {"username": "erin", "company": "Erin Ltd", "slot": "b5"})
    assert status == 409, body
    assert ("expo:demo", "b5") not in server.app.expo.by_slot  # nothing was created
    # A colleague invited to the same slot joins that booth.
    status, body = await admin.call("POST", "/api/expos/demo/exhibitors",
                                    {"username": "frank", "company": "ignored", "slot": "b4"})
    assert status == 201 and body["booth"]["id"] == booth
    assert body["booth"]["company"] == "Erin Ltd"
    status, ex = await admin.call("GET", "/api/expos/demo/exhibitors")
    assert status == 200 and {e["booth_id"] for e in ex if e["slot"] == "b4"} == {booth}
