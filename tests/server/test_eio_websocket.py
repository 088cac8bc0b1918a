"""The lean Engine.IO WebSocket session (server/eio_websocket.py): the polling → WebSocket
upgrade, a peer that stops answering pings, order between queued and directly written messages,
and a reader that stops reading."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import msgpack
import socketio

from server.eio_websocket import MAX_UNSENT, write_now, ws_binary_frame
from server.outbox import encode_snap_packet
from tests.helpers import LiveServer, connect, guest, wait_for

WS_PATH = "/socket.io/?EIO=4&transport=websocket"


async def _raw(http: aiohttp.ClientSession, url: str, token: str) -> aiohttp.ClientWebSocketResponse:
    """A bare WebSocket to Engine.IO: the OPEN packet read (and checked), Socket.IO CONNECT sent."""
    ws = await http.ws_connect(url.replace("http", "ws") + WS_PATH)
    opened = await ws.receive(timeout=5)
    assert opened.type == aiohttp.WSMsgType.TEXT and opened.data.startswith("0"), opened
    await ws.send_bytes(msgpack.packb({"type": 0, "nsp": "/", "data": {"token": token}}))
    return ws


async def _moving(server: LiveServer, name: str) -> tuple[Any, asyncio.Task[None]]:
    """A client in ``hall:main`` that walks to and fro at 10 Hz until its task is cancelled."""
    token, _ = await guest(server.url, name)
    c = await connect(server.url, token)
    ack = await c.call("join", {"room": "hall:main"})
    x, y, z, _yaw = ack["spawn"]

    async def walk() -> None:
        for i in range(10_000):
            await c.sio.emit("move", [x + (i % 20) * 0.1, y, z, 0.0, 1])
            await asyncio.sleep(0.1)

    return c, asyncio.create_task(walk())


async def test_a_polling_client_upgrades_and_sees_moves(server: LiveServer) -> None:
    walker, walking = await _moving(server, "Walker")
    token, _ = await guest(server.url, "Poller")
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    snaps: list[Any] = []
    sio.on("snap", lambda data: snaps.append(msgpack.unpackb(data)))
    try:
        await sio.connect(server.url, auth={"token": token}, transports=["polling", "websocket"],
                          wait_timeout=5)
        await wait_for(lambda: sio.transport() == "websocket", timeout=10)
        ack = await sio.call("join", {"room": "hall:main"}, timeout=5)
        assert ack["ok"] is True
        me = ack["self"]
        await wait_for(lambda: sum(len(s[1]) for s in snaps) >= 5, timeout=10)
        movers = {row[0] for s in snaps for row in s[1]} - {me}
        assert movers, snaps[:3]
    finally:
        walking.cancel()
        await sio.disconnect()
        await walker.close()


async def test_a_peer_that_stops_answering_pings_is_closed_and_leaves_the_room(
    server: LiveServer,
) -> None:
    eio = server.app.realtime.sio.eio
    eio.ping_interval, eio.ping_timeout = 0.3, 0.5
    token, user = await guest(server.url, "Mute")
    async with aiohttp.ClientSession() as http:
        ws = await _raw(http, server.url, token)
        await ws.send_bytes(msgpack.packb(
            {"type": 2, "nsp": "/", "data": ["join", {"room": "hall:main"}], "id": 1}))
        await wait_for(lambda: server.app.registry.members("hall:main") == 1, timeout=5)
        pings = 0
        closed = False
        for _ in range(200):  # read, never answer; bounded: ~20 s at most
            msg = await ws.receive(timeout=10)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                            aiohttp.WSMsgType.CLOSING):
                closed = True
                break
            if msg.type == aiohttp.WSMsgType.TEXT and msg.data == "2":
                pings += 1
        assert closed and pings >= 1
        await wait_for(lambda: server.app.registry.members("hall:main") == 0, timeout=5)
        assert not any(c.user.id == user["id"] for c in server.app.realtime.clients.values())


async def test_the_join_ack_always_arrives_before_the_first_snap(server: LiveServer) -> None:
    """The ack is queued (python-socketio's path) and snaps may be written directly: they must
    never overtake it."""
    walkers = [await _moving(server, f"W{i}") for i in range(3)]
    try:
        async with aiohttp.ClientSession() as http:
            for attempt in range(15):
                token, _ = await guest(server.url, f"Joiner{attempt}")
                ws = await _raw(http, server.url, token)
                await ws.send_bytes(msgpack.packb(
                    {"type": 2, "nsp": "/", "data": ["join", {"room": "hall:main"}], "id": 7}))
                order: list[str] = []
                for _ in range(100):
                    msg = await ws.receive(timeout=5)
                    if msg.type != aiohttp.WSMsgType.BINARY:
                        continue
                    pkt = msgpack.unpackb(msg.data)
                    if pkt["type"] == 3 and pkt.get("id") == 7:
                        order.append("ack")
                    elif pkt["type"] == 2 and pkt["data"][0] in ("snap", "enter"):
                        order.append(pkt["data"][0])
                    if "snap" in order:
                        break
                assert order and order[0] == "ack", order
                await ws.close()
    finally:
        for c, task in walkers:
            task.cancel()
            await c.close()


async def test_a_reader_that_stops_reading_is_bounded_and_dropped(server: LiveServer) -> None:
    """Written-at-once messages stop at ``MAX_UNSENT`` bytes in the transport; the rest queue,
    and a queue past the outbox's limit disconnects the client instead of growing memory."""
    rt = server.app.realtime

    def small_buffers(addr_info: Any) -> socket.socket:
        family, type_, proto, _, _ = addr_info
        s = socket.socket(family, type_, proto)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        return s

    token, user = await guest(server.url, "Stalled")
    connector = aiohttp.TCPConnector(socket_factory=small_buffers)
    async with aiohttp.ClientSession(connector=connector) as http:
        _stalled = await _raw(http, server.url, token)  # kept open; never read from again
        await wait_for(lambda: any(c.user.id == user["id"] for c in rt.clients.values()))
        client = next(c for c in rt.clients.values() if c.user.id == user["id"])
        sock = rt.outbox._socket(client.sid)
        transport = sock.metahall_ws._writer.transport
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        blob = "x" * 1024
        for i in range(3000):  # ~3 MB to a client that reads nothing from now on
            rt.outbox.emit(client.sid, "test.blob", blob)
            if i % 100 == 0:
                await asyncio.sleep(0)
        # written at once up to MAX_UNSENT, then by the writer task within aiohttp's flow control
        assert transport.get_write_buffer_size() < 8 * MAX_UNSENT
        assert sock.queue.qsize() > 2000
        assert rt.outbox.backlogged(client.sid) is True  # and disconnects it
        await wait_for(lambda: client.sid not in rt.clients, timeout=5)
        await wait_for(lambda: sock.sid not in rt.sio.eio.sockets, timeout=5)  # and its queue


class _Transport:
    def __init__(self, buffered: int = 0, closing: bool = False) -> None:
        self.buffered, self.closing, self.written = buffered, closing, bytearray()

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def write(self, data: bytes) -> None:
        self.written += data


class _Sock:
    def __init__(self, transport: _Transport, *, queued: int = 0, writing: bool = False,
                 compress: int = 0) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        for _ in range(queued):
            self.queue.put_nowait(object())
        self.metahall_writing = writing
        self.metahall_ws = type("WS", (), {"_compress": compress,
                                           "_writer": type("W", (), {"transport": transport})()})()


def test_write_now_writes_one_frame_only_when_nothing_is_ahead() -> None:
    data = encode_snap_packet(b"\x93\x01\x90\x90")
    t = _Transport()
    assert write_now(_Sock(t), data) is True
    assert bytes(t.written) == ws_binary_frame(data)
    assert t.written[0] == 0x82 and t.written[1] == len(data)
    for sock in (_Sock(_Transport(), queued=1), _Sock(_Transport(), writing=True),
                 _Sock(_Transport(), compress=15), _Sock(_Transport(closing=True)),
                 _Sock(_Transport(buffered=MAX_UNSENT + 1))):
        assert write_now(sock, data) is False
        assert not sock.metahall_ws._writer.transport.written
    polling = _Sock(_Transport())
    polling.metahall_ws = None
    assert write_now(polling, data) is False


def test_frames_use_the_length_forms_of_rfc_6455() -> None:
    for n, head in ((0, b"\x82\x00"), (125, b"\x82\x7d"), (126, b"\x82\x7e\x00\x7e"),
                    (65535, b"\x82\x7e\xff\xff"), (65536, b"\x82\x7f" + (65536).to_bytes(8, "big"))):
        frame = ws_binary_frame(b"a" * n)
        assert frame[: len(head)] == head and len(frame) == len(head) + n


async def test_packets_a_client_may_not_send_are_counted_quietly(
    server: LiveServer, caplog: Any
) -> None:
    """A client-sent PING (the server pings, not the client) used to raise inside engineio's
    loop; here it is counted, logs nothing, and the session goes on."""
    bad = server.app.metrics.bad_payloads.labels("eio")
    before = bad._value.get()
    token, _ = await guest(server.url, "Pinger")
    async with aiohttp.ClientSession() as http:
        ws = await _raw(http, server.url, token)
        for _ in range(50):
            await ws.send_str("2")
        await ws.send_bytes(msgpack.packb(
            {"type": 2, "nsp": "/", "data": ["join", {"room": "hall:main"}], "id": 3}))
        acked = False
        for _ in range(100):
            msg = await ws.receive(timeout=5)
            if msg.type == aiohttp.WSMsgType.BINARY:
                pkt = msgpack.unpackb(msg.data)
                if pkt["type"] == 3 and pkt.get("id") == 3:
                    acked = pkt["data"][0]["ok"] is True
                    break
        assert acked
        await ws.close()
    assert bad._value.get() - before == 50
    assert not [r for r in caplog.records if r.name.startswith("metahall.engineio")]
