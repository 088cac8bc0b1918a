"""Tables and the capacity plot of ``bench_avatar_sync`` (one row per step)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_curve", "step_record", "write_markdown"]


def step_record(result: dict[str, Any]) -> dict[str, Any]:
    """The few numbers of one load-test result that the capacity curve needs."""
    s = result["summary"]
    srv, gen, host = s["server"] or {}, s["generator"], s.get("host") or {}
    return {
        "bots": s["bots"],
        "connected_max": s["connected_max"],
        "verdict": s["slo"]["verdict"],
        "misses": s["slo"]["misses"],
        "warnings": s["slo"]["warnings"],
        "staleness_p50_ms": s["staleness_ms"]["p50"],
        "staleness_p99_ms": s["staleness_ms"]["p99"],
        "coverage": s["coverage"]["mean"],
        "coverage_p5": s["coverage"]["p5"],
        "latency_p50_ms": s["latency_ms"]["p50"],
        "latency_p95_ms": s["latency_ms"]["p95"],
        "latency_p99_ms": s["latency_ms"]["p99"],
        "down_bytes_per_s_per_bot": s["down_bytes_per_s_per_bot"],
        "down_snap_bytes_per_s_per_bot": s.get("down_snap_bytes_per_s_per_bot"),
        "moves_per_s": s["moves_per_s"],
        "errors": s["errors_total"],
        "error_kinds": s["errors"],
        "disconnects": s["disconnects"],
        "server_cpu_mean": srv.get("cpu_mean"),
        "server_cpu_max": srv.get("cpu_max"),
        "server_rss_mb": srv.get("rss_mb_max"),
        "gen_cpu_by_proc": gen["cpu_mean_by_proc"],
        "gen_loop_lag_p99_ms": gen["loop_lag_p99_ms"],
        "gen_send_lag_p99_ms": gen["send_lag_p99_ms"],
        "gen_saturated": gen["saturated"],
        "gen_saturated_because": gen["saturated_because"],
        "foreign_cpu_on_server_cores": host.get("foreign_cpu_on_server_cores"),
        "foreign_cpu_on_generator_cores": host.get("foreign_cpu_on_generator_cores"),
        "server_cpu_ms_per_avatar_s": (
            None if srv.get("cpu_mean") is None or not s["bots"]
            else round(srv["cpu_mean"] * 10.0 / s["bots"], 3)
        ),
        "tick_p50_ms": (result.get("server_ticks_ms") or {}).get("p50"),
        "tick_p99_ms": (result.get("server_ticks_ms") or {}).get("p99"),
        "tick_max_ms": (result.get("server_ticks_ms") or {}).get("max"),
    }


def fmt(v: Any, nd: int = 0) -> str:
    """A table cell: "–" for missing, floats to ``nd`` places."""
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def _capacity(doc: dict[str, Any]) -> str:
    cap = doc["capacity_bots"]
    return "not established" if cap is None else f"{cap} bots"


def write_markdown(doc: dict[str, Any], path: Path) -> None:
    m = doc["machine"]
    lines = [
        "# avatar-sync capacity",
        "",
        f"{doc['date']} · {m['cpus']} × {m['cpu']} · Python {m['python']} · room "
        f"`{doc['room']}` · {doc['rate_hz']:g} moves/s per bot · {doc['duration_s']:g} s "
        f"measured per step · server on CPU {doc['server']['cores']}, bots on CPU "
        f"{doc['generator']['cores']} ({doc['generator']['procs']} process)"
        + (
            " · kept going past inconclusive steps"
            if doc.get("options", {}).get("keep_going")
            else ""
        ),
        "",
        f"SLO: view staleness p99 ≤ {doc['slo']['staleness_p99_ms']} ms, coverage ≥ "
        f"{doc['slo']['coverage_min']}, no errors. **Capacity: {_capacity(doc)}** "
        f"({doc['stopped_because']}).",
        "",
        "| bots | verdict | staleness p50 / p99 ms | coverage | latency p50 / p95 / p99 ms"
        " | down kB/s/bot (snaps) | errors | server CPU mean / max % | CPU ms/s per avatar"
        " | tick p50 / p99 / max ms | server RSS MB"
        " | generator CPU % | gen loop lag p99 ms | other load srv / gen cores % |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in doc["steps"]:
        if "staleness_p99_ms" not in s:
            lines.append(f"| {s['bots']} | {s['verdict']} | | | | | | | | | | | | |")
            continue
        gen = max(
            (v for k, v in s["gen_cpu_by_proc"].items() if k.startswith("worker")), default=None
        )
        verdict = s["verdict"] + (" (generator saturated)" if s["gen_saturated"] else "")
        if s["verdict"] == "inconclusive" and not s["gen_saturated"]:
            verdict += " (server core contended)"
        bps, sbps = s["down_bytes_per_s_per_bot"], s.get("down_snap_bytes_per_s_per_bot")
        down = None if bps is None else bps / 1e3
        snaps = None if sbps is None else sbps / 1e3
        lines.append(
            f"| {s['bots']} | {verdict} | {fmt(s['staleness_p50_ms'])} / "
            f"{fmt(s['staleness_p99_ms'])} | {fmt(s['coverage'], 3)} | {fmt(s['latency_p50_ms'])} / "
            f"{fmt(s['latency_p95_ms'])} / {fmt(s['latency_p99_ms'])} | {fmt(down, 1)} ({fmt(snaps, 1)}) | "
            f"{s['errors']} | {fmt(s['server_cpu_mean'])} / {fmt(s['server_cpu_max'])} | "
            f"{fmt(s.get('server_cpu_ms_per_avatar_s'), 2)} | {fmt(s.get('tick_p50_ms'), 1)} / "
            f"{fmt(s.get('tick_p99_ms'), 1)} / {fmt(s.get('tick_max_ms'), 1)} | "
            f"{fmt(s['server_rss_mb'])} | {fmt(gen)} | {fmt(s['gen_loop_lag_p99_ms'])} | "
            f"{fmt(s['foreign_cpu_on_server_cores'])} / {fmt(s['foreign_cpu_on_generator_cores'])} |"
        )
    lines += [
        "",
        "Staleness: per observer bot about once a second, for each of its true 64 nearest"
        " within 30 m, the age of the newest position it holds (now − when that position was"
        " sent). Coverage: share of those neighbours heard from in the last second. Latency:"
        " `move` sent → position received by an observer. A missed step is *inconclusive*"
        " (not evidence against the server) when the generator saturated (CPU > 90 %, or"
        " loop/send lag p99 > 100 ms) or other processes used > 20 % of the server's core."
        ' "Other load" is CPU used on those cores by processes that are neither the server'
        " nor the generator. CPU ms/s per avatar: the server's mean CPU over the window divided"
        " by the bots. Tick: the server's own durations of its last 300 ticks (30 s) at the end of"
        " the measured window (`metahall_tick_recent_seconds`); the budget at 10 Hz is 100 ms.",
    ]
    for s in doc["steps"]:
        for note in s.get("misses", []) + s.get("warnings", []):
            lines.append(f"- step {s['bots']}: {note}")
        for why in s.get("gen_saturated_because", []):
            lines.append(f"- step {s['bots']}: generator saturated: {why}")
    path.write_text("\n".join(lines) + "\n")


def plot_curve(doc: dict[str, Any], path: Path) -> None:
    """Bots vs staleness p99 (left) and server CPU (right), one marker per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [s for s in doc["steps"] if s.get("staleness_p99_ms") is not None]
    fig, ax = plt.subplots(figsize=(8, 5))
    x = [s["bots"] for s in steps]
    ax.plot(
        x, [s["staleness_p99_ms"] for s in steps], "-", color="tab:blue", label="staleness p99 (ms)"
    )
    ax.plot(
        x, [s["staleness_p50_ms"] for s in steps], ":", color="tab:blue", label="staleness p50 (ms)"
    )
    colours = {"pass": "tab:green", "fail": "tab:red", "inconclusive": "tab:orange"}
    for s in steps:
        ax.scatter(
            [s["bots"]], [s["staleness_p99_ms"]], color=colours.get(s["verdict"], "k"), zorder=3
        )
    ax.axhline(
        doc["slo"]["staleness_p99_ms"], color="tab:red", linewidth=0.8, label="SLO staleness p99"
    )
    if max((s["staleness_p99_ms"] for s in steps), default=0) > 4 * doc["slo"]["staleness_p99_ms"]:
        ax.set_yscale("log")
    ax.set_xlabel("bots (avatars)")
    ax.set_ylabel("view staleness (ms)")
    ax.grid(True, linewidth=0.3)
    ax2 = ax.twinx()
    ax2.plot(
        x,
        [s["server_cpu_mean"] for s in steps],
        "--",
        color="tab:purple",
        label="server CPU mean (%)",
    )
    ax2.set_ylabel("server CPU (% of one core)")
    ax2.set_ylim(0, max([110.0] + [s["server_cpu_max"] or 0 for s in steps]))
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    ax.set_title(
        f"avatar-sync capacity: {_capacity(doc)} (green pass, red fail, orange inconclusive)",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
