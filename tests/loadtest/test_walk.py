"""Deterministic walks: replayable, bounded, slow enough, and invertible to send times."""

from __future__ import annotations

import math
import random

from loadtest.walk import MAX_SPEED, Region, Walk


def _walk(index: int = 3, start: float = 1_000_000.0) -> Walk:
    return Walk(
        seed=5,
        index=index,
        spawn=(2.0, 0.5, 3.0),
        start_ms=start,
        region=Region(-20.0, 20.0, -10.0, 10.0),
        period_ms=100.0,
    )


def test_same_inputs_give_same_walk_in_any_order_of_queries() -> None:
    a, b = _walk(), _walk()
    times = [1_000_000.0 + t for t in range(0, 120_000, 700)]
    forward = [a.at(t) for t in times]
    backward = [b.at(t) for t in reversed(times)][::-1]
    assert forward == backward
    assert _walk(index=4).at(1_060_000.0) != a.at(1_060_000.0)


def test_starts_at_spawn_stays_in_region_and_under_max_speed() -> None:
    w = _walk()
    assert w.at(w.start_ms - 5000)[:2] == (2.0, 3.0)
    assert w.at(w.start_ms)[:2] == (2.0, 3.0)
    prev = w.at(w.start_ms)
    for k in range(1, 3000):
        cur = w.at(w.grid_time(k))
        assert -20.0 <= cur[0] <= 20.0 and -10.0 <= cur[1] <= 10.0
        step = math.hypot(cur[0] - prev[0], cur[1] - prev[1])
        assert step <= MAX_SPEED * 0.1 + 1e-9
        prev = cur


def test_send_time_recovered_from_centimetre_position() -> None:
    w = _walk()
    rng = random.Random(1)
    for _ in range(500):
        k = rng.randrange(0, 5000)
        sent = w.grid_time(k)
        x, z, _ = w.at(sent)
        seen = sent + rng.uniform(0.0, 3000.0)
        got = w.send_time_of(round(x * 100) / 100, round(z * 100) / 100, seen)
        assert got == sent


def test_position_off_the_path_is_unmatched() -> None:
    w = _walk()
    sent = w.grid_time(50)
    x, z, _ = w.at(sent)
    assert w.send_time_of(x + 1.0, z + 1.0, sent + 10) is None


def test_region_around_is_clipped_to_bounds() -> None:
    bounds = Region(-60, 60, -40, 40)
    r = Region.around(0.0, 30.0, 60.0, bounds)
    assert (r.min_x, r.max_x, r.min_z, r.max_z) == (-30.0, 30.0, 0.0, 40.0)
    assert Region.around(0.0, 0.0, 10.0).to_tuple() == (-5.0, 5.0, -5.0, 5.0)
