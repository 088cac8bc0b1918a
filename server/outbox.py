"""The Socket.IO implementation of :class:`rooms.outbox.Outbox`.

Packets are encoded once and put straight on the Engine.IO socket's queue: no coroutine per
message, and ordering per client is the order of the calls. ``sio.emit`` costs about 8x more
per message (see DESIGN.md), which matters for the 10 Hz snapshot path.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import msgpack
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from server.metrics import Metrics
from server.rtc import BUFFER_SKIP_BYTES, split_snap

if TYPE_CHECKING:
    import socketio

__all__ = ["SocketOutbox", "encode_event", "encode_snap_packet"]

log = logging.getLogger("metahall.outbox")

_SNAP_HEAD = b"\x83" + msgpack.packb("type") + msgpack.packb(2) + msgpack.packb("data") + b"\x92" \
    + msgpack.packb("snap")
_SNAP_TAIL = msgpack.packb("nsp") + msgpack.packb("/")
BACKLOG_SNAPS = 2
"""More queued packets than this: skip the client's snap (it gets the newest state next tick)."""
BACKLOG_DISCONNECT = 2000
"""A client this far behind has stalled: disconnect it rather than grow memory."""
DIRECT_SKIP_BYTES = 64 * 1024
"""Unsent bytes in a WebSocket's transport beyond which the client's snap is skipped."""


def ws_binary_frame(payload: bytes) -> bytes:
    """One unmasked, unfragmented binary WebSocket frame (RFC 6455 5.2) as a server sends it."""
    n = len(payload)
    if n < 126:
        head = bytes((0x82, n))
    elif n < 65536:
        head = struct.pack("!BBH", 0x82, 126, n)
    else:
        head = struct.pack("!BBQ", 0x82, 127, n)
    return head + payload


def direct_websockets(sio: socketio.AsyncServer, sockets: dict[str, Any]) -> None:
    """Make ``sio``'s Engine.IO keep ``sockets[eio_sid]`` = the aiohttp WebSocketResponse of
    every WebSocket connection while it is open (this server instance only)."""
    eio = sio.eio
    base = eio._async["websocket"]

    def factory(handler: Any, server: Any) -> Any:
        ws = base(handler, server)
        eio_sid = handler.__self__.sid  # the Engine.IO socket's bound _websocket_handler

        async def tracked(wrapper: Any) -> Any:
            sockets[eio_sid] = wrapper._sock
            try:
                return await handler(wrapper)
            finally:
                sockets.pop(eio_sid, None)

        ws.handler = tracked
        return ws

    eio._async = {**eio._async, "websocket": factory}


def encode_event(event: str, data: Any) -> bytes:
    """The msgpack Socket.IO EVENT packet for namespace '/'."""
    return cast(bytes, msgpack.packb({"type": sio_packet.EVENT, "data": [event, data], "nsp": "/"}))


def encode_snap_packet(snap: bytes) -> bytes:
    """``["snap", <bin>]`` as a Socket.IO packet, built around the snap bytes without re-encoding."""
    n = len(snap)
    if n < 256:
        head = b"\xc4" + bytes((n,))
    elif n < 65536:
        head = b"\xc5" + struct.pack(">H", n)
    else:
        head = b"\xc6" + struct.pack(">I", n)
    return b"".join((_SNAP_HEAD, head, snap, _SNAP_TAIL))


class SocketOutbox:
    def __init__(self, sio: socketio.AsyncServer, metrics: Metrics, *, direct: bool = False) -> None:
        self.sio = sio
        self.metrics = metrics
        self.eio_sids: dict[str, str] = {}
        """Socket.IO sid -> Engine.IO sid, kept by the realtime layer."""
        self._events_out = metrics.events_out
        self._tasks: set[Any] = set()
        self.rtc_channel: Callable[[str], Any] = lambda _sid: None
        """The client's open WebRTC state channel, if any (set by the realtime layer)."""
        self.websockets: dict[str, Any] = {}
        """Engine.IO sid -> aiohttp WebSocketResponse, for snaps written straight to the socket."""
        if direct:
            direct_websockets(sio, self.websockets)

    def _socket(self, sid: str) -> Any:
        eio_sid = self.eio_sids.get(sid)
        if eio_sid is None:
            return None
        sock = self.sio.eio.sockets.get(eio_sid)
        if sock is None or sock.closed:
            return None
        return sock

    def _put(self, sid: str, data: bytes) -> bool:
        sock = self._socket(sid)
        if sock is None:
            return False
        sock.queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, data=data))
        return True

    def emit(self, sid: str, event: str, data: Any) -> None:
        if self._put(sid, encode_event(event, data)):
            self._events_out.labels(event).inc()

    def send_snap(self, sid: str, snap: bytes) -> None:
        channel = self.rtc_channel(sid)
        if channel is not None:
            for part in split_snap(snap):
                channel.send(part)
            self.metrics.snaps_sent.inc()
            self.metrics.snap_bytes.inc(len(snap))
            return
        sock = self._socket(sid)
        if sock is None:
            return
        data = encode_snap_packet(snap)
        if not (sock.queue.empty() and self._write_direct(sock.sid, data)):
            # Something is queued before it (an ``enter``, say): keep the order, queue it too.
            sock.queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, data=data))
        self.metrics.snaps_sent.inc()
        self.metrics.snap_bytes.inc(len(snap))

    def _write_direct(self, eio_sid: str, data: bytes) -> bool:
        """Write an Engine.IO binary message as one WebSocket frame on the transport, now.

        The Engine.IO writer task costs a queue hand-off, a task wake-up and an awaited
        ``send_bytes`` per message; at 10 snaps/s to 1,000 clients that was a quarter of the
        server's CPU. A frame written here is whole (one ``transport.write``), so it cannot
        interleave with a frame of the writer task. Not used with permessage-deflate."""
        ws = self.websockets.get(eio_sid)
        if ws is None or ws._compress:
            return False
        writer = ws._writer
        transport = getattr(writer, "transport", None)
        if transport is None or transport.is_closing():
            return False
        transport.write(ws_binary_frame(data))
        return True

    def backlogged(self, sid: str) -> bool:
        channel = self.rtc_channel(sid)
        if channel is not None and channel.bufferedAmount > BUFFER_SKIP_BYTES:
            self.metrics.snaps_skipped.inc()
            return True
        sock = self._socket(sid)
        if sock is None:
            return True
        ws = self.websockets.get(sock.sid)
        if ws is not None:
            transport = getattr(ws._writer, "transport", None)
            if transport is not None and transport.get_write_buffer_size() > DIRECT_SKIP_BYTES:
                self.metrics.snaps_skipped.inc()
                return True
        size = sock.queue.qsize()
        if size > BACKLOG_DISCONNECT:
            log.warning("disconnecting stalled client sid=%s queued=%d", sid, size)
            self.disconnect(sid)
            return True
        if size > BACKLOG_SNAPS:
            self.metrics.snaps_skipped.inc()
            return True
        return False

    def disconnect(self, sid: str) -> None:
        task = self.sio.start_background_task(self.sio.disconnect, sid)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
