"""Merge the generator processes' per-second stats into a timeline and a verdict.

Rates are totals over the measured window (after the ramp) divided by its length;
percentiles are computed over all raw samples of the window, whichever process
took them. Coverage is ``sum(heard) / sum(true neighbours)`` over all observer
scorings in the window; ``coverage_p5`` is the 5th percentile of the per-scoring
shares, to show whether a few observers see much less than the rest.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .config import LoadConfig
from .metrics import percentile, summarize
from .sysmon import ProcSample

__all__ = ["Aggregator", "Row"]

GEN_CPU_SATURATED = 90.0
"""A generator process above this CPU % (of one core) is saturated."""
GEN_LAG_SATURATED_MS = 100.0
"""A generator whose event-loop or send lag p99 is above this is saturated."""

FOREIGN_CPU_CONTENDED = 20.0
"""Other processes using more than this % of the server's (pinned) cores make a miss
inconclusive: the server did not have its core."""

_ARRAYS = ("lat", "age", "cov", "loop_lag", "send_lag")
_COUNTS = (
    "moves",
    "bytes",
    "snap_bytes",
    "frames",
    "snaps",
    "corrections",
    "protocol",
    "heard",
    "total",
    "unmatched",
    "rejoins",
)


@dataclass(slots=True)
class Row:
    """One second of the run, as seen by the coordinator."""

    t_s: float
    phase: str
    counts: Counter[str] = field(default_factory=Counter)
    arrays: dict[str, list[npt.NDArray[np.float32]]] = field(default_factory=dict)
    connected: int = 0
    walking: int = 0
    errors: int = 0
    disconnects: int = 0
    interval_s: float = 1.0
    server: ProcSample | None = None
    gen: dict[str, ProcSample] = field(default_factory=dict)
    host: list[float] = field(default_factory=list)
    """Busy % per CPU core of the whole machine."""

    def array(self, name: str) -> npt.NDArray[np.float32]:
        parts = self.arrays.get(name, [])
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        """A flat, JSON-friendly view of the second."""
        lat, age = self.array("lat"), self.array("age")
        total = self.counts["total"]
        per_bot = self.counts["bytes"] / self.interval_s / self.connected if self.connected else 0
        gen_cpu = [s.cpu_percent for s in self.gen.values()]
        return {
            "t_s": round(self.t_s, 1),
            "phase": self.phase,
            "connected": self.connected,
            "walking": self.walking,
            "moves_per_s": round(self.counts["moves"] / self.interval_s, 1),
            "down_bytes_per_s_per_bot": round(per_bot, 1),
            "latency_p50_ms": _r(percentile(lat, 50)),
            "latency_p99_ms": _r(percentile(lat, 99)),
            "staleness_p50_ms": _r(percentile(age, 50)),
            "staleness_p99_ms": _r(percentile(age, 99)),
            "coverage": round(self.counts["heard"] / total, 4) if total else None,
            "errors": self.errors,
            "disconnects": self.disconnects,
            "server_cpu": None if self.server is None else self.server.cpu_percent,
            "server_rss_mb": None if self.server is None else self.server.rss_mb,
            "gen_cpu": round(sum(gen_cpu), 1),
            "gen_cpu_max_proc": max(gen_cpu, default=0.0),
            "loop_lag_p99_ms": _r(percentile(self.array("loop_lag"), 99)),
            "send_lag_p99_ms": _r(percentile(self.array("send_lag"), 99)),
            "host_cpu_by_core": self.host,
        }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


class Aggregator:
    """Collects worker payloads; :meth:`close_row` seals one second."""

    def __init__(
        self,
        cfg: LoadConfig,
        t0_ms: float,
        gen_cores: list[int] | None = None,
        server_cores: list[int] | None = None,
    ) -> None:
        self.cfg = cfg
        self.gen_cores = gen_cores
        self.server_cores = server_cores
        self.t0_ms = t0_ms
        self.rows: list[Row] = []
        self._pending = Row(0.0, "ramp")
        self._connected: dict[int, int] = {}
        self._walking: dict[int, int] = {}
        self._disconnects: dict[int, int] = {}
        self._redirects: dict[int, int] = {}
        self._protocol: dict[int, dict[str, int]] = {}
        self.errors: Counter[str] = Counter()
        self._last_close = t0_ms

    def add(self, worker: int, payload: dict[str, Any]) -> None:
        """Fold in one ``stats`` (or final ``done``) payload of a worker."""
        row = self._pending
        for k in _COUNTS:
            row.counts[k] += int(payload.get(k, 0))
        for k in _ARRAYS:
            a = payload.get(k)
            if a is not None and len(a):
                row.arrays.setdefault(k, []).append(np.asarray(a, dtype=np.float32))
        self._connected[worker] = int(payload.get("connected", 0))
        self._walking[worker] = int(payload.get("walking", 0))
        self._disconnects[worker] = int(payload.get("disconnects", 0))
        self._redirects[worker] = int(payload.get("redirects", 0))
        self._protocol[worker] = dict(payload.get("protocol_kinds", {}))
        self.errors.update(payload.get("errors", {}))

    def has_pending(self) -> bool:
        """Whether stats arrived since the last sealed row."""
        return bool(self._pending.counts or self._pending.arrays)

    def phase_at(self, t_s: float) -> str:
        if t_s <= self.cfg.ramp_s:
            return "ramp"
        if t_s <= self.cfg.ramp_s + self.cfg.duration_s:
            return "measure"
        return "drain"

    def close_row(
        self,
        now_ms: float,
        server: ProcSample | None,
        gen: dict[str, ProcSample],
        host: list[float] | None = None,
    ) -> Row:
        """Seal the second ending at ``now_ms`` with the process samples taken then."""
        row = self._pending
        row.t_s = (now_ms - self.t0_ms) / 1000.0
        row.interval_s = max((now_ms - self._last_close) / 1000.0, 1e-3)
        row.phase = self.phase_at(row.t_s - row.interval_s / 2)
        row.connected = sum(self._connected.values())
        row.walking = sum(self._walking.values())
        row.errors = sum(self.errors.values())
        row.disconnects = sum(self._disconnects.values())
        row.server, row.gen, row.host = server, gen, host or []
        self.rows.append(row)
        self._pending = Row(0.0, "ramp")
        self._last_close = now_ms
        return row

    # -- summary ----------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Window statistics, generator health and the SLO verdict."""
        cfg = self.cfg
        win = [r for r in self.rows if r.phase == "measure"]
        length = sum(r.interval_s for r in win)

        def cat(name: str) -> npt.NDArray[np.float32]:
            parts = [r.array(name) for r in win]
            return np.concatenate(parts) if parts else np.empty(0, dtype=np.float32)

        counts: Counter[str] = Counter()
        for r in win:
            counts.update(r.counts)
        bot_seconds = sum(r.connected * r.interval_s for r in win)
        cov = cat("cov")
        heard, total = counts["heard"], counts["total"]
        server = [r.server for r in win if r.server is not None]
        gen_procs: dict[str, list[float]] = {}
        for r in win:
            for name, s in r.gen.items():
                gen_procs.setdefault(name, []).append(s.cpu_percent)
        gen_mean = {k: round(float(np.mean(v)), 1) for k, v in gen_procs.items()}
        worker_means = [v for k, v in gen_mean.items() if k.startswith("worker")]
        loop_lag99 = percentile(cat("loop_lag"), 99)
        send_lag99 = percentile(cat("send_lag"), 99)
        saturated_why = []
        if worker_means and max(worker_means) > GEN_CPU_SATURATED:
            saturated_why.append(f"generator process CPU {max(worker_means):.0f}%")
        if loop_lag99 is not None and loop_lag99 > GEN_LAG_SATURATED_MS:
            saturated_why.append(f"event-loop lag p99 {loop_lag99:.0f} ms")
        if send_lag99 is not None and send_lag99 > GEN_LAG_SATURATED_MS:
            saturated_why.append(f"send lag p99 {send_lag99:.0f} ms")
        host = self._host_summary(win, server, gen_procs)
        foreign_gen = host.get("foreign_cpu_on_generator_cores")
        if saturated_why and foreign_gen is not None and foreign_gen > 20.0:
            saturated_why.append(f"other processes used {foreign_gen:.0f}% of its cores")
        stale = summarize(cat("age"))
        coverage = heard / total if total else None
        errors_total = sum(self.errors.values())
        last = self.rows[-1] if self.rows else None
        out: dict[str, Any] = {
            "bots": cfg.bots,
            "window_s": round(length, 1),
            "connected_max": max((r.connected for r in self.rows), default=0),
            "walking_at_end_of_window": win[-1].walking if win else 0,
            "latency_ms": summarize(cat("lat")),
            "staleness_ms": stale,
            "coverage": {
                "mean": None if coverage is None else round(coverage, 4),
                "p5": _r4(percentile(cov, 5)),
                "scorings": int(cov.size),
            },
            "moves_per_s": round(counts["moves"] / length, 1) if length else 0.0,
            "down_bytes_per_s_per_bot": round(counts["bytes"] / bot_seconds, 1)
            if bot_seconds
            else 0.0,
            "down_snap_bytes_per_s_per_bot": round(counts["snap_bytes"] / bot_seconds, 1)
            if bot_seconds
            else 0.0,
            "errors": dict(self.errors),
            "errors_total": errors_total,
            "disconnects": last.disconnects if last else 0,
            "join_redirects": sum(self._redirects.values()),
            "unmatched_positions": counts["unmatched"],
            "rejoins": counts["rejoins"],
            "observer_corrections": counts["corrections"],
            "protocol_errors": counts["protocol"],
            "protocol_errors_by_kind": dict(
                sum((Counter(k) for k in self._protocol.values()), Counter())
            ),
            "server": None
            if not server
            else {
                "pid": cfg.server_pid,
                "cpu_mean": round(float(np.mean([s.cpu_percent for s in server])), 1),
                "cpu_max": round(max(s.cpu_percent for s in server), 1),
                "rss_mb_max": round(max(s.rss_mb for s in server), 1),
            },
            "generator": {
                "procs": cfg.procs,
                "cpu_mean_by_proc": gen_mean,
                "loop_lag_p99_ms": _r(loop_lag99),
                "send_lag_p99_ms": _r(send_lag99),
                "saturated": bool(saturated_why),
                "saturated_because": saturated_why,
            },
            "host": host,
        }
        foreign_srv = host.get("foreign_cpu_on_server_cores")
        contended = foreign_srv is not None and foreign_srv > FOREIGN_CPU_CONTENDED
        out["slo"] = self._verdict(
            stale, coverage, errors_total, bool(saturated_why) or contended, counts
        )
        if contended:
            out["slo"]["warnings"].append(
                f"other processes used {foreign_srv:.0f}% of the server's cores"
            )
        return out

    def _host_summary(
        self, win: list[Row], server: list[ProcSample], gen_procs: dict[str, list[float]]
    ) -> dict[str, Any]:
        """Mean busy % per core, and how much of it was neither the server nor the generator."""
        hosts = [r.host for r in win if r.host]
        if not hosts:
            return {}
        per_core = np.mean(np.asarray(hosts, dtype=np.float64), axis=0)
        out: dict[str, Any] = {
            "cpu_by_core_mean": [round(float(v), 1) for v in per_core],
            "generator_cores": self.gen_cores,
            "server_cores": self.server_cores,
        }
        g, s = set(self.gen_cores or []), set(self.server_cores or [])
        ncores = per_core.size
        if g and not g & s and len(g) < ncores:
            busy = sum(float(per_core[c]) for c in g if c < ncores)
            own = sum(float(np.mean(v)) for v in gen_procs.values())
            out["foreign_cpu_on_generator_cores"] = round(max(busy - own, 0.0), 1)
        if s and server and not g & s and len(s) < ncores:
            busy = sum(float(per_core[c]) for c in s if c < ncores)
            own = float(np.mean([p.cpu_percent for p in server]))
            out["foreign_cpu_on_server_cores"] = round(max(busy - own, 0.0), 1)
        return out

    def _verdict(
        self,
        stale: dict[str, float | None],
        coverage: float | None,
        errors_total: int,
        not_evidence: bool,
        counts: Counter[str],
    ) -> dict[str, Any]:
        slo = self.cfg.slo
        misses: list[str] = []
        p99 = stale.get("p99")
        if p99 is None:
            misses.append("no staleness samples")
        elif p99 > slo.staleness_p99_ms:
            misses.append(f"staleness p99 {p99:.0f} ms > {slo.staleness_p99_ms:.0f} ms")
        if coverage is None:
            misses.append("no coverage samples")
        elif coverage < slo.coverage_min:
            misses.append(f"coverage {coverage:.3f} < {slo.coverage_min}")
        if errors_total > slo.max_errors:
            misses.append(f"{errors_total} errors")
        warnings = []
        if counts["total"] and counts["unmatched"] > 0.01 * counts["total"]:
            warnings.append(
                f"{counts['unmatched']} seen positions were not on the walked path "
                f"(server clamped them? {counts['corrections']} self-corrections seen): "
                "staleness is unreliable"
            )
        if counts["protocol"]:
            warnings.append(f"{counts['protocol']} protocol errors seen by observers")
        verdict = "pass" if not misses else ("inconclusive" if not_evidence else "fail")
        return {
            "staleness_p99_ms_max": slo.staleness_p99_ms,
            "coverage_min": slo.coverage_min,
            "max_errors": slo.max_errors,
            "pass": not misses,
            "misses": misses,
            "verdict": verdict,
            "warnings": warnings,
        }


def _r4(v: float | None) -> float | None:
    return None if v is None else round(v, 4)
