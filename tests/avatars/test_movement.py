"""``move`` validation: malformed payloads are dropped with a reason, never raise."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from avatars import AvatarWorld, Bounds, InterestConfig, MoveResult
from avatars.movement import normalise_yaw, parse_move

BOUNDS = Bounds(-50.0, 50.0, -50.0, 50.0, min_y=0.0, max_y=10.0)
nan, inf = float("nan"), float("inf")


def _world() -> AvatarWorld:
    world = AvatarWorld(BOUNDS, InterestConfig(max_speed=6.0, max_moves_per_s=20))
    world.add(1, 0.0, 0.0, 0.0, 0.0, now_ms=0.0)
    return world


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([nan, 0.0, 0.0, 0.0, 0], MoveResult.NON_FINITE),
        ([0.0, inf, 0.0, 0.0, 0], MoveResult.NON_FINITE),
        ([0.0, 0.0, -inf, 0.0, 0], MoveResult.NON_FINITE),
        ([0.0, 0.0, 0.0, nan, 0], MoveResult.NON_FINITE),
        ([True, 0.0, 0.0, 0.0, 0], MoveResult.MALFORMED),
        ([0.0, 0.0, 0.0, 0.0, False], MoveResult.MALFORMED),
        (["1", 0.0, 0.0, 0.0, 0], MoveResult.MALFORMED),
        ([0.0, None, 0.0, 0.0, 0], MoveResult.MALFORMED),
        ([[0.0], 0.0, 0.0, 0.0, 0], MoveResult.MALFORMED),
        ([0.0, 0.0, 0.0, 0.0, 1.0], MoveResult.MALFORMED),
        ([0.0, 0.0, 0.0, 0.0], MoveResult.MALFORMED),
        ([0.0, 0.0, 0.0, 0.0, 0, 0], MoveResult.MALFORMED),
        ({"x": 0.0}, MoveResult.MALFORMED),
        ("0,0,0,0,0", MoveResult.MALFORMED),
        (b"\x95\x00\x00\x00\x00\x00", MoveResult.MALFORMED),
        (None, MoveResult.MALFORMED),
        ([10**400, 0.0, 0.0, 0.0, 0], MoveResult.OUT_OF_RANGE),
        ([1e300, 0.0, 0.0, 0.0, 0], MoveResult.OUT_OF_RANGE),
        ([0.0, 0.0, -1e7, 0.0, 0], MoveResult.OUT_OF_RANGE),
        ([0.0, 0.0, 0.0, 1e12, 0], MoveResult.OUT_OF_RANGE),
        ([0.0, 0.0, 0.0, 0.0, 256], MoveResult.OUT_OF_RANGE),
        ([0.0, 0.0, 0.0, 0.0, -1], MoveResult.OUT_OF_RANGE),
    ],
)
def test_bad_payloads_are_dropped_with_a_reason(payload: object, reason: MoveResult) -> None:
    world = _world()
    assert world.move(1, payload, 100.0) is reason
    assert reason.dropped and not reason.ok
    assert world.position(1) == (0.0, 0.0, 0.0, 0.0, 0)


def test_valid_payload_forms() -> None:
    world = _world()
    assert world.move(1, (0.1, 0, 0.2, 1, 255), 100.0) is MoveResult.ACCEPTED
    assert world.position(1) == (0.1, 0.0, 0.2, 1.0, 255)
    assert world.move(2, [0.0, 0.0, 0.0, 0.0, 0], 100.0) is MoveResult.UNKNOWN_EID


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
    lambda inner: (
        st.lists(inner, max_size=7)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(), inner, max_size=3)
    ),
    max_leaves=20,
)


@given(payload=json_like)
def test_arbitrary_payloads_never_raise(payload: object) -> None:
    world = _world()
    result = world.move(1, payload, 100.0)
    assert isinstance(result, MoveResult)
    x, y, z, yaw, anim = world.position(1)
    assert all(math.isfinite(v) for v in (x, y, z, yaw)) and 0 <= anim <= 255
    assert -50 <= x <= 50 and 0 <= y <= 10 and -50 <= z <= 50 and 0 <= yaw < 2 * math.pi


def test_teleport_is_clamped_toward_the_target_at_max_speed() -> None:
    world = _world()
    assert world.move(1, [30.0, 0.0, 40.0, 0.0, 0], 100.0) is MoveResult.CLAMPED
    x, _, z, _, _ = world.position(1)  # 0.1 s at 6 m/s = 0.6 m along (3, 4)/5
    assert x == pytest.approx(0.36) and z == pytest.approx(0.48)


def test_speed_budget_refills_at_max_speed_and_is_capped() -> None:
    world = _world()
    world.move(1, [5.0, 0.0, 0.0, 0.0, 0], 1.0)  # 1 ms after spawn: 6 mm earned
    assert world.position(1)[0] == pytest.approx(0.006)
    world.move(1, [50.0, 0.0, 0.0, 0.0, 0], 60_000.0)  # a minute idle buys BURST_S (0.5 s) only
    assert world.position(1)[0] == pytest.approx(3.006)
    assert world.move(1, [3.5, 0.0, 0.0, 0.0, 0], 60_100.0) is MoveResult.ACCEPTED


def test_bunched_moves_spend_what_the_quiet_interval_earned() -> None:
    world = _world()
    world.move(1, [0.0, 0.0, 0.0, 0.0, 0], 400.0)  # 0.4 s quiet: 2.4 m earned
    # Three 0.5 m steps arriving 2 ms apart (a slow client flushing) are all accepted...
    results = [world.move(1, [0.5 * i, 0.0, 0.0, 0.0, 1], 400.0 + 2 * i) for i in (1, 2, 3)]
    assert results == [MoveResult.ACCEPTED] * 3
    # ...but the budget is spent: a further 3 m jump right away is clamped.
    assert world.move(1, [4.5, 0.0, 0.0, 0.0, 1], 410.0) is MoveResult.CLAMPED
    assert world.position(1)[0] < 2.5


def test_moves_are_clamped_into_bounds() -> None:
    world = AvatarWorld(BOUNDS, InterestConfig(max_speed=100.0))
    world.add(1, 49.8, 9.9, -49.9, 0.0, now_ms=0.0)
    assert world.move(1, [50.5, 10.5, -50.2, 0.0, 3], 100.0) is MoveResult.CLAMPED
    assert world.position(1)[:3] == (50.0, 10.0, -50.0)
    assert world.move(1, [49.0, 10.0, -50.0, 0.0, 3], 200.0) is MoveResult.ACCEPTED


def test_rate_limit_is_a_sliding_one_second_window() -> None:
    world = _world()
    results = [world.move(1, [0.0, 0.0, 0.0, 0.0, 0], t * 10.0) for t in range(25)]
    assert results.count(MoveResult.ACCEPTED) == 20
    assert results[20:] == [MoveResult.RATE_LIMITED] * 5
    assert world.move(1, [0.0, 0.0, 0.0, 0.0, 0], 999.0) is MoveResult.RATE_LIMITED
    assert world.move(1, [0.0, 0.0, 0.0, 0.0, 0], 1000.0) is MoveResult.ACCEPTED
    # steady 20 Hz from here on is never limited
    assert all(world.move(1, [0.0, 0.0, 0.0, 0.0, 0], 1000.0 + 50.0 * i).ok for i in range(1, 60))


def test_dropped_moves_do_not_use_the_rate_budget() -> None:
    world = _world()
    for t in range(50):
        world.move(1, [nan, 0.0, 0.0, 0.0, 0], float(t))
    assert world.move(1, [0.0, 0.0, 0.0, 0.0, 0], 60.0) is MoveResult.ACCEPTED


@pytest.mark.parametrize(
    ("yaw", "expected"),
    [
        (0.0, 0.0),
        (-0.5, 2 * math.pi - 0.5),
        (7.0, 7.0 - 2 * math.pi),
        (-1e-20, 0.0),
        (2 * math.pi, 0.0),
        (-4 * math.pi, 0.0),
    ],
)
def test_yaw_is_normalised(yaw: float, expected: float) -> None:
    assert normalise_yaw(yaw) == pytest.approx(expected, abs=1e-12)
    assert 0.0 <= normalise_yaw(yaw) < 2 * math.pi


def test_parse_move_returns_floats() -> None:
    assert parse_move([1, 2, 3, 4, 5]) == (1.0, 2.0, 3.0, 4.0, 5)
