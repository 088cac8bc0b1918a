"""The Engine.IO socket with the cheaper writer wait behaves like the library's."""

from __future__ import annotations

import asyncio

import pytest
from engineio import exceptions
from engineio.async_socket import AsyncSocket

from server.eio_socket import FastPollSocket, use_fast_poll
from tests.helpers import LiveServer, connect, guest


class _Server:
    ping_interval = 0.05
    ping_timeout = 0.05


def _socket(fast: bool = True) -> AsyncSocket:
    sock = AsyncSocket.__new__(AsyncSocket)
    sock.server = _Server()
    sock.queue = asyncio.Queue()
    if fast:
        use_fast_poll(sock)
        assert type(sock) is FastPollSocket
    return sock


async def test_poll_returns_what_the_library_poll_returns() -> None:
    for items in (["a", "b", None, "c"], [None], ["x"], ["a", None, None, "b", "c"]):
        outputs = []
        for fast in (False, True):
            sock = _socket(fast)
            for item in items:
                sock.queue.put_nowait(item)
            seen = []
            for _ in range(len(items) + 1):
                try:
                    seen.append(await sock.poll())
                except exceptions.QueueEmpty:
                    seen.append("empty")
                    break
            outputs.append(seen)
        assert outputs[0] == outputs[1], items
        assert outputs[1][0] == (items[: items.index(None)] if None in items else items)


async def test_poll_times_out_with_queue_empty() -> None:
    sock = _socket()
    with pytest.raises(exceptions.QueueEmpty):
        await sock.poll()


async def test_connected_sockets_use_it_and_traffic_flows(server: LiveServer) -> None:
    token, _ = await guest(server.url)
    c = await connect(server.url, token)
    try:
        assert any(type(s) is FastPollSocket for s in server.app.realtime.sio.eio.sockets.values())
        ack = await c.call("join", {"room": "hall:main"})
        assert ack["ok"] is True
    finally:
        await c.close()
