"""The Socket.IO implementation of :class:`rooms.outbox.Outbox`.

Packets are encoded once and written to the client's WebSocket at once when nothing is ahead
of them (``eio_websocket.write_now``), else put on the Engine.IO socket's queue: no coroutine
per message, and ordering per client is the order of the calls. ``sio.emit`` costs about 8x
more per message (see DESIGN.md), which matters for the 10 Hz snapshot path.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import msgpack
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from server.eio_websocket import MAX_UNSENT, transport_of, write_now
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
        self._event_counters: dict[str, Any] = {}
        self._tasks: set[Any] = set()
        self.rtc_channel: Callable[[str], Any] = lambda _sid: None
        """The client's open WebRTC state channel, if any (set by the realtime layer)."""
        self.direct = direct
        """Write to an idle WebSocket at once instead of through Engine.IO's writer task."""

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
        if not (self.direct and write_now(sock, data)):
            sock.queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, data=data))
        return True

    def emit(self, sid: str, event: str, data: Any) -> None:
        if self._put(sid, encode_event(event, data)):
            counter = self._event_counters.get(event)
            if counter is None:  # ``labels()`` costs a lock and a tuple per call: look up once
                counter = self._event_counters[event] = self._events_out.labels(event)
            counter.inc()

    def send_snap(self, sid: str, snap: bytes) -> None:
        channel = self.rtc_channel(sid)
        if channel is not None:
            for part in split_snap(snap):
                channel.send(part)
            self.metrics.snaps_sent.inc()
            self.metrics.snap_bytes.inc(len(snap))
            return
        if self._put(sid, encode_snap_packet(snap)):
            self.metrics.snaps_sent.inc()
            self.metrics.snap_bytes.inc(len(snap))

    def backlogged(self, sid: str) -> bool:
        channel = self.rtc_channel(sid)
        if channel is not None and channel.bufferedAmount > BUFFER_SKIP_BYTES:
            self.metrics.snaps_skipped.inc()
            return True
        sock = self._socket(sid)
        if sock is None:
            return True
        size = sock.queue.qsize()
        if size > BACKLOG_DISCONNECT:
            log.warning("disconnecting stalled client sid=%s queued=%d", sid, size)
            self._spawn(self._drop_stalled(sid, sock))
            return True
        if size > BACKLOG_SNAPS:
            self.metrics.snaps_skipped.inc()
            return True
        transport = transport_of(sock)
        if transport is not None and transport.get_write_buffer_size() > MAX_UNSENT:
            self.metrics.snaps_skipped.inc()
            return True
        return False

    def disconnect(self, sid: str) -> None:
        self._spawn(self.sio.disconnect(sid))

    async def _drop_stalled(self, sid: str, sock: Any) -> None:
        """Disconnect, then cut the TCP connection: a peer that reads nothing would otherwise
        hold its queue and a writer stuck in flow control until it went away."""
        transport = transport_of(sock)  # before the session lets go of it
        await self.sio.disconnect(sid)
        if transport is not None:
            transport.abort()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
