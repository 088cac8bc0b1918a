"""Stage peers for the benchmark and the tests: a synthetic speaker and counting viewers.

* ``SyntheticVideo`` / ``SyntheticAudio`` are aiortc tracks that generate frames in real time
  (a moving bar on a gradient; a 440 Hz tone), like a camera and a microphone would.
* ``FrameCounter`` consumes a received track and counts the frames that arrive.
* ``publish`` / ``watch`` do the ``stage.publish`` / ``stage.watch`` exchange over any
  Socket.IO client with a ``call(event, data, timeout)`` coroutine.

Every peer is created with ``RTCConfiguration(iceServers=[])``: loopback host candidates only,
never a public STUN server. Nothing here imports the server.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

__all__ = ["SyntheticVideo", "SyntheticAudio", "FrameCounter", "publish", "watch", "Call",
           "new_pc"]

Call = Callable[[str, Any, float], Awaitable[Any]]
VIDEO_CLOCK = 90_000


def new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


class SyntheticVideo(MediaStreamTrack):
    """``width``×``height`` frames at ``fps``: a bar sweeping over a gradient (pre-rendered
    cycle of ``fps`` frames, so generating costs next to nothing)."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 360, fps: int = 30) -> None:
        super().__init__()
        self.fps = fps
        self.sent = 0
        xs = np.linspace(40, 200, width, dtype=np.float32)
        ys = np.linspace(60, 180, height, dtype=np.float32)[:, None]
        base = np.empty((height, width, 3), dtype=np.uint8)
        base[..., 0] = xs[None, :].astype(np.uint8)
        base[..., 1] = np.broadcast_to(ys, (height, width)).astype(np.uint8)
        base[..., 2] = ((xs[None, :] + ys) / 2).astype(np.uint8)
        self._planes: list[np.ndarray] = []
        bar = max(2, width // 8)
        for i in range(fps):
            img = base.copy()
            x = int(i * (width - bar) / max(1, fps - 1))
            img[:, x:x + bar] = (250, 60, 60)
            yuv = VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
            self._planes.append(yuv.to_ndarray())
        self._start: float | None = None

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        else:
            wait = self._start + self.sent / self.fps - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        frame = VideoFrame.from_ndarray(self._planes[self.sent % len(self._planes)],
                                        format="yuv420p")
        frame.pts = int(self.sent * VIDEO_CLOCK / self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.sent += 1
        return frame


class SyntheticAudio(MediaStreamTrack):
    """20 ms frames of a 440 Hz tone, 48 kHz mono."""

    kind = "audio"
    RATE = 48_000
    SAMPLES = 960

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0
        t = np.arange(self.RATE // 10 * 10) / self.RATE
        self._tone = (np.sin(2 * np.pi * 440 * t) * 6000).astype(np.int16)
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        else:
            wait = self._start + self.sent * self.SAMPLES / self.RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        off = (self.sent * self.SAMPLES) % (len(self._tone) - self.SAMPLES)
        frame = AudioFrame.from_ndarray(self._tone[off:off + self.SAMPLES].reshape(1, -1),
                                        format="s16", layout="mono")
        frame.sample_rate = self.RATE
        frame.pts = self.sent * self.SAMPLES
        frame.time_base = fractions.Fraction(1, self.RATE)
        self.sent += 1
        return frame


@dataclass(eq=False)
class FrameCounter:
    """Reads a received track until it ends, counting frames (and their arrival times)."""

    track: MediaStreamTrack
    frames: int = 0
    first_at: float | None = None
    last_at: float | None = None
    width: int = 0
    task: asyncio.Task[None] | None = None
    marks: list[tuple[float, int]] = field(default_factory=list)

    def start(self) -> FrameCounter:
        self.task = asyncio.ensure_future(self._run())
        return self

    async def _run(self) -> None:
        try:
            while True:
                frame = await self.track.recv()
                now = time.monotonic()
                self.frames += 1
                self.last_at = now
                if self.first_at is None:
                    self.first_at = now
                    self.width = int(getattr(frame, "width", 0) or 0)
        except MediaStreamError:
            pass

    def mark(self) -> None:
        self.marks.append((time.monotonic(), self.frames))

    def rate_since_mark(self) -> float:
        if not self.marks:
            return 0.0
        t0, n0 = self.marks[-1]
        dt = time.monotonic() - t0
        return (self.frames - n0) / dt if dt > 0 else 0.0

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def publish(call: Call, talk_id: str, tracks: list[MediaStreamTrack], *,
                  ack_timeout: float = 20.0, replace: bool = False
                  ) -> tuple[RTCPeerConnection, dict[str, Any]]:
    """Offer ``tracks`` to the server for ``talk_id``; returns the peer and the ack."""
    pc = new_pc()
    for t in tracks:
        pc.addTransceiver(t, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
    ack = await call("stage.publish", {"talk_id": talk_id, "offer": offer, "replace": replace},
                     ack_timeout)
    if not ack.get("ok"):
        await pc.close()
        return pc, ack
    await pc.setRemoteDescription(RTCSessionDescription(**ack["answer"]))
    return pc, ack


async def watch(call: Call, talk_id: str, *, ack_timeout: float = 20.0,
                on_track: Callable[[MediaStreamTrack], None] | None = None
                ) -> tuple[RTCPeerConnection, dict[str, Any]]:
    """Ask to watch ``talk_id`` with an offer that receives audio and video."""
    pc = new_pc()
    pc.addTransceiver("audio", direction="recvonly")
    pc.addTransceiver("video", direction="recvonly")
    if on_track is not None:
        pc.on("track", on_track)
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
    ack = await call("stage.watch", {"talk_id": talk_id, "offer": offer}, ack_timeout)
    if not ack.get("ok") or "answer" not in ack:
        await pc.close()
        return pc, ack
    await pc.setRemoteDescription(RTCSessionDescription(**ack["answer"]))
    return pc, ack
