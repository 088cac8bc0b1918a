"""The capacity report: one row per step, a plot, and the config helpers it relies on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loadtest.bench_report import plot_curve, step_record, write_markdown
from loadtest.config import LoadConfig


def _result(bots: int, p99: float, verdict: str, saturated: bool = False) -> dict[str, Any]:
    dist = {"n": 100.0, "p50": p99 / 2, "p95": p99 * 0.9, "p99": p99, "max": p99}
    return {
        "summary": {
            "bots": bots, "connected_max": bots, "staleness_ms": dist, "latency_ms": dist,
            "coverage": {"mean": 0.99, "p5": 0.9, "scorings": 10},
            "down_bytes_per_s_per_bot": 8000.0, "down_snap_bytes_per_s_per_bot": 6500.0,
            "moves_per_s": bots * 10.0,
            "errors_total": 0, "errors": {}, "disconnects": 0,
            "server": {"cpu_mean": bots / 20, "cpu_max": bots / 15, "rss_mb_max": 120.0},
            "generator": {"cpu_mean_by_proc": {"worker0": 30.0}, "loop_lag_p99_ms": 5.0,
                          "send_lag_p99_ms": 4.0, "saturated": saturated,
                          "saturated_because": ["loop lag"] if saturated else []},
            "host": {"foreign_cpu_on_server_cores": 3.0, "foreign_cpu_on_generator_cores": 4.0},
            "slo": {"verdict": verdict, "misses": [] if verdict == "pass" else ["staleness"],
                    "warnings": []},
        },
        "server_ticks_ms": {"p50": p99 / 10, "p99": p99 / 4, "max": p99 / 2},
    }  # fmt: skip


def test_markdown_and_plot_hold_every_step(tmp_path: Path) -> None:
    steps = [step_record(_result(100, 180.0, "pass")), step_record(_result(250, 300.0, "fail"))]
    doc = {
        "date": "2026-01-01", "machine": {"cpus": 2, "cpu": "test", "python": "3.11"},
        "room": "hall:main",
        "rate_hz": 10.0, "duration_s": 20.0, "server": {"cores": "0"},
        "generator": {"cores": "1", "procs": 1},
        "slo": {"staleness_p99_ms": 250, "coverage_min": 0.95, "errors": 0},
        "steps": steps, "capacity_bots": 100, "stopped_because": "step 250 missed the SLO",
    }  # fmt: skip
    md = tmp_path / "a.md"
    write_markdown(doc, md)
    text = md.read_text()
    assert "**Capacity: 100 bots**" in text
    assert "| 100 | pass | 90 / 180 |" in text and "| 250 | fail | 150 / 300 |" in text
    # CPU per avatar = mean CPU % × 10 / bots (ms of CPU per second); the server's tick quantiles
    assert "| 5 / 7 | 0.50 | 18.0 / 45.0 / 90.0 |" in text
    assert "| 8.0 (6.5) | 0 |" in text  # all bytes, and of them the snaps
    old = _result(100, 180.0, "pass")
    del old["server_ticks_ms"]  # a server without the tick gauge: dashes, not a crash
    assert step_record(old)["tick_p99_ms"] is None
    png = tmp_path / "a.png"
    plot_curve(doc, png)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_observers_spread_evenly_and_workers_interleave() -> None:
    assert sorted(LoadConfig(bots=1000, observers=100).observer_indices())[:3] == [0, 10, 20]
    cfg = LoadConfig(bots=1000, observers=100, procs=3)
    obs = cfg.observer_indices()
    assert len(obs) == 100
    assert [len(obs & set(cfg.worker_indices(w))) for w in range(3)] == [33, 34, 33]
    assert sorted(sum((cfg.worker_indices(w) for w in range(3)), [])) == list(range(1000))
    assert LoadConfig(bots=5, observers=100).observer_indices() == frozenset(range(5))


async def test_the_bench_reads_the_servers_tick_quantiles(server: Any) -> None:
    from loadtest.runner import server_tick_ms
    from tests.helpers import wait_for

    rt = server.app.metrics.runtime
    await wait_for(lambda: len(rt.recent_ticks) >= 5, timeout=5)
    ticks = await server_tick_ms(server.url)
    assert set(ticks) == {"p50", "p99", "max"}
    assert 0 <= ticks["p50"] <= ticks["p99"] <= ticks["max"]
    assert await server_tick_ms("http://127.0.0.1:9") == {}  # nothing listening: no figures
