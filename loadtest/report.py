"""Human-facing output: the live progress line, the JSON document and the PNG plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .aggregate import Aggregator, Row

__all__ = ["format_summary", "plot_run", "progress_line", "write_json"]


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def progress_line(row: Row, agg: Aggregator) -> str:
    """One line per second: load, latency, staleness, coverage, errors, CPU."""
    d = row.to_dict()
    srv = (
        "srv -"
        if d["server_cpu"] is None
        else f"srv {d['server_cpu']:.0f}% {d['server_rss_mb']:.0f}MB"
    )
    cov = "-" if d["coverage"] is None else f"{d['coverage']:.3f}"
    return (
        f"[{d['t_s']:5.0f}s {d['phase']:<7}] bots {d['connected']}/{agg.cfg.bots}"
        f" | moves {d['moves_per_s']:.0f}/s"
        f" | down {d['down_bytes_per_s_per_bot'] / 1000:.1f} kB/s/bot"
        f" | lat p50 {_ms(d['latency_p50_ms'])} p99 {_ms(d['latency_p99_ms'])} ms"
        f" | stale p50 {_ms(d['staleness_p50_ms'])} p99 {_ms(d['staleness_p99_ms'])} ms"
        f" | cov {cov} | err {d['errors']} disc {d['disconnects']}"
        f" | {srv} | gen {d['gen_cpu_max_proc']:.0f}% lag99 {_ms(d['loop_lag_p99_ms'])}ms"
    )


def format_summary(result: dict[str, Any]) -> str:
    """A few lines for the end of a run."""
    s = result["summary"]
    slo, gen, srv = s["slo"], s["generator"], s["server"]
    lines = ["(interrupted)"] if result.get("interrupted") else []
    lines += [
        f"bots {s['bots']} (max connected {s['connected_max']}), window {s['window_s']} s,"
        f" moves {s['moves_per_s']}/s, down {s['down_bytes_per_s_per_bot'] / 1000:.2f} kB/s/bot"
        f" (snaps {s.get('down_snap_bytes_per_s_per_bot', 0) / 1000:.2f})",
        f"latency ms p50/p95/p99 {_ms(s['latency_ms']['p50'])}/{_ms(s['latency_ms']['p95'])}"
        f"/{_ms(s['latency_ms']['p99'])}; staleness ms p50/p99 {_ms(s['staleness_ms']['p50'])}"
        f"/{_ms(s['staleness_ms']['p99'])}; coverage {s['coverage']['mean']}"
        f" (p5 {s['coverage']['p5']})",
        f"errors {s['errors_total']} {s['errors'] or ''} disconnects {s['disconnects']}",
        "server: -"
        if srv is None
        else f"server: cpu mean {srv['cpu_mean']}% max {srv['cpu_max']}%,"
        f" rss {srv['rss_mb_max']} MB",
        f"generator: cpu {gen['cpu_mean_by_proc']}, loop lag p99 {gen['loop_lag_p99_ms']} ms,"
        f" send lag p99 {gen['send_lag_p99_ms']} ms"
        + (f", SATURATED ({'; '.join(gen['saturated_because'])})" if gen["saturated"] else ""),
        _host_line(s.get("host") or {}),
        f"SLO: {slo['verdict'].upper()}"
        + (f" ({'; '.join(slo['misses'])})" if slo["misses"] else ""),
    ]
    lines += [f"warning: {w}" for w in slo["warnings"]]
    if s.get("protocol_errors_by_kind"):
        lines.append(f"protocol errors by kind (whole run): {s['protocol_errors_by_kind']}")
    return "\n".join(lines)


def _host_line(host: dict[str, Any]) -> str:
    if not host:
        return "host: -"
    parts = [f"host CPU by core {host['cpu_by_core_mean']} %"]
    srv = host.get("foreign_cpu_on_server_cores")
    gen = host.get("foreign_cpu_on_generator_cores")
    if srv is not None:
        parts.append(f"other processes on the server's cores {srv:.0f}%")
    if gen is not None:
        parts.append(f"on the generator's cores {gen:.0f}%")
    return "; ".join(parts)


def write_json(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, default=_jsonable) + "\n")


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"not JSON serialisable: {type(v)}")


def plot_run(result: dict[str, Any], path: Path) -> None:
    """Four panels over time: latency/staleness, coverage, CPU, traffic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tl = result["timeline"]
    cfg, s = result["config"], result["summary"]
    t = [r["t_s"] for r in tl]

    def col(name: str) -> list[float]:
        return [np.nan if r[name] is None else r[name] for r in tl]

    fig, axes = plt.subplots(4, 1, figsize=(10, 11), sharex=True)
    ax = axes[0]
    ax.plot(t, col("staleness_p99_ms"), label="staleness p99")
    ax.plot(t, col("staleness_p50_ms"), label="staleness p50")
    ax.plot(t, col("latency_p99_ms"), label="latency p99", linestyle="--")
    ax.plot(t, col("latency_p50_ms"), label="latency p50", linestyle="--")
    ax.axhline(cfg["slo"]["staleness_p99_ms"], color="red", linewidth=0.8, label="SLO")
    ax.set_ylabel("ms")
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[1]
    ax.plot(t, col("coverage"), label="coverage")
    ax.axhline(cfg["slo"]["coverage_min"], color="red", linewidth=0.8)
    ax.set_ylabel("coverage")
    ax.set_ylim(0, 1.02)
    ax = axes[2]
    ax.plot(t, col("server_cpu"), label="server CPU %")
    ax.plot(t, col("gen_cpu_max_proc"), label="generator CPU % (busiest process)")
    ax.plot(t, col("loop_lag_p99_ms"), label="generator loop lag p99 ms", linestyle=":")
    ax.set_ylabel("%  /  ms")
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[3]
    ax.plot(t, [v / 1000 for v in col("down_bytes_per_s_per_bot")], label="down kB/s per bot")
    ax.set_ylabel("kB/s/bot")
    ax2 = ax.twinx()
    ax2.plot(t, col("connected"), color="gray", label="connected bots")
    ax2.set_ylabel("bots")
    ax.set_xlabel("seconds since start")
    ramp = cfg["ramp_s"]
    for a in axes:
        a.axvspan(0, ramp, color="0.92")
        a.grid(True, linewidth=0.3)
    fig.suptitle(
        f"metahall-loadtest {cfg['bots']} bots @ {cfg['rate_hz']} Hz, room {cfg['room']}:"
        f" {s['slo']['verdict']}"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
