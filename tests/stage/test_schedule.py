"""The talk schedule: only admins edit it, everyone reads it, bad input changes nothing, and it
survives a restart."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.helpers import start_server
from tests.stage.conftest import ROOM, StageEnv, now_ms


async def test_only_admins_schedule_talks_and_everyone_sees_them(stage: StageEnv) -> None:
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    visitor = await stage.person("Visitor")
    a = await stage.connect(admin)
    s = await stage.connect(speaker)
    v = await stage.connect(visitor)
    body = {"room": ROOM, "title": {"zh-CN": "智慧城市", "en": "Smart city"},
            "speaker_id": speaker.id, "start": now_ms() + 3_600_000,
            "end": now_ms() + 5_400_000, "mode": "live"}
    for c in (s, v):
        ack = await c.call("stage.create", body)
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", ack
    ack = await a.call("stage.create", body)
    assert ack["ok"], ack
    talk = ack["talk"]
    assert talk["speaker"] == {"id": speaker.id, "display_name": "Speaker"}
    assert talk["status"] == "upcoming" and talk["live"] is None and talk["mode"] == "live"
    # Everyone in the room was told; everyone can list it.
    got = await v.wait("stage.talk", lambda d: d.get("talk", {}).get("id") == talk["id"])
    assert got["talk"]["title"]["zh-CN"] == "智慧城市"
    listing = await v.call("stage.list", {})
    assert [t["id"] for t in listing["talks"]] == [talk["id"]]
    assert listing["now"] is None and listing["area"]["z0"] < -40 < listing["area"]["z1"]
    async with aiohttp.ClientSession() as http, \
            http.get(f"{stage.server.url}/api/stage/talks?room={ROOM}") as resp:
        assert resp.status == 200
        assert [t["id"] for t in await resp.json()] == [talk["id"]]

    # Editing and removing: admin only.
    ack = await s.call("stage.update", {"talk_id": talk["id"], "title": {"zh-CN": "x", "en": "x"}})
    assert ack["error"]["code"] == "forbidden"
    ack = await a.call("stage.update", {"talk_id": talk["id"],
                                        "title": {"zh-CN": "智慧城市 2", "en": "Smart city 2"},
                                        "mode": "embed", "embed_url": "https://live.example.com/hls"})
    assert ack["ok"], ack
    assert ack["talk"]["mode"] == "embed" and ack["talk"]["title"]["en"] == "Smart city 2"
    assert (await v.call("stage.delete", {"talk_id": talk["id"]}))["error"]["code"] == "forbidden"
    ack = await a.call("stage.delete", {"talk_id": talk["id"]})
    assert ack == {"ok": True, "deleted": talk["id"]}
    await v.wait("stage.talk", lambda d: d.get("deleted") == talk["id"])
    assert (await v.call("stage.list", {}))["talks"] == []


async def test_bad_talks_are_refused_and_nothing_is_stored(stage: StageEnv) -> None:
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    visitor = await stage.person("Visitor")
    a = await stage.connect(admin)
    t0 = now_ms() + 3_600_000
    good = {"room": ROOM, "title": {"zh-CN": "题目", "en": "Title"}, "speaker_id": speaker.id,
            "start": t0, "end": t0 + 1_800_000, "mode": "live"}
    cases = [
        ({"room": "hall:main"}, "bad_request"),
        ({"room": "expo:nowhere"}, "bad_request"),
        ({"title": {"en": "only english"}}, "bad_request"),
        ({"title": {"zh-CN": "  ", "en": "x"}}, "bad_request"),
        ({"speaker_id": visitor.id}, "bad_request"),  # a citizen cannot be a speaker
        ({"speaker_id": "f" * 32}, "bad_request"),
        ({"end": t0 - 1}, "bad_request"),
        ({"end": t0 + 13 * 3_600_000}, "bad_request"),
        ({"start": "tomorrow"}, "bad_request"),
        ({"mode": "hologram"}, "bad_request"),
        ({"mode": "embed"}, "bad_request"),  # an embed talk needs its URL
        ({"embed_url": "http://live.example.com/x"}, "bad_request"),
        ({"embed_url": "https://user:pw@live.example.com/x"}, "bad_request"),
        ({"embed_url": "https://127.0.0.1/x"}, "bad_request"),
        ({"embed_url": "https://localhost/x"}, "bad_request"),
        ({"embed_url": "javascript:alert(1)"}, "bad_request"),
        ({"embed_url": "https://live.example.com/a b"}, "bad_request"),
    ]
    for change, code in cases:
        ack = await a.call("stage.create", {**good, **change})
        assert ack["ok"] is False and ack["error"]["code"] == code, (change, ack)
    assert (await a.call("stage.list", {}))["talks"] == []
    assert (await a.call("stage.create", {**good, "mode": "embed",
                                          "embed_url": "https://live.example.com/stage.m3u8"}))["ok"]
    # One stage per room: an overlapping talk is a conflict; back to back is fine.
    ack = await a.call("stage.create", {**good, "start": t0 + 600_000, "end": t0 + 2_400_000})
    assert ack["error"]["code"] == "conflict", ack
    assert (await a.call("stage.create", {**good, "start": t0 + 1_800_000,
                                          "end": t0 + 3_600_000}))["ok"]
    assert len((await a.call("stage.list", {"room": ROOM}))["talks"]) == 2
    for bad in ({"talk_id": "nope"}, {"talk_id": 5}, None, "x"):
        ack = await a.call("stage.update", bad)
        assert ack["ok"] is False and ack["error"]["code"] in ("bad_request", "not_found"), ack


async def test_http_schedule_needs_admin_and_survives_a_restart(tmp_path: Path) -> None:
    server = await start_server(tmp_path)
    env = StageEnv(server, [])
    admin = await env.person("Organiser", "admin")
    speaker = await env.person("Speaker", "exhibitor")
    t0 = now_ms() + 3_600_000
    body = {"room": ROOM, "title": {"zh-CN": "开幕", "en": "Opening"}, "speaker_id": speaker.id,
            "start": t0, "end": t0 + 1_800_000, "mode": "slides"}
    try:
        async with aiohttp.ClientSession() as http:
            url = f"{server.url}/api/stage/talks"
            async with http.post(url, json=body) as resp:
                assert resp.status == 401
            async with http.post(url, json=body,
                                 headers={"Authorization": f"Bearer {speaker.token}"}) as resp:
                assert resp.status == 403
            async with http.post(url, json=body,
                                 headers={"Authorization": f"Bearer {admin.token}"}) as resp:
                assert resp.status == 201, await resp.text()
                talk = (await resp.json())["talk"]
            async with http.patch(f"{url}/{talk['id']}", json={"embed_url": "ftp://x"},
                                  headers={"Authorization": f"Bearer {admin.token}"}) as resp:
                assert resp.status == 422
                assert (await resp.json())["error"]["code"] == "bad_request"
    finally:
        await server.close()
    server = await start_server(tmp_path)
    try:
        async with aiohttp.ClientSession() as http, \
                http.get(f"{server.url}/api/stage/talks/{talk['id']}") as resp:
            again = await resp.json()
        assert again["title"] == {"zh-CN": "开幕", "en": "Opening"}
        assert again["mode"] == "slides" and again["start"] == t0 and again["embed_url"] is None
    finally:
        await server.close()
