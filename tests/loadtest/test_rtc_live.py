"""WebRTC bots end to end against an in-process metahall server: snaps on the channel, moves
on the channel, and the fall back to Socket.IO when the server has no WebRTC capacity left."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

from loadtest.config import LoadConfig
from loadtest.rtcbot import RtcObserver
from loadtest.swarm import Worker
from tests.helpers import LiveServer, start_server


async def _run_worker(cfg: LoadConfig, during: Any = None) -> tuple[Worker, list[dict[str, Any]]]:
    """One generator process' worth of bots, in this event loop (next to the server)."""
    payloads: list[dict[str, Any]] = []
    ready = asyncio.Event()

    def send(msg: tuple[Any, ...]) -> None:
        if msg[0] == "ready":
            ready.set()
        elif msg[0] in ("stats", "done"):
            payloads.append(msg[2])

    worker = Worker(cfg, 0, send)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(ready.wait(), 30)
    worker.deliver(("go", time.time() * 1000.0 + 100.0))
    if during is not None:
        await asyncio.sleep(cfg.ramp_s + cfg.duration_s / 2)
        during(worker)
    await asyncio.wait_for(task, cfg.ramp_s + cfg.duration_s + 30)
    return worker, payloads


def _cfg(url: str) -> LoadConfig:
    return LoadConfig(url=url, bots=3, duration_s=3.0, ramp_s=0.3, drain_s=1.0, observers=3,
                      transport="webrtc", uvloop=False)  # fmt: skip


async def test_three_webrtc_bots_use_the_channel_both_ways(server: LiveServer) -> None:
    seen: dict[str, Any] = {}

    def during(worker: Worker) -> None:
        seen["peers"] = len(server.app.realtime.rtc.peers)
        seen["open"] = [b.rtc is not None and b.rtc.open for b in worker.bots]
        seen["socket_frames"] = sum(b.conn.frames_in for b in worker.bots if b.conn is not None)

    worker, payloads = await _run_worker(_cfg(server.url), during)
    errors: Counter[str] = Counter()
    for p in payloads:
        errors.update(p["errors"])
    assert not errors, errors
    assert seen["peers"] == 3 and seen["open"] == [True, True, True]
    assert max(p["rtc_open"] for p in payloads) == 3
    observers = [b.observer for b in worker.bots]
    assert all(isinstance(o, RtcObserver) for o in observers)
    for bot in worker.bots:
        obs = bot.observer
        assert isinstance(obs, RtcObserver)
        # ~3 s of 10 Hz snaps arrived on the channel, holding the other two bots
        assert obs.channel_ticks >= 10, (bot.index, obs.channel_ticks)
        assert len(obs.held) == 2
        assert bot.rtc is not None and bot.rtc.sent >= 20  # its moves went on the channel
        assert bot.rtc.msgs_in == obs.channel_msgs
        assert not {k for k in obs.protocol if k != "rtc_snap_before_enter"}, obs.protocol
    assert sum(p["rtc_msgs"] for p in payloads) >= 30
    # scored views: the positions seen came from the other bots' channel moves
    heard = sum(p["heard"] for p in payloads)
    total = sum(p["total"] for p in payloads)
    assert total > 0 and heard / total >= 0.9
    assert sum(p["unmatched"] for p in payloads) == 0
    assert sum(p["moves"] for p in payloads) >= 3 * 10 * 2


async def test_bots_fall_back_to_socketio_when_the_server_has_no_webrtc_capacity(
    tmp_path: Path,
) -> None:
    live = await start_server(tmp_path, rtc_max_peers=1)
    try:
        worker, payloads = await _run_worker(_cfg(live.url))
    finally:
        await live.close()
    errors: Counter[str] = Counter()
    for p in payloads:
        errors.update(p["errors"])
    assert errors == {"rtc_fallback_unavailable": 2}, errors
    on_rtc = [b for b in worker.bots if b.rtc is not None]
    assert len(on_rtc) == 1
    for bot in worker.bots:
        obs = bot.observer
        assert isinstance(obs, RtcObserver)
        assert obs.snaps >= 10 and len(obs.held) == 2  # over the channel or over Socket.IO
        assert (obs.channel_msgs > 0) == (bot.rtc is not None)
    assert sum(p["heard"] for p in payloads) > 0
    assert sum(p["moves"] for p in payloads) >= 3 * 10 * 2
