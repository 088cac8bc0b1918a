"""Leak counters for ``/metrics``: what a long run should give back when its clients leave.

Everything here is computed when ``/metrics`` is scraped (a few ``len()`` calls, one pass over
the event loop's tasks and a sort of the last few hundred tick durations), so it costs nothing
between scrapes. Open file descriptors, RSS and CPU come from prometheus' process collector
(``process_open_fds``, ``process_resident_memory_bytes``, ``process_cpu_seconds_total``).

Gauges (one registry per app):

* ``metahall_asyncio_tasks`` -- tasks alive in the server's event loop;
* ``metahall_sio_sessions{layer}`` -- ``engineio`` sockets and ``socketio`` clients the
  realtime layer tracks (a session that outlives its connection shows as a gap);
* ``metahall_rtc_peers{kind}`` -- aiortc peer connections by owner (``state`` channel peers,
  ``stage_broadcast``, ``stage_viewer``) and ``open``: every peer this process created that is
  still referenced and not closed, whoever holds it (catches a peer dropped from its owner's
  table without ``close()``);
* ``metahall_tick_recent_seconds{quantile}`` -- p50, p99 and max of the last
  ``RECENT_TICKS`` tick durations (exact, unlike the histogram's buckets).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from server.app import App

__all__ = ["RECENT_TICKS", "RuntimeCollector", "open_peers", "track_peer", "watch_runtime"]

RECENT_TICKS = 300
"""Tick durations kept for the recent quantiles (30 s at 10 Hz)."""

_PEERS: weakref.WeakSet[Any] = weakref.WeakSet()


def track_peer(pc: Any) -> Any:
    """Remember an aiortc ``RTCPeerConnection`` (weakly) so open ones can be counted; returns it."""
    _PEERS.add(pc)
    return pc


def open_peers() -> int:
    """Peers created by this process that are alive and not closed (all apps of the process)."""
    return sum(1 for pc in list(_PEERS) if getattr(pc, "connectionState", "closed") != "closed")


def _quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class RuntimeCollector(Collector):
    """Gauges computed at scrape time from callables the app registers (see ``watch_runtime``)."""

    def __init__(self) -> None:
        self.recent_ticks: deque[float] = deque(maxlen=RECENT_TICKS)
        self.sessions: dict[str, Callable[[], int]] = {}
        self.peers: dict[str, Callable[[], int]] = {}

    def observe_tick(self, seconds: float) -> None:
        self.recent_ticks.append(seconds)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            tasks = len(asyncio.all_tasks())
        except RuntimeError:  # scraped outside a running loop (e.g. a test rendering directly)
            tasks = 0
        yield GaugeMetricFamily("metahall_asyncio_tasks", "Tasks alive in the event loop",
                                value=tasks)
        sessions = GaugeMetricFamily("metahall_sio_sessions",
                                     "Engine.IO sockets and Socket.IO clients held", labels=["layer"])
        for layer, count in self.sessions.items():
            sessions.add_metric([layer], count())
        yield sessions
        peers = GaugeMetricFamily("metahall_rtc_peers", "aiortc peer connections",
                                  labels=["kind"])
        for kind, count in self.peers.items():
            peers.add_metric([kind], count())
        peers.add_metric(["open"], open_peers())
        yield peers
        recent = GaugeMetricFamily("metahall_tick_recent_seconds",
                                   f"Duration of the last {RECENT_TICKS} ticks",
                                   labels=["quantile"])
        ticks = list(self.recent_ticks)
        if ticks:
            recent.add_metric(["0.5"], _quantile(ticks, 0.5))
            recent.add_metric(["0.99"], _quantile(ticks, 0.99))
            recent.add_metric(["1"], max(ticks))
        yield recent


def watch_runtime(app: App) -> None:
    """Point the app's runtime collector at its parts (called once the parts exist)."""
    rc = app.metrics.runtime
    rt = app.realtime
    rc.sessions["engineio"] = lambda: len(rt.sio.eio.sockets)
    rc.sessions["socketio"] = lambda: len(rt.clients)
    rc.peers["state"] = lambda: len(rt.rtc.peers)
    media = app.stage.media
    rc.peers["stage_broadcast"] = lambda: len(media.broadcasts)
    rc.peers["stage_viewer"] = lambda: len(media.viewers)
