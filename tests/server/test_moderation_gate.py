"""Chat and display names pass the moderation hooks before anyone else sees them."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.helpers import LiveServer, connect, guest


async def test_blocked_chat_is_refused_in_the_senders_language_and_never_delivered(
        server: LiveServer) -> None:
    ta, _ = await guest(server.url, "A")
    tb, _ = await guest(server.url, "B")
    a = await connect(server.url, ta, lang="zh-CN")
    b = await connect(server.url, tb)
    try:
        await a.call("join", {"room": "social:cafe"})
        await b.call("join", {"room": "social:cafe"})
        ack = await a.call("chat", {"channel": "room", "text": "ＦＲＥＥ  b.i.t.c.o.i.n now"})
        assert ack["ok"] is False and ack["error"]["code"] == "blocked"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in ack["error"]["message"])  # zh-CN text
        ok = await a.call("chat", {"channel": "room", "text": "you are an idiot"})
        assert ok["ok"] is True
        seen = await b.wait("chat", lambda m: m["id"] == ok["id"])
        assert "idiot" not in seen["text"] and seen["text"].startswith("you are an ")
        await asyncio.sleep(0.1)
        assert all("bitcoin" not in m["text"].lower() for m in b.events["chat"])
        metrics = server.app.metrics.render().decode()
        assert 'metahall_moderation_verdicts_total{hook="check_chat",kind="block"} 1.0' in metrics
    finally:
        await a.close()
        await b.close()


async def test_display_name_on_the_term_list_is_refused(server: LiveServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + "/api/auth/guest",
                             json={"display_name": "代 开 發 票"}) as resp:
            assert resp.status == 403
            assert (await resp.json())["error"]["code"] == "blocked"
    assert await server.app.accounts.count() == 0
