"""Prometheus metrics, one registry per app (tests run several apps in one process)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from server.runtime_metrics import RuntimeCollector

__all__ = ["Metrics"]


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.connections = Gauge("metahall_connections", "Open Socket.IO connections", registry=r)
        self.rooms = Gauge("metahall_rooms", "Open room instances", ["kind"], registry=r)
        self.members = Gauge("metahall_room_members", "Clients in rooms", ["kind"], registry=r)
        self.events_in = Counter("metahall_events_in_total", "Events received", ["event"], registry=r)
        self.events_out = Counter("metahall_events_out_total", "Events queued to clients",
                                  ["event"], registry=r)
        self.bad_payloads = Counter("metahall_bad_payloads_total",
                                    "Malformed or refused payloads", ["reason"], registry=r)
        self.moves_dropped = Counter("metahall_moves_dropped_total", "Dropped move messages",
                                     ["reason"], registry=r)
        self.snaps_sent = Counter("metahall_snaps_sent_total", "Snapshots queued", registry=r)
        self.snap_bytes = Counter("metahall_snap_bytes_total", "Snapshot payload bytes", registry=r)
        self.snaps_skipped = Counter("metahall_snaps_skipped_total",
                                     "Snapshots not sent because the client was backlogged",
                                     registry=r)
        self.tick_duration = Histogram(
            "metahall_tick_duration_seconds", "Time to run one tick of all rooms",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0),
            registry=r,
        )
        self.ticks_skipped = Counter("metahall_ticks_skipped_total",
                                     "Ticks skipped because the loop fell behind", registry=r)
        self.hook_errors = Counter("metahall_room_hook_errors_total", "Room hook failures",
                                   ["hook"], registry=r)
        self.moderation_verdicts = Counter("metahall_moderation_verdicts_total",
                                           "Non-allow moderation verdicts", ["hook", "kind"],
                                           registry=r)
        self.moderation_seconds = Histogram(
            "metahall_moderation_callback_seconds", "Time in moderation callbacks", ["hook"],
            buckets=(0.0001, 0.0005, 0.001, 0.005, 0.02, 0.1, 0.5), registry=r)
        self.logins = Counter("metahall_logins_total", "Sign-ins", ["kind", "result"], registry=r)
        self.limit_refusals = Counter("metahall_limit_refusals_total",
                                      "Connections and uploads refused by a per-process cap",
                                      ["limit"], registry=r)
        # Leak counters, computed on scrape (server/runtime_metrics.py): asyncio tasks, Socket.IO
        # sessions, aiortc peers, recent tick quantiles; process_open_fds/RSS/CPU from prometheus.
        self.runtime = RuntimeCollector()
        r.register(self.runtime)
        ProcessCollector(registry=r)

    def observe_tick(self, seconds: float) -> None:
        """One tick's duration: the histogram and the recent quantiles."""
        self.tick_duration.observe(seconds)
        self.runtime.observe_tick(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
