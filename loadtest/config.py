"""Settings of one load-test run (picklable: handed to every generator process)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["SLO", "LoadConfig"]


@dataclass(frozen=True, slots=True)
class SLO:
    """The service level a step must hold to count as passing."""

    staleness_p99_ms: float = 250.0
    coverage_min: float = 0.95
    max_errors: int = 0


@dataclass(frozen=True, slots=True)
class LoadConfig:
    """One run: where, how many, how long, and how the bots walk."""

    url: str = "http://127.0.0.1:8080"
    bots: int = 100
    duration_s: float = 30.0
    """Measured time after the ramp."""
    rate_hz: float = 10.0
    """``move`` packets per bot per second."""
    ramp_s: float = 10.0
    """Connections are spread evenly over this many seconds."""
    drain_s: float = 2.0
    area_m: float = 60.0
    """Side of the square (centred on the spawn) bots walk in; clipped to the room."""
    room: str = "hall:main"
    procs: int = 1
    observers: int = 100
    seed: int = 1
    radius_m: float = 30.0
    k_nearest: int = 64
    server_pid: int | None = None
    compress: bool = False
    """Offer permessage-deflate on the WebSockets."""
    name_prefix: str = "bot-"
    login_concurrency: int = 16
    login_timeout_s: float = 120.0
    connect_timeout_s: float = 15.0
    uvloop: bool = True
    slo: SLO = SLO()
    transport: str = "websocket"
    """``websocket``: everything over Socket.IO. ``webrtc``: moves and snaps over a WebRTC
    ``state`` data channel per bot (aiortc; see :mod:`loadtest.rtcbot`), the rest over
    Socket.IO."""
    settle_s: float = 0.0
    """The last part of the ramp in which no bot connects: bots connect over the first
    ``ramp_s - settle_s`` seconds, so the last ones are walking (with ``webrtc``: on their
    channel) before the measured window starts."""
    rtc_timeout_s: float = 20.0
    """Offer to open channel; a bot whose channel is not open by then stays on Socket.IO."""
    reconnect: bool = False
    """After losing its connection a bot connects and joins again (following redirects), as
    the browser does: a failover drill. Each loss still counts as a disconnect."""

    @property
    def period_ms(self) -> float:
        return 1000.0 / self.rate_hz

    def observer_indices(self) -> frozenset[int]:
        """``observers`` bot indices, spread evenly over the bots of every process."""
        n = min(self.observers, self.bots)
        if n <= 0:
            return frozenset()
        out: set[int] = set()
        seen = given = 0
        for w in range(self.procs):
            mine = self.worker_indices(w)
            seen += len(mine)
            k = round(n * seen / self.bots) - given  # this process' fair share
            given += k
            out.update(mine[(j * len(mine)) // k] for j in range(k))
        return frozenset(out)

    def worker_indices(self, worker: int) -> list[int]:
        """Bot indices run by generator process ``worker`` (interleaved)."""
        return list(range(worker, self.bots, self.procs))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
