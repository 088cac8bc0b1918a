"""One Engine.IO session over a WebSocket, without a task or a timer per message.

python-engineio's own loop (``AsyncSocket._websocket_handler``) wraps every received frame in a
new task and an ``asyncio.wait_for``, and its writer wraps every queued packet in another
``wait_for``. With 1,000 clients at 10 moves/s and 10 snaps/s that bookkeeping was about 30
points of the server's core (docs/avatar-sync.md). :func:`run_session` speaks the same
protocol (the polling → WebSocket upgrade probe, PING/PONG, CLOSE, binary and text messages)
with plain awaits:

* binary frames are Engine.IO MESSAGE packets (EIO 4): they go straight to the ``message``
  handler (python-socketio's entry point), awaited in this loop, so one connection's messages
  are handled in order;
* the reader has no timer; the writer hangs up when nothing was queued for ``ping_interval +
  ping_timeout`` (a live peer gets a PING every ``ping_interval``; the Engine.IO service task
  closes a socket whose PONG is late without queueing anything), or after sending CLOSE, and
  closing the WebSocket ends the reader. With direct writes (below) the queue carries only
  pings, acks and what is behind them, so its ``wait_for`` is rare;
* while the writer holds no packet and the queue is empty, :func:`write_now` may put a message
  on the wire at once, from the caller's stack (the outbox's snapshots): ordering is kept,
  because anything queued earlier is still queued or already written.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from typing import Any

from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_drivers import aiohttp as eio_aiohttp
from engineio.async_socket import AsyncSocket

__all__ = ["WebSocketTransport", "run_session", "transport_of", "write_now", "ws_binary_frame"]

log = logging.getLogger("metahall.engineio")

MAX_UNSENT = 64 * 1024
"""Bytes waiting in a WebSocket's transport beyond which nothing more is written to it directly
(and the outbox skips the client's snaps)."""


class WebSocketTransport(eio_aiohttp.WebSocket):  # type: ignore[misc]
    """python-engineio's aiohttp WebSocket, running :func:`run_session` instead of engineio's
    loop, and minus text frames engineio cannot parse. An empty text frame or one that does not
    start with an Engine.IO packet type (0-6) raised outside engineio's receive loop: the
    connection was dropped without its disconnect (the user stayed in the room as a ghost until
    the ping timeout) and every such frame logged a traceback. They are now counted
    (``metahall_bad_payloads_total{reason="eio"}``) and ignored, like bad binary frames."""

    async def __call__(self, environ: dict[str, Any]) -> Any:
        from aiohttp.web import WebSocketResponse

        request = environ["aiohttp.request"]
        rt = getattr(self.server, "metahall_rt", None)
        deflate = rt is None or rt.app.settings.ws_deflate
        self._sock = WebSocketResponse(
            max_msg_size=self.server.max_http_buffer_size, compress=deflate
        )
        await self._sock.prepare(request)
        self.environ = environ
        # ``handler`` is the socket's bound ``_websocket_handler``: its ``__self__`` is the socket.
        await run_session(self.handler.__self__, self)
        return self._sock

    async def wait(self) -> Any:
        while True:
            msg = await super().wait()
            if isinstance(msg, str) and (not msg or msg[0] not in "0123456"):
                _count_bad(self.server)
                continue
            return msg


def _count_bad(server: Any) -> None:
    rt = getattr(server, "metahall_rt", None)
    if rt is not None:
        rt.app.metrics.bad_payloads.labels("eio").inc()


async def _upgrade(sock: AsyncSocket, ws: WebSocketTransport) -> bool:
    """The polling → WebSocket probe (``2probe`` / ``3probe``, then ``5``)."""
    sock.upgrading = True  # engineio holds polling sends while this is set
    try:
        probe = eio_packet.Packet(encoded_packet=await ws.wait())
        if probe.packet_type != eio_packet.PING or probe.data != "probe":
            return False
        await ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
        await sock.queue.put(eio_packet.Packet(eio_packet.NOOP))  # ends the pending poll
        if eio_packet.Packet(encoded_packet=await ws.wait()).packet_type != eio_packet.UPGRADE:
            sock.upgraded = False
            return False
    except (OSError, ValueError):
        return False
    finally:
        sock.upgrading = False
    sock.upgraded = True
    return True


async def _writer(sock: AsyncSocket, ws: WebSocketTransport) -> None:
    queue = sock.queue
    idle = sock.server.ping_interval + sock.server.ping_timeout
    try:
        while True:
            try:
                # A live peer gets a PING every ``ping_interval``: nothing queued for longer means
                # the socket was closed (a ping timeout queues no CLOSE packet), so hang up.
                batch = [await asyncio.wait_for(queue.get(), idle)]
            except TimeoutError:
                return
            queue.task_done()
            while not queue.empty():
                batch.append(queue.get_nowait())
                queue.task_done()
            sock.metahall_writing = True
            try:
                for pkt in batch:
                    if pkt is None:
                        return
                    await ws.send(pkt.encode())
                    if pkt.packet_type == eio_packet.CLOSE:
                        return
            finally:
                sock.metahall_writing = False
    except Exception:  # the peer went away mid-write: the reader sees the close
        return
    finally:
        sock.metahall_ws = None
        await ws.close()


async def run_session(sock: AsyncSocket, ws: WebSocketTransport) -> None:
    """Serve ``sock`` over ``ws`` until either side closes (see the module docstring)."""
    server = sock.server
    if sock.connected:
        if not await _upgrade(sock, ws):
            return
    else:
        sock.connected = True
        sock.upgraded = True
    sock.metahall_writing = False
    sock.metahall_ws = ws._sock
    writer = asyncio.ensure_future(_writer(sock, ws))
    limit = server.max_http_buffer_size
    on_message = server.handlers.get("message")
    try:
        while not sock.closed:
            try:
                data = await ws.wait()
            except Exception:  # closed, reset, or a frame over the size limit
                break
            if data is None or len(data) > limit:
                break
            if type(data) is bytes:  # an EIO 4 binary MESSAGE
                if on_message is not None:
                    try:
                        await on_message(sock.sid, data)
                    except Exception:
                        log.exception("message handler failed")
                continue
            try:
                await sock.receive(eio_packet.Packet(encoded_packet=data))
            except (eio_exceptions.UnknownPacketError, ValueError):
                _count_bad(server)  # a packet type a client may not send, or a bad body
            except eio_exceptions.SocketIsClosedError:
                break
            except Exception:
                log.exception("%s: Engine.IO packet failed", sock.sid)
    finally:
        await sock.queue.put(None)  # unblocks the writer if it is waiting
        await writer
        await sock.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)


def transport_of(sock: AsyncSocket) -> Any:
    """The asyncio transport under the socket's open WebSocket session; None when it has none
    (polling, closed)."""
    ws = getattr(sock, "metahall_ws", None)
    return getattr(getattr(ws, "_writer", None), "transport", None)


def write_now(sock: AsyncSocket, data: bytes) -> bool:
    """Put one binary MESSAGE on the wire now, if nothing is queued or being written before it.

    Returns False when the caller must queue it instead (something is ahead of it, the socket is
    polling or closing, the connection compresses frames, or the peer has stopped reading:
    more than :data:`MAX_UNSENT` bytes wait in the transport)."""
    ws = getattr(sock, "metahall_ws", None)
    if ws is None or sock.metahall_writing or not sock.queue.empty() or ws._compress:
        return False
    transport = transport_of(sock)
    if transport is None or transport.is_closing() or transport.get_write_buffer_size() > MAX_UNSENT:
        return False  # a stalled reader: queue it, where the outbox sees the backlog
    transport.write(ws_binary_frame(data))
    return True


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
