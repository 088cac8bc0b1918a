"""Paths on the hall floor avoid the waiting-area seating and other furniture."""

from __future__ import annotations

import math

import pytest

from rooms.hall import hall_planner
from rooms.hall.path import FloorPlanner, rects_from_features
from rooms.layouts import HALL_LAYOUT

PLANNER = hall_planner()
SEATING = [r for f, r in zip(HALL_LAYOUT.features, rects_from_features(HALL_LAYOUT.features),
                             strict=True) if f["type"] == "seating"]


def crosses(p: list[float], q: list[float], rect: tuple[float, float, float, float]) -> bool:
    """Sample the segment densely: any point strictly inside the rectangle?"""
    x0, x1, z0, z1 = rect
    for i in range(201):
        t = i / 200
        x, z = p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t
        if x0 < x < x1 and z0 < z < z1:
            return True
    return False


@pytest.mark.parametrize("start", [(0, 30), (-20, 30), (18, 12), (-40, 0), (18, -5.5), (0, -20)])
@pytest.mark.parametrize("counter_x", [-49.5, -4.5, 22.5, 49.5])
def test_path_reaches_the_counter_without_crossing_seating(start: tuple[float, float],
                                                          counter_x: float) -> None:
    goal = (counter_x, -31.4)
    path = PLANNER.path(start, goal)
    assert path[-1] == [counter_x, -31.4]
    assert math.dist(path[0], start) < 1.5  # started where the citizen stands (or just outside)
    for a, b in zip(path, path[1:], strict=False):
        assert not any(crosses(a, b, r) for r in SEATING), (start, counter_x, path)
    length = sum(math.dist(a, b) for a, b in zip(path, path[1:], strict=False))
    assert length < math.dist(start, goal) * 1.6  # no silly detours


def test_open_floor_gives_a_straight_line() -> None:
    assert PLANNER.path((0, -20), (4.5, -31.4)) == [[0, -20], [4.5, -31.4]]


def test_a_start_inside_furniture_is_moved_out_first() -> None:
    path = PLANNER.path((18, -3), (-4.5, -31.4))  # on a bench
    assert not any(crosses(path[0], path[0], r) for r in SEATING)


def test_walled_in_goal_still_returns_a_line() -> None:
    box = FloorPlanner((-10, 10, -10, 10), [(-3, 3, 2, 2.5), (-3, 3, -2.5, -2),
                                            (2, 2.5, -3, 3), (-2.5, -2, -3, 3)], clearance=0.2)
    assert len(box.path((8, 8), (0, 0))) >= 2
