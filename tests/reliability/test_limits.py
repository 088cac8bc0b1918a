"""The per-process limits: frame size, event rate, connections per address and per account,
uploads in progress per account and in total. Each refusal is clean, counted and released."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

import server.realtime as realtime_mod
from server.limits import ConnectionLimits, UploadGate
from server.realtime import MAX_FRAME
from tests.expo import crafted
from tests.expo.live import Http, exhibitor, organiser
from tests.helpers import LiveServer, connect, guest, start_server, wait_for


async def try_connect(url: str, token: str,
                      headers: dict[str, str] | None = None) -> tuple[Any, Any]:
    """(client, None) when accepted, (None, connect_error data) when refused."""
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    refused: list[Any] = []
    sio.on("connect_error", refused.append)
    try:
        await sio.connect(url, auth={"token": token}, headers=headers or {},
                          transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        if not refused or not isinstance(refused[0], dict):
            return None, f"refused without data {refused}"
        return None, refused[0].get("data")  # python-socketio: {"message", "data"}
    return sio, None


def test_connection_counts_are_released_and_loopback_is_not_counted() -> None:
    lim = ConnectionLimits(per_ip=2, per_user=2)
    assert lim.acquire("203.0.113.1", "a") is None
    assert lim.acquire("203.0.113.1", "b") is None
    refusal = lim.acquire("203.0.113.1", "c")
    assert refusal is not None and refusal["code"] == "rate_limited" and refusal["limit"] == "ip"
    assert set(refusal["text"]) == {"zh-CN", "en"}
    assert lim.acquire("::1", "c") is None and lim.acquire("127.0.0.1", "c") is None
    assert lim.acquire("127.0.0.9", "c")["limit"] == "user"  # type: ignore[index]
    lim.release("203.0.113.1", "a")
    assert lim.acquire("203.0.113.1", "d") is None
    for ip, user in (("203.0.113.1", "b"), ("203.0.113.1", "d"), ("::1", "c"),
                     ("127.0.0.1", "c")):
        lim.release(ip, user)
    assert lim.by_ip == {} and lim.by_user == {}


def test_upload_gate_counts_per_user_and_in_total() -> None:
    gate = UploadGate(per_user=1, total=2)
    with gate.slot("a"), gate.slot("b"):
        with pytest.raises(Exception) as per_user:
            with gate.slot("a", "zh-CN"):
                pass
        assert per_user.value.to_wire()["limit"] == "user"  # type: ignore[attr-defined]
        assert "上传" in per_user.value.to_wire()["message"]  # type: ignore[attr-defined]
        with pytest.raises(Exception) as total:
            with gate.slot("c"):
                pass
        assert total.value.to_wire()["limit"] == "total"  # type: ignore[attr-defined]
    assert gate.running == 0 and gate.active == {}
    with pytest.raises(RuntimeError), gate.slot("a"):
        raise RuntimeError("a failed upload")
    assert gate.running == 0 and gate.active == {}


async def test_connections_per_account(tmp_path: Path) -> None:
    live = await start_server(tmp_path, max_connections_per_user=3)
    try:
        token, _ = await guest(live.url, "tabs")
        tabs = [await connect(live.url, token) for _ in range(3)]
        sio, refusal = await try_connect(live.url, token)
        assert sio is None and isinstance(refusal, dict), refusal
        assert refusal["code"] == "rate_limited" and refusal["limit"] == "user"
        assert refusal["max"] == 3 and set(refusal["text"]) == {"zh-CN", "en"}
        other, _ = await guest(live.url, "someone else")
        c = await connect(live.url, other)  # another account is not affected
        await tabs[0].close()
        await wait_for(lambda: sum(1 for cl in live.app.realtime.clients.values()
                                   if cl.user.display_name == "tabs") == 2)
        sio, refusal = await try_connect(live.url, token)  # the closed tab gave its place back
        assert sio is not None, refusal
        metrics = live.app.metrics.render().decode()
        assert 'metahall_limit_refusals_total{limit="connections_per_user"} 1.0' in metrics
        for t in (*tabs[1:], c):
            await t.close()
        await sio.disconnect()
        await wait_for(lambda: not live.app.realtime.limits.by_user)
    finally:
        await live.close()


async def test_connections_per_address_behind_a_trusted_proxy(tmp_path: Path) -> None:
    live = await start_server(tmp_path, max_connections_per_ip=3,
                              trusted_proxies=("127.0.0.1",))
    try:
        tokens = [(await guest(live.url, f"ip{i}"))[0] for i in range(6)]
        fwd = {"X-Forwarded-For": "203.0.113.7"}
        held = []
        for t in tokens[:3]:
            sio, refusal = await try_connect(live.url, t, fwd)
            assert sio is not None, refusal
            held.append(sio)
        sio, refusal = await try_connect(live.url, tokens[3], fwd)
        assert sio is None and refusal["code"] == "rate_limited" and refusal["limit"] == "ip"
        # Another address, and the proxy's own (loopback, not counted), still get in.
        sio2, refusal = await try_connect(live.url, tokens[4], {"X-Forwarded-For": "198.51.100.2"})
        assert sio2 is not None, refusal
        sio3, refusal = await try_connect(live.url, tokens[5])
        assert sio3 is not None, refusal
        assert live.app.realtime.limits.by_ip == {"203.0.113.7": 3, "198.51.100.2": 1}
        await held[0].disconnect()
        await wait_for(lambda: live.app.realtime.limits.by_ip.get("203.0.113.7") == 2)
        sio4, refusal = await try_connect(live.url, tokens[3], fwd)
        assert sio4 is not None, refusal
        assert 'limit="connections_per_ip"} 1.0' in live.app.metrics.render().decode()
        for s in (*held[1:], sio2, sio3, sio4):
            await s.disconnect()
    finally:
        await live.close()


async def test_event_rate_and_frame_size(server: LiveServer,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # The budget's burst is spent at once; its refill is slowed down so that the count does
    # not depend on how fast this (shared, noisy) machine sends.
    monkeypatch.setattr(realtime_mod, "EVENTS_BURST", 20.0)
    monkeypatch.setattr(realtime_mod, "EVENTS_PER_S", 0.001)
    t1, _ = await guest(server.url, "chatty")
    t2, _ = await guest(server.url, "bystander")
    chatty, bystander = await connect(server.url, t1), await connect(server.url, t2)
    assert (await bystander.call("join", {"room": "hall:main"}))["ok"]
    acks = await asyncio.gather(*(chatty.call("hall.services", {}) for _ in range(50)))
    codes = [a["error"]["code"] if not a["ok"] else "ok" for a in acks]
    assert codes.count("ok") == 20 and codes.count("rate_limited") == 30, codes
    await chatty.sio.emit("hall.services", {})  # without an ack: dropped and counted
    assert (await bystander.call("hall.services", {}))["ok"]  # budgets are per connection
    monkeypatch.setattr(realtime_mod, "EVENTS_PER_S", 30.0)
    await asyncio.sleep(0.5)  # the budget refills (30 a second)
    assert (await chatty.call("hall.services", {}))["ok"]
    assert 'metahall_bad_payloads_total{reason="rate_limited"}' in server.app.metrics.render().decode()
    # A frame over 64 KiB closes the sender's connection only.
    await chatty.sio.emit("chat", {"channel": "room", "text": "x" * (MAX_FRAME + 10)})
    await wait_for(lambda: not chatty.sio.connected, timeout=10)
    assert bystander.sio.connected
    assert (await bystander.call("chat", {"channel": "room", "text": "fine"}))["ok"]
    await bystander.close()


def _multipart(boundary: str, data: bytes, filename: str, ctype: str) -> tuple[bytes, bytes]:
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nimage\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n").encode()
    return head + data[:10], data[10:] + f"\r\n--{boundary}--\r\n".encode()


async def _slow_upload(http: Http, booth: str, release: asyncio.Event,
                       lang: str = "en") -> tuple[int, Any]:
    first, rest = _multipart("limitsB", crafted.png(), "a.png", "image/png")

    async def body() -> AsyncIterator[bytes]:
        yield first
        await release.wait()
        yield rest

    async with aiohttp.ClientSession() as s, s.post(
            f"{http.url}/api/expo/booths/{booth}/files", data=body(),
            headers={"Authorization": f"Bearer {http.token}", "Accept-Language": lang,
                     "Content-Type": "multipart/form-data; boundary=limitsB"}) as r:
        return r.status, await r.json(content_type=None)


async def test_uploads_in_progress_per_user_and_in_total(tmp_path: Path) -> None:
    live = await start_server(tmp_path, max_uploads_per_user=2, max_uploads_total=3)
    try:
        admin = await organiser(live)
        ex1, uid1, booth1 = await exhibitor(live, admin, "up1", "b10")
        ex2, _uid2, booth2 = await exhibitor(live, admin, "up2", "b11")
        gate = live.app.expo_parts.uploads
        release = asyncio.Event()
        slow = [asyncio.create_task(_slow_upload(ex1, booth1, release)) for _ in range(2)]
        await wait_for(lambda: gate.active.get(uid1) == 2)
        status, body = await _slow_upload(ex1, booth1, asyncio.Event(), lang="zh-CN")
        assert status == 429 and body["error"]["code"] == "rate_limited", body
        assert body["error"]["limit"] == "user" and "上传" in body["error"]["message"]
        assert set(body["error"]["text"]) == {"zh-CN", "en"}
        slow.append(asyncio.create_task(_slow_upload(ex2, booth2, release)))
        await wait_for(lambda: gate.running == 3)
        status, body = await ex2.upload(booth2, crafted.png(), "b.png", "image/png")
        assert status == 429 and body["error"]["limit"] == "total", body
        release.set()
        done = await asyncio.gather(*slow)
        assert [s for s, _ in done] == [201, 201, 201], done
        assert gate.running == 0 and gate.active == {}
        status, body = await ex2.upload(booth2, crafted.png(), "b.png", "image/png")
        assert status == 201, body
        metrics = live.app.metrics.render().decode()
        assert 'metahall_limit_refusals_total{limit="uploads_user"} 1.0' in metrics
        assert 'metahall_limit_refusals_total{limit="uploads_total"} 1.0' in metrics
    finally:
        await live.close()
