"""Evasion: disguised terms, a fresh sign-in after a ban, and a second server process."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.helpers import connect, guest, start_server, wait_for
from tests.moderation_server.conftest import account, api, cases
from tests.moderation_server.test_actions import refused_connect

BLOCKED = ["ＦＲＥＥ ＢＩＴＣＯＩＮ", "f.r.e.e b1tc0in", "free\u200bbitcoin", "代開發票",
           "代 开 发 票"]
FLAGGED = ["C L I C K  H E R E", "ｃｌｉｃｋ ｈｅｒｅ", "加 微 信", "加.微.信"]


async def test_disguised_terms_are_caught_and_recorded(tmp_path: Path) -> None:
    server = await start_server(tmp_path)
    try:
        mt, _ = await account(server, "moderator")
        tokens = [await guest(server.url, f"Sneaky{i}") for i in range(len(FLAGGED))]
        clients = [await connect(server.url, t) for t, _ in tokens]
        for c in clients:
            await c.call("join", {"room": "hall:main"})
        for text in BLOCKED:
            ack = await clients[0].call("chat", {"channel": "room", "text": f"{text} today"})
            assert ack["ok"] is False and ack["error"]["code"] == "blocked", text
        for c, text in zip(clients, FLAGGED, strict=True):
            assert (await c.call("chat", {"channel": "room", "text": text}))["ok"] is True
        found = await cases(server, mt)
        assert len(found) == len(FLAGGED)  # one case per flagged person
        assert sorted(x["n_verdicts"] for x in found) == [1] * len(FLAGGED)
        for c in clients:
            await c.close()
    finally:
        await server.close()


async def test_a_fresh_sign_in_does_not_escape_a_ban(tmp_path: Path) -> None:
    server = await start_server(tmp_path)
    try:
        mt, _ = await account(server, "moderator")
        async with aiohttp.ClientSession() as http:
            body = {"username": "evader", "password": "long-enough-1", "display_name": "Ev"}
            async with http.post(server.url + "/api/auth/register", json=body) as resp:
                user = (await resp.json())["user"]
            code, _ = await api(server, "POST", "/api/mod/actions", mt, {
                "action": "ban", "user_id": user["id"], "duration_s": 86400, "note": "evading"})
            assert code == 201
            async with http.post(server.url + "/api/auth/login",
                                 json={"username": "evader", "password": "long-enough-1"}) as r:
                fresh = (await r.json())["token"]
        assert (await refused_connect(server.url, fresh))["data"]["code"] == "banned"
        code, mine = await api(server, "GET", "/api/me/moderation", fresh)
        assert code == 200 and mine["actions"][0]["action"] == "ban"  # they can read why
    finally:
        await server.close()


async def test_a_second_server_process_applies_bans_and_terms(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METAHALL_MODERATION_SYNC_S", "0.1")
    a = await start_server(tmp_path)
    b = await start_server(tmp_path)  # same database and secret: another process of the city
    try:
        at, _ = await account(a, "admin")
        ut, user = await guest(b.url, "OnB")
        u = await connect(b.url, ut)
        await u.call("join", {"room": "hall:main"})
        code, _ = await api(a, "POST", "/api/mod/terms", at, {"text": "qwxzz", "action": "block"})
        assert code == 201
        await wait_for(lambda: any(t.text == "qwxzz" for t in b.app.moderation.terms.terms))
        ack = await u.call("chat", {"channel": "room", "text": "qwxzz"})
        assert ack["error"]["code"] == "blocked"
        code, _ = await api(a, "POST", "/api/mod/actions", at, {
            "action": "ban", "user_id": user["id"], "note": "seen on b"})
        assert code == 201
        note = await u.wait("moderation")
        assert note["action"] == "ban" and "permanently" in note["message"]
        await wait_for(lambda: not u.sio.connected)
        assert (await refused_connect(b.url, ut))["data"]["code"] == "banned"
    finally:
        await b.close()
        await a.close()
