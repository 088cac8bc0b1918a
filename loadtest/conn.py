"""One lean Socket.IO client connection over one aiohttp WebSocket.

No python-socketio client, no polling: ``GET /socket.io/?EIO=4&transport=websocket``,
read the Engine.IO OPEN frame, send the Socket.IO CONNECT packet with ``auth``, then
one reader loop per connection answers pings (``"2"`` -> ``"3"``), resolves acks and
hands every other binary frame to ``on_frame`` untouched, so the owner decides what
is worth decoding.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from .frames import (
    EIO_CLOSE,
    EIO_PING,
    EIO_PONG,
    SIO_ACK,
    SIO_CONNECT,
    SIO_CONNECT_ERROR,
    SIO_DISCONNECT,
    SIO_EVENT,
    OpenInfo,
    decode_packet,
    encode_connect,
    encode_event,
    is_snap_frame,
    packet_type_hint,
    parse_open,
)

__all__ = [
    "MAX_REDIRECTS",
    "ConnectRefused",
    "SioConnection",
    "SioError",
    "connect",
    "redirect_target",
    "socket_url",
]

MAX_REDIRECTS = 3
"""Join redirects a bot follows in a row before it counts a ``join_redirect_loop`` error."""

FrameHandler = Callable[[bytes, float], None]
"""Called with (binary frame, receive wall-clock ms) for every EVENT packet."""


class SioError(Exception):
    """The Socket.IO session could not be set up or broke the protocol."""


class ConnectRefused(SioError):
    """The server answered CONNECT with CONNECT_ERROR (e.g. ``{"code": "auth"}``)."""

    def __init__(self, data: Any) -> None:
        super().__init__(f"connect refused: {data!r}")
        self.data = data


def socket_url(base_url: str, path: str = "/socket.io/") -> str:
    """The WebSocket URL of the Engine.IO endpoint at ``path`` under an http(s) base URL."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    path = "/" + path.strip("/") + "/"
    return base + path + "?EIO=4&transport=websocket"


def redirect_target(ack: Any) -> tuple[str, str] | None:
    """``(url, path)`` when a ``join`` ack sends the bot to the node that runs the room.

    In a cluster (several ``metahall serve`` processes) a join that reaches another node is
    answered ``{"ok": true, "redirect": {"node", "url", "path"}}`` and nothing else happens: the
    client connects to ``url`` with Socket.IO ``path`` and sends the same join there.
    """
    if not isinstance(ack, dict) or ack.get("ok") is not True:
        return None
    red = ack.get("redirect")
    if not isinstance(red, dict):
        return None
    url, path = red.get("url"), red.get("path")
    if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        return None
    if not (isinstance(path, str) and path.startswith("/")):
        return None
    return url, path


def _ignore(frame: bytes, now_ms: float) -> None:
    return None


class SioConnection:
    """A connected Socket.IO session on namespace ``/``."""

    __slots__ = (
        "_acks",
        "_next_id",
        "bytes_in",
        "close_reason",
        "frames_in",
        "info",
        "on_frame",
        "protocol_errors",
        "snap_bytes_in",
        "ws",
    )

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, info: OpenInfo) -> None:
        self.ws = ws
        self.info = info
        self.on_frame: FrameHandler = _ignore
        self.bytes_in = 0
        self.snap_bytes_in = 0
        """Of ``bytes_in``: the ``snap`` frames (the rest is ``enter``, chat, acks, pings)."""
        self.frames_in = 0
        self.close_reason = ""
        self.protocol_errors = 0
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send(self, packet: bytes) -> None:
        """Send one already-encoded Socket.IO packet."""
        await self.ws.send_bytes(packet)

    async def call(self, event: str, arg: Any, wait_s: float) -> Any:
        """Emit ``event`` with one argument and wait for its ack; return the ack's first value."""
        self._next_id += 1
        ack_id = self._next_id
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = fut
        try:
            await self.ws.send_bytes(encode_event(event, arg, id=ack_id))
            return await asyncio.wait_for(fut, wait_s)
        finally:
            self._acks.pop(ack_id, None)

    def _handle_control(self, frame: bytes) -> None:
        """Resolve an ack, or notice a DISCONNECT, from a non-EVENT packet."""
        try:
            pkt = decode_packet(frame)
        except ValueError:
            self.protocol_errors += 1
            return
        if pkt.type == SIO_EVENT:
            self.on_frame(frame, time.time() * 1000.0)
        elif pkt.type == SIO_ACK and pkt.id is not None:
            fut = self._acks.get(pkt.id)
            if fut is not None and not fut.done():
                args = pkt.data if isinstance(pkt.data, list) else [pkt.data]
                fut.set_result(args[0] if args else None)
        elif pkt.type == SIO_DISCONNECT:
            self.close_reason = "server_disconnect"

    async def run(self) -> str:
        """Read until the connection ends; return why (``""`` when closed by us)."""
        ws = self.ws
        binary, text = aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT
        on_frame = self.on_frame
        try:
            while True:
                msg = await ws.receive()
                if msg.type is binary:
                    data: bytes = msg.data
                    self.bytes_in += len(data)
                    self.frames_in += 1
                    if packet_type_hint(data) == SIO_EVENT:
                        if is_snap_frame(data):
                            self.snap_bytes_in += len(data)
                        if on_frame is not self.on_frame:
                            on_frame = self.on_frame
                        on_frame(data, time.time() * 1000.0)
                        continue
                    self._handle_control(data)
                    if self.close_reason:
                        await ws.close()
                        break
                elif msg.type is text:
                    s: str = msg.data
                    self.bytes_in += len(s)
                    if s == EIO_PING:
                        await ws.send_str(EIO_PONG)
                    elif s.startswith(EIO_CLOSE):
                        self.close_reason = "eio_close"
                        break
                else:
                    if not self.close_reason:
                        self.close_reason = f"ws_{msg.type.name.lower()}"
                    break
        finally:
            for fut in self._acks.values():
                if not fut.done():
                    fut.set_exception(SioError("connection closed"))
        return self.close_reason

    async def close(self) -> None:
        """Close the WebSocket (the server sees the client disconnect)."""
        await self.ws.close()


async def connect(
    session: aiohttp.ClientSession,
    base_url: str,
    token: str,
    *,
    path: str = "/socket.io/",
    wait_s: float = 10.0,
    compress: bool = False,
) -> SioConnection:
    """Open the WebSocket, do the Engine.IO and Socket.IO handshakes; raise SioError on failure.

    Events that arrive before the CONNECT answer are dropped (the server sends
    ``hello`` after it).
    """
    try:
        ws = await session.ws_connect(
            socket_url(base_url, path),
            compress=15 if compress else 0,
            max_msg_size=0,
            autoping=True,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=2.0),
        )
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise SioError(f"websocket: {exc!r}") from exc
    try:
        async with asyncio.timeout(wait_s):
            msg = await ws.receive()
            if msg.type is not aiohttp.WSMsgType.TEXT:
                raise SioError(f"expected Engine.IO OPEN, got {msg.type.name}")
            try:
                info = parse_open(msg.data)
            except (ValueError, KeyError) as exc:
                raise SioError(str(exc)) from exc
            await ws.send_bytes(encode_connect({"token": token}))
            while True:
                msg = await ws.receive()
                if msg.type is aiohttp.WSMsgType.TEXT:
                    if msg.data == EIO_PING:
                        await ws.send_str(EIO_PONG)
                    continue
                if msg.type is not aiohttp.WSMsgType.BINARY:
                    raise SioError(f"closed during connect ({msg.type.name})")
                try:
                    pkt = decode_packet(msg.data)
                except ValueError as exc:
                    raise SioError(str(exc)) from exc
                if pkt.type == SIO_CONNECT:
                    return SioConnection(ws, info)
                if pkt.type == SIO_CONNECT_ERROR:
                    raise ConnectRefused(pkt.data)
    except BaseException:
        await ws.close()
        raise
    raise AssertionError("unreachable")
