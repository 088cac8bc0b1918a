"""The relay's buffering per viewer: video keeps only the newest frame, audio at most 200 ms."""

from __future__ import annotations

import asyncio
import fractions

from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from server.stage_media import RecentAudio


class Burst(MediaStreamTrack):
    """``n`` audio frames as fast as they are asked for, then the end."""

    kind = "audio"

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.i = 0

    async def recv(self) -> AudioFrame:
        if self.i >= self.n:
            raise MediaStreamError
        await asyncio.sleep(0)
        frame = AudioFrame(format="s16", layout="mono", samples=960)
        frame.pts, frame.sample_rate = self.i * 960, 48_000
        frame.time_base = fractions.Fraction(1, 48_000)
        self.i += 1
        return frame


async def test_a_slow_audio_viewer_loses_old_frames_not_the_stream() -> None:
    relay = MediaRelay()
    source = Burst(200)
    slow = RecentAudio(relay.subscribe(source, buffered=True), keep=10)
    got: list[int] = []
    try:
        while True:
            frame = await slow.recv()
            got.append(frame.pts // 960)
            queue = slow.proxy._queue  # type: ignore[attr-defined]
            assert queue.qsize() <= 11
            await asyncio.sleep(0.01)  # an encoder slower than the source
    except MediaStreamError:
        pass
    assert slow.dropped > 100 and got == sorted(got)
    assert got[-1] >= 190  # it kept up with the newest sound and saw the end of the track
