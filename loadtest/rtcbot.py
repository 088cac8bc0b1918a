"""WebRTC bots (``--transport webrtc``): the ``state`` data channel of one bot, on aiortc.

A WebRTC bot is a normal bot (guest login, lean Socket.IO connection, ``join``, ``enter``
events, acks) that, once joined, offers one aiortc peer connection with a data channel
labelled ``state`` (unordered, ``maxRetransmits: 0``) through ``rtc.offer``. The answer
carries all the server's ICE candidates (no trickle), so the channel opens without more
signalling. While it is open:

* the bot sends its ``move`` on the channel as raw msgpack ``[x, y, z, yaw, anim]``
  (:func:`encode_move`), not over Socket.IO;
* the server sends each ``snap`` on the channel as raw msgpack ``[tick, ents, gone]``,
  possibly cut into several self-contained messages of the same tick; observer bots decode
  them (:class:`RtcObserver`), the others only count bytes.

If the offer fails (refused, e.g. the server's peer cap answers ``unavailable``; no answer;
the channel does not open in time) the bot stays on Socket.IO and the swarm counts
``rtc_fallback_<code>``; if an open channel closes, the server and the bot both go back to
Socket.IO and the swarm counts ``rtc_channel_closed``. Both count as errors of the run, so a
``webrtc`` run cannot quietly be a Socket.IO run.

Two things differ from Socket.IO and are reported, not hidden:

* ``enter`` still comes over Socket.IO (TCP, ordered) while snaps come over the channel:
  the two are not ordered with respect to each other, so a snap may hold an entity whose
  ``enter`` has not arrived yet. The observer counts that as ``rtc_snap_before_enter``
  (``rtc_snap_after_gone``) instead of the plain protocol error.
* Snaps are deltas: an entity that did not change is not sent again, so if the message that
  carried its last change is lost, the client holds an old position until it moves again.
  Bots walk without pausing and send every tick, so in the benchmark the next tick repairs
  it; a ``gone`` lost on the channel is not repaired (the observer keeps a ghost, which is
  not a true neighbour and so does not affect the scores).

Cost: aiortc does DTLS and SCTP in Python. Measured at 10 Hz with 100 observers (one process
pinned to one core of a 2-core EPYC VM): about 2 ms of CPU per bot-second (1.9-2.6 ms, vs
about 1 ms for a Socket.IO bot); 300 bots took 56 % of the core with event-loop lag p99
38 ms, 450 bots 72 % with lag p99 131 ms (saturated). So one process holds about 300
WebRTC bots; use ``--procs`` (one per core) beyond that. See loadtest/README.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import msgpack

from .conn import SioConnection, SioError
from .frames import decode_snap
from .observer import Observer

__all__ = [
    "RtcLink",
    "RtcObserver",
    "RtcRefused",
    "encode_move",
    "open_link",
]

MessageHandler = Callable[[bytes, float], None]
"""Called with (channel message, receive wall-clock ms)."""

_pack = msgpack.Packer(use_bin_type=True).pack


def encode_move(x: float, y: float, z: float, yaw: float, anim: int) -> bytes:
    """One ``move`` as sent on the state channel: msgpack ``[x, y, z, yaw, anim]``."""
    out: bytes = _pack((x, y, z, yaw, anim))
    return out


class RtcRefused(Exception):
    """The channel could not be set up; ``code`` says why (used in ``rtc_fallback_<code>``)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class RtcLink:
    """One bot's open peer connection and ``state`` channel."""

    __slots__ = ("bytes_in", "channel", "msgs_in", "on_close", "on_message", "pc", "sent")

    def __init__(self, pc: Any, channel: Any, on_message: MessageHandler | None) -> None:
        self.pc = pc
        self.channel = channel
        self.on_message = on_message
        self.on_close: Callable[[], None] | None = None
        self.bytes_in = 0
        self.msgs_in = 0
        self.sent = 0

    @property
    def open(self) -> bool:
        return bool(self.channel.readyState == "open")

    def send(self, data: bytes) -> bool:
        """Send one message on the channel; False if it is not open (use Socket.IO then)."""
        if self.channel.readyState != "open":
            return False
        try:
            self.channel.send(data)
        except Exception:  # aiortc raises InvalidStateError (and others) on a closing channel
            return False
        self.sent += 1
        return True

    def _message(self, message: bytes | str) -> None:
        self.msgs_in += 1
        self.bytes_in += len(message)
        if self.on_message is not None and isinstance(message, bytes):
            self.on_message(message, time.time() * 1000.0)

    def _closed(self) -> None:
        if self.on_close is not None:
            self.on_close()

    async def close(self) -> None:
        """Close the peer connection (quietly: the server may already have closed it)."""
        self.on_close = None
        with contextlib.suppress(Exception):
            await self.pc.close()


async def open_link(
    conn: SioConnection, on_message: MessageHandler | None, *, wait_s: float = 20.0
) -> RtcLink:
    """Offer a ``state`` channel over ``conn`` and wait until it is open.

    Raises :class:`RtcRefused` (``code`` = the server's error code, ``timeout``, ``signal``
    or ``setup``) after closing the half-made peer connection; the bot stays on Socket.IO.
    """
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    # No ICE servers: host candidates only. (With none configured aiortc would ask Google's
    # public STUN server, which costs up to 5 s per peer where it is unreachable.)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    channel = pc.createDataChannel("state", ordered=False, maxRetransmits=0)
    link = RtcLink(pc, channel, on_message)
    opened = asyncio.Event()
    channel.on("open", opened.set)
    channel.on("message", link._message)
    channel.on("close", link._closed)
    try:
        async with asyncio.timeout(wait_s):
            await pc.setLocalDescription(await pc.createOffer())
            offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
            ack = await conn.call("rtc.offer", offer, wait_s)
            if not isinstance(ack, dict) or not ack.get("ok"):
                err = ack.get("error") if isinstance(ack, dict) else None
                code = err.get("code") if isinstance(err, dict) else None
                raise RtcRefused(str(code or "bad_ack"))
            if ack.get("type") != "answer" or not isinstance(ack.get("sdp"), str):
                raise RtcRefused("bad_ack")
            await pc.setRemoteDescription(RTCSessionDescription(sdp=ack["sdp"], type="answer"))
            if channel.readyState != "open":
                await opened.wait()
    except BaseException as exc:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pc.close(), 5.0)
        if isinstance(exc, RtcRefused | asyncio.CancelledError | KeyboardInterrupt):
            raise
        if isinstance(exc, TimeoutError):
            raise RtcRefused("timeout") from exc
        if isinstance(exc, SioError):
            raise RtcRefused("signal", str(exc)) from exc
        if isinstance(exc, Exception):
            raise RtcRefused("setup", repr(exc)) from exc
        raise
    return link


class RtcObserver(Observer):
    """An :class:`~loadtest.observer.Observer` that also reads snaps from the state channel.

    ``enter`` (and snaps before the channel opened) still arrive through
    :meth:`Observer.on_frame`; :meth:`on_channel` takes the raw ``[tick, ents, gone]``
    messages of the channel. An entity in a channel snap whose ``enter`` has not arrived
    over Socket.IO yet is counted as ``rtc_snap_before_enter``: the two transports are not
    ordered with respect to each other, so this is a race, not a server error.
    """

    __slots__ = ("channel_msgs", "channel_ticks", "_last_tick")

    def __init__(self, instance: str) -> None:
        super().__init__(instance)
        self.channel_msgs = 0
        """Messages (snaps or parts of one) received on the channel."""
        self.channel_ticks = 0
        """Distinct ticks among them (a split snap counts once)."""
        self._last_tick = -1

    def on_channel(self, data: bytes, now_ms: float) -> None:
        """Handle one state-channel message (as :data:`MessageHandler`)."""
        try:
            tick, ents, gone = decode_snap(data)
            rows = [(int(e[0]), e[1], e[3]) for e in ents]
            gone_ids = [int(g) for g in gone]
        except (ValueError, TypeError, KeyError, IndexError, msgpack.UnpackException):
            self.protocol["rtc_malformed"] += 1
            return
        self.channel_msgs += 1
        if tick != self._last_tick:
            self._last_tick = tick
            self.channel_ticks += 1
        self.snaps += 1
        self.entities += len(rows)
        held, entered = self.held, self.entered
        for eid, x, z in rows:
            if eid == self.self_eid:
                self.corrections += 1
                continue
            if eid not in entered:
                kind = "rtc_snap_after_gone" if eid in self.gone else "rtc_snap_before_enter"
                self.protocol[kind] += 1
                entered.add(eid)
            held[eid] = (x, z, now_ms)
        for g in gone_ids:
            if g not in entered:
                self.protocol["rtc_gone_not_entered"] += 1
            held.pop(g, None)
            entered.discard(g)
            self.gone.add(g)
