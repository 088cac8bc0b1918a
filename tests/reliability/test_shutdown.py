"""Graceful shutdown of a real ``metahall serve`` process: on SIGTERM/SIGINT every connected
client is told (``system`` with code ``shutdown``) before its connection closes, the process
exits cleanly, and clients -- the lean bots and a python-socketio client left to reconnect by
itself -- get back in once the server is up again. (The browser client's side is in
tests/browser/test_webclient.py.)"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from loadtest.soak import Bot, Soak, build_parser, server_env, start_server
from loadtest.sysmon import free_port

BOTS = 5


async def _bots(url: str, n: int) -> tuple[Soak, aiohttp.ClientSession, list[Bot]]:
    soak = Soak(build_parser().parse_args(["--url", url]), url)
    http = aiohttp.ClientSession()
    bots = [Bot(i, f"down-{i}") for i in range(n)]
    for b in bots:
        assert await soak.attach(http, b), soak.tally.errors
    return soak, http, bots


async def _sio_client(url: str, token: str) -> tuple[socketio.AsyncClient, dict[str, Any]]:
    """A python-socketio client that does what the notice asks: after ``system``/``shutdown``
    and the disconnect that follows, it reconnects (with backoff) and joins its room again.
    (A server-side disconnect is final for Socket.IO's own reconnection, so this is the
    client's job.)"""
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    seen: dict[str, Any] = {"system": [], "connects": 0, "rejoined": asyncio.Event(),
                            "tasks": set()}

    async def come_back() -> None:
        delay = 0.2
        for _ in range(100):  # bounded: about 30 s at most
            await asyncio.sleep(delay)
            try:
                await sio.connect(url, auth={"token": token}, transports=["websocket"],
                                  wait_timeout=5)
            except (socketio.exceptions.ConnectionError, ValueError):  # ValueError: still closing
                delay = min(1.0, delay * 1.5)
                continue
            ack = await sio.call("join", {"room": "hall:main"}, timeout=10)
            if ack.get("ok"):
                seen["rejoined"].set()
            return

    @sio.on("system")
    def on_system(data: Any) -> None:
        seen["system"].append(data)

    @sio.on("connect")
    def on_connect() -> None:
        seen["connects"] += 1

    @sio.on("disconnect")
    def on_disconnect(*_: Any) -> None:
        if seen["system"] and seen["system"][-1].get("code") == "shutdown":
            task = asyncio.get_running_loop().create_task(come_back())
            seen["tasks"].add(task)
            task.add_done_callback(seen["tasks"].discard)

    await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    return sio, seen


async def _wait_exit(proc: asyncio.subprocess.Process) -> int:
    try:
        return await asyncio.wait_for(proc.wait(), 20.0)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError("the server did not exit after the signal") from None


async def test_sigterm_tells_clients_and_they_come_back(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = await start_server(env, port, tmp_path / "server.log", pin=False)
    soak, http, bots = await _bots(url, BOTS)
    sio, seen = await _sio_client(url, bots[0].token)
    try:
        ack = await sio.call("join", {"room": "hall:main"}, timeout=10)
        assert ack["ok"]
        for b in bots:
            b.closing = True  # the server closes them now: not an error
        os.kill(proc.pid, signal.SIGTERM)
        assert await _wait_exit(proc) == 0
        await asyncio.wait_for(asyncio.gather(*(b.reader for b in bots if b.reader)), 10.0)
        assert all(b.shutdown_notice for b in bots)
        assert all(b.conn is not None and b.conn.closed for b in bots)
        assert [d["code"] for d in seen["system"]] == ["shutdown"]
        assert set(seen["system"][0]["text"]) == {"zh-CN", "en"}

        # up again on the same data: the same tokens work, the room takes everyone back
        proc = await start_server(env, port, tmp_path / "server2.log", pin=False)
        await asyncio.wait_for(seen["rejoined"].wait(), 30.0)
        assert seen["connects"] == 2
        for b in bots:
            b.closing, b.shutdown_notice = False, False
            assert await soak.attach(http, b), soak.tally.errors
            assert b.walking
        assert soak.tally.errors == {}

        # and Ctrl-C (SIGINT) drains the same way
        for b in bots:
            b.closing = True
        os.kill(proc.pid, signal.SIGINT)
        assert await _wait_exit(proc) == 0
        await asyncio.wait_for(asyncio.gather(*(b.reader for b in bots if b.reader)), 10.0)
        assert all(b.shutdown_notice for b in bots)
        assert [d["code"] for d in seen["system"]] == ["shutdown", "shutdown"]
    finally:
        await sio.disconnect()
        for b in bots:
            await soak.detach(b)
        await http.close()
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await _wait_exit(proc)
