"""Engine.IO v4 / Socket.IO v5 framing with the msgpack parser, without any I/O.

Over a WebSocket, Engine.IO text frames are ``<type digit><payload>`` (``"0{json}"``
open, ``"2"`` ping, ``"3"`` pong, ``"1"`` close) and every binary frame is one
Engine.IO MESSAGE whose bytes are one Socket.IO packet encoded with msgpack:
``{"type": int, "data": ..., "nsp": "/", "id"?: int}`` -- exactly what python-socketio's
``MsgPackPacket`` and npm ``socket.io-msgpack-parser`` produce.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

import msgpack

__all__ = [
    "EIO_CLOSE",
    "EIO_NOOP",
    "EIO_OPEN",
    "EIO_PING",
    "EIO_PONG",
    "SIO_ACK",
    "SIO_CONNECT",
    "SIO_CONNECT_ERROR",
    "SIO_DISCONNECT",
    "SIO_EVENT",
    "MoveEncoder",
    "OpenInfo",
    "Packet",
    "decode_packet",
    "decode_snap",
    "encode_connect",
    "encode_event",
    "encode_packet",
    "is_snap_frame",
    "packet_type_hint",
    "parse_open",
]

EIO_OPEN, EIO_CLOSE, EIO_PING, EIO_PONG, EIO_NOOP = "0", "1", "2", "3", "6"
SIO_CONNECT, SIO_DISCONNECT, SIO_EVENT, SIO_ACK, SIO_CONNECT_ERROR = 0, 1, 2, 3, 4

_packb = msgpack.Packer(use_bin_type=True).pack


@dataclass(frozen=True, slots=True)
class OpenInfo:
    """The Engine.IO handshake (``"0{...}"`` text frame) the server sends first."""

    sid: str
    ping_interval_ms: int
    ping_timeout_ms: int
    max_payload: int


class Packet(NamedTuple):
    """One decoded Socket.IO packet."""

    type: int
    data: Any
    nsp: str
    id: int | None


def parse_open(text: str) -> OpenInfo:
    """Parse the Engine.IO OPEN frame; raise ``ValueError`` if it is not one."""
    if not text.startswith(EIO_OPEN):
        raise ValueError(f"expected Engine.IO OPEN, got {text[:40]!r}")
    d = json.loads(text[1:])
    return OpenInfo(
        sid=str(d["sid"]),
        ping_interval_ms=int(d.get("pingInterval", 25000)),
        ping_timeout_ms=int(d.get("pingTimeout", 20000)),
        max_payload=int(d.get("maxPayload", 1_000_000)),
    )


def encode_packet(ptype: int, data: Any = None, *, nsp: str = "/", id: int | None = None) -> bytes:
    """Encode one Socket.IO packet (key order as python-socketio: type, data, nsp, id)."""
    d: dict[str, Any] = {"type": ptype, "data": data, "nsp": nsp}
    if id is not None:
        d["id"] = id
    out: bytes = _packb(d)
    return out


def encode_connect(auth: dict[str, Any] | None) -> bytes:
    """The CONNECT packet for namespace ``/`` carrying ``auth`` (e.g. ``{"token": ...}``)."""
    return encode_packet(SIO_CONNECT, auth)


def encode_event(event: str, *args: Any, id: int | None = None) -> bytes:
    """An EVENT packet ``[event, *args]``; pass ``id`` to request an ack."""
    return encode_packet(SIO_EVENT, [event, *args], id=id)


def decode_packet(frame: bytes) -> Packet:
    """Decode one binary frame into a :class:`Packet`; raise ``ValueError`` if malformed."""
    try:
        d = msgpack.unpackb(frame, raw=False, strict_map_key=False)
        return Packet(int(d["type"]), d.get("data"), str(d.get("nsp") or "/"), d.get("id"))
    except (ValueError, KeyError, TypeError, msgpack.ExtraData) as exc:
        raise ValueError(f"malformed Socket.IO packet: {exc}") from exc


_TYPE_KEY = b"\xa4type"


def packet_type_hint(frame: bytes) -> int:
    """The Socket.IO packet type read from the first bytes, or -1 if not found there.

    python-socketio writes ``type`` as the first key of the packet map, so byte 6 is
    its value; other encoders may not, and then the caller must decode.
    """
    if frame[1:6] == _TYPE_KEY and len(frame) > 6:
        return frame[6]
    return -1


_SNAP_TAG = b"\xa4snap"


def is_snap_frame(frame: bytes) -> bool:
    """Cheap test whether a binary frame is a ``snap`` event, without decoding it.

    The event name sits within the first bytes of the packet map (after ``type`` and
    the ``data`` array header), so a bounded ``find`` is enough.
    """
    return frame.find(_SNAP_TAG, 0, 24) >= 0


def decode_snap(blob: bytes) -> tuple[int, list[list[int]], list[int]]:
    """Decode a ``snap`` payload: ``[tick, [[eid, x, y, z, yaw, anim], ...], [gone, ...]]``."""
    tick, ents, gone = msgpack.unpackb(blob, raw=False, use_list=True)
    return int(tick), ents, gone


class MoveEncoder:
    """Builds ``move`` EVENT packets from a fixed prefix and suffix around the array.

    Byte-identical to ``encode_event("move", [x, y, z, yaw, anim])``, at about a third
    of the cost, because only the five numbers go through msgpack.
    """

    __slots__ = ("_pack", "_prefix", "_suffix")

    def __init__(self) -> None:
        self._pack = msgpack.Packer(use_bin_type=True).pack
        self._prefix: bytes = b"\x83" + _packb("type") + _packb(SIO_EVENT) + _packb("data")
        self._prefix += b"\x92" + _packb("move")
        self._suffix: bytes = _packb("nsp") + _packb("/")

    def encode(self, x: float, y: float, z: float, yaw: float, anim: int) -> bytes:
        """One ``move`` packet ``[x, y, z, yaw, anim]`` (metres, radians)."""
        body: bytes = self._pack((x, y, z, yaw, anim))
        return self._prefix + body + self._suffix
