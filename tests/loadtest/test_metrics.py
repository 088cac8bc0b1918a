"""Metric math on scenarios whose answer is known."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest
from socketio import packet as sio_packet
from socketio.msgpack_packet import MsgPackPacket

from loadtest.aggregate import Aggregator
from loadtest.config import LoadConfig
from loadtest.metrics import percentile, score_view, summarize, true_neighbours
from loadtest.observer import Observer
from loadtest.roster import BotJoined, Roster
from loadtest.sysmon import ProcSample

PERIOD = 100.0
START = 1_000_000.0


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None
    assert percentile([3, 1, 2], 50) == 2
    assert summarize([10.0, 20.0])["p99"] == 20.0


def test_true_neighbours_respects_radius_and_k() -> None:
    xs = np.arange(1, 101, dtype=np.float64)  # points at x = 1..100 m on a line
    pts = np.stack([xs, np.zeros_like(xs)], axis=1)
    assert sorted(true_neighbours((0.0, 0.0), pts, 30.0, 64).tolist()) == list(range(30))
    assert sorted(true_neighbours((0.0, 0.0), pts, 1000.0, 5).tolist()) == [0, 1, 2, 3, 4]
    assert true_neighbours((0.0, 0.0), np.empty((0, 2)), 30.0, 64).size == 0


def test_score_view_counts_ages_coverage_and_latency() -> None:
    held = {1: (0.0, 0.0, 900.0), 2: (0.0, 0.0, 100.0)}  # 1 heard 100 ms ago, 2 heard 900 ms ago
    sent = {1: 850.0, 2: 50.0}
    s = score_view(1000.0, [1, 2, 3], held, lambda i, x, z, t: sent[i], window_ms=500.0)
    assert (s.total, s.heard) == (3, 1)  # 3 never heard, 2 not within the window
    assert sorted(s.ages_ms) == [150.0, 950.0]
    assert s.latencies_ms == [50.0]


def _frame(event: str, arg: object) -> bytes:
    out: bytes = MsgPackPacket(sio_packet.EVENT, [event, arg], "/").encode()
    return out


def _scenario_roster(n: int) -> Roster:
    roster = Roster(seed=9, period_ms=PERIOD)
    for i in range(n):
        roster.add(
            BotJoined(
                i, 100 + i, "hall:main#1", (0.0, 0.0, 0.0), START + 10 * i, (-8.0, 8.0, -8.0, 8.0)
            )
        )
    return roster


def test_observer_scores_a_synthetic_feed_exactly() -> None:
    """Nine neighbours delivered 30 ms after each send on a 100 ms server tick, one silent."""
    n, delay, silent = 11, 30.0, 10
    roster = _scenario_roster(n)
    obs = Observer("hall:main#1")
    obs.on_frame(
        _frame("enter", [{"eid": 100 + i, "display_name": f"bot-{i}"} for i in range(1, n)]), START
    )
    last_sent: dict[int, float] = {}
    last_recv: dict[int, float] = {}
    tick_t = START + 3000.0
    for tick in range(40):
        now = tick_t + tick * PERIOD
        rows = []
        for i in range(1, n):
            if i == silent:
                continue
            w = roster.walk_by_eid("hall:main#1", 100 + i)
            assert w is not None
            sent = w.grid_time(w.grid_index(now - delay))
            x, z, _ = w.at(sent)
            rows.append([100 + i, round(x * 100), 0, round(z * 100), 0, 1])
            last_sent[i], last_recv[i] = sent, now
        obs.on_frame(_frame("snap", msgpack.packb([tick, rows, []])), now)
    now = tick_t + 39 * PERIOD + 60.0
    me_walk = roster.walk_by_eid("hall:main#1", 100)
    assert me_walk is not None
    me = me_walk.at(now)[:2]
    present = roster.present(now, "hall:main#1", 1000.0)
    s = obs.score(now, me, 0, roster, present, radius=30.0, k=64)
    assert s.total == n - 1 and s.heard == n - 2 and s.unmatched == 0
    assert sorted(s.ages_ms) == pytest.approx(sorted(now - last_sent[i] for i in last_sent))
    assert sorted(s.latencies_ms) == pytest.approx(
        sorted(last_recv[i] - last_sent[i] for i in last_sent)
    )
    assert all(delay <= v < delay + PERIOD for v in s.latencies_ms)
    assert obs.protocol_errors == 0


def test_snap_for_an_entity_never_entered_is_a_protocol_error() -> None:
    obs = Observer("r")
    obs.on_frame(_frame("snap", msgpack.packb([1, [[5, 0, 0, 0, 0, 0]], []])), 0.0)
    assert obs.protocol == {"snap_before_enter": 1}
    obs.on_frame(_frame("snap", msgpack.packb([2, [], [5]])), 0.0)
    assert 5 not in obs.held
    obs.on_frame(_frame("snap", msgpack.packb([3, [[5, 1, 0, 0, 0, 0]], []])), 0.0)
    assert obs.protocol == {"snap_before_enter": 1, "snap_after_gone": 1}
    obs.on_frame(_frame("enter", [{"eid": 6}]), 0.0)
    obs.on_frame(_frame("snap", msgpack.packb([4, [[6, 1, 0, 0, 0, 0]], [6]])), 0.0)
    obs.on_frame(_frame("enter", [{"eid": 6}]), 0.0)
    obs.on_frame(_frame("snap", msgpack.packb([5, [[6, 2, 0, 0, 0, 0]], []])), 0.0)
    assert obs.protocol_errors == 2 and obs.held[6][0] == 2


def _payload(age: list[float], heard: int, total: int, **extra: object) -> dict[str, object]:
    return {
        "connected": 10,
        "walking": 10,
        "moves": 100,
        "bytes": 50_000,
        "lat": age,
        "age": age,
        "cov": [heard / total] if total else [],
        "heard": heard,
        "total": total,
        "loop_lag": [1.0],
        "send_lag": [1.0],
        "errors": {},
        **extra,
    }


def _summary(payloads: list[dict[str, object]], gen_cpu: float = 20.0) -> dict[str, object]:
    cfg = LoadConfig(bots=10, ramp_s=1.0, duration_s=3.0)
    agg = Aggregator(cfg, 0.0)
    for k, p in enumerate(payloads):
        agg.add(0, p)
        agg.close_row(
            1000.0 * (k + 1), ProcSample(50.0, 100.0), {"worker0": ProcSample(gen_cpu, 50.0)}
        )
    return agg.summary()


def test_verdict_pass_fail_and_inconclusive() -> None:
    good = [_payload([100.0, 200.0], 99, 100) for _ in range(5)]
    s = _summary(good)
    assert s["slo"]["verdict"] == "pass"  # type: ignore[index]
    assert s["down_bytes_per_s_per_bot"] == 5000.0
    stale = [_payload([100.0, 400.0], 99, 100) for _ in range(5)]
    assert _summary(stale)["slo"]["verdict"] == "fail"  # type: ignore[index]
    assert _summary(stale, gen_cpu=97.0)["slo"]["verdict"] == "inconclusive"  # type: ignore[index]
    low_cov = [_payload([100.0], 90, 100) for _ in range(5)]
    assert _summary(low_cov)["slo"]["misses"] == ["coverage 0.900 < 0.95"]  # type: ignore[index]
    errs = good[:2] + [_payload([100.0], 99, 100, errors={"join_full": 1})] + good[3:]
    assert _summary(errs)["slo"]["misses"] == ["1 errors"]  # type: ignore[index]


def test_own_entity_in_a_snap_is_a_correction_not_an_error() -> None:
    obs = Observer("r")
    obs.self_eid = 8
    obs.on_frame(_frame("snap", msgpack.packb([1, [[8, 0, 0, 0, 0, 0]], []])), 0.0)
    assert (obs.corrections, obs.protocol_errors, 8 in obs.held) == (1, 0, False)
