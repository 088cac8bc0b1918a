"""Area of interest: the K nearest within R, checked against brute force on random layouts."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avatars import AvatarWorld, Bounds, InterestConfig
from avatars.interest import Grid, k_nearest

from .reference import brute_visible

BOUNDS = Bounds(-20.0, 30.0, 0.0, 40.0)
coord_x = st.floats(BOUNDS.min_x, BOUNDS.max_x, allow_nan=False)
coord_z = st.floats(BOUNDS.min_z, BOUNDS.max_z, allow_nan=False)
edge_x = st.sampled_from([BOUNDS.min_x, BOUNDS.max_x, 0.0, 0.005, -0.005])
edge_z = st.sampled_from([BOUNDS.min_z, BOUNDS.max_z, 20.0, 0.004])


@st.composite
def layouts(draw: st.DrawFn) -> list[tuple[float, float]]:
    """Uniform points, tight clusters, exact duplicates and points on the bounds."""
    points: list[tuple[float, float]] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["uniform", "cluster", "dup", "edge"]))
        count = draw(st.integers(1, 25))
        if kind == "uniform":
            points += draw(st.lists(st.tuples(coord_x, coord_z), min_size=count, max_size=count))
        elif kind == "cluster":
            cx, cz = draw(coord_x), draw(coord_z)
            spread = draw(st.sampled_from([0.01, 0.5, 3.0]))
            offs = draw(
                st.lists(
                    st.tuples(st.floats(-1, 1), st.floats(-1, 1)), min_size=count, max_size=count
                )
            )
            points += [(cx + dx * spread, cz + dz * spread) for dx, dz in offs]
        elif kind == "dup" and points:
            points += [draw(st.sampled_from(points)) for _ in range(count)]
        else:
            points += draw(st.lists(st.tuples(edge_x, edge_z), min_size=count, max_size=count))
    return points


configs = st.builds(
    InterestConfig,
    radius=st.sampled_from([0.5, 4.0, 12.5, 30.0, 100.0]),
    max_visible=st.sampled_from([1, 2, 5, 16, 64]),
    grid_divisions=st.sampled_from([1, 2, 3, 8, 32]),
)


def _world(
    points: list[tuple[float, float]], config: InterestConfig, eids: list[int]
) -> AvatarWorld:
    world = AvatarWorld(BOUNDS, config)
    for eid, (x, z) in zip(eids, points, strict=False):
        world.add(eid, x, 0.0, z, 0.0, now_ms=0.0)
    return world


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(points=layouts(), config=configs, data=st.data())
def test_visible_sets_equal_brute_force_k_nearest(
    points: list[tuple[float, float]], config: InterestConfig, data: st.DataObject
) -> None:
    eids = data.draw(
        st.lists(st.integers(0, 2**32 - 1), min_size=len(points), max_size=len(points), unique=True)
    )
    world = _world(points, config, eids)
    world.step(1)
    expected = brute_visible(world, eids)
    for eid in eids:
        assert world.visible(eid) == sorted(expected[eid]), eid
        assert world.nearest(eid) == expected[eid]


def test_ties_at_the_kth_distance_go_to_the_lower_eid() -> None:
    world = AvatarWorld(BOUNDS, InterestConfig(radius=10.0, max_visible=2))
    world.add(50, 0.0, 0.0, 10.0, 0.0, 0.0)  # observer
    for eid in (9, 3, 7, 5):  # all exactly 2 m away
        world.add(eid, 2.0 if eid % 2 else -2.0, 0.0, 10.0, 0.0, 0.0)
    world.step(1)
    assert world.visible(50) == [3, 5]


def test_radius_is_inclusive_and_measured_in_xz() -> None:
    world = AvatarWorld(BOUNDS, InterestConfig(radius=5.0, max_visible=8))
    world.add(1, 0.0, 0.0, 10.0, 0.0, 0.0)
    world.add(2, 3.0, 20.0, 14.0, 0.0, 0.0)  # XZ distance exactly 5 m, 20 m above
    world.add(3, 0.0, 0.0, 15.01, 0.0, 0.0)
    world.step(1)
    assert world.visible(1) == [2]


def test_an_observer_never_sees_itself() -> None:
    world = _world([(1.0, 1.0)] * 4, InterestConfig(), [1, 2, 3, 4])
    world.step(1)
    assert world.visible(1) == [2, 3, 4]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 1500),
    area=st.sampled_from([8.0, 40.0, 200.0, 600.0]),
    k=st.sampled_from([1, 8, 64]),
    corridor=st.booleans(),
)
def test_k_nearest_matches_brute_force_at_scale(
    seed: int, n: int, area: float, k: int, corridor: bool
) -> None:
    """Large random layouts, including crowds much denser than K per radius."""
    rng = np.random.default_rng(seed)
    depth = 3.0 if corridor else area
    bounds = Bounds(0.0, area, 0.0, depth)
    grid = Grid.over(bounds, 30.0, 8)
    qx = rng.integers(0, int(area * 100) + 1, n)
    qz = rng.integers(0, int(depth * 100) + 1, n)
    rank = rng.permutation(n)
    r2 = 3000 * 3000
    obs, cand, d2 = k_nearest(qx, qz, rank, grid, r2, k)
    assert np.all(np.diff(obs) >= 0), "pairs must be grouped by observer"
    assert np.array_equal(d2, (qx[cand] - qx[obs]) ** 2 + (qz[cand] - qz[obs]) ** 2)
    got: dict[int, set[int]] = {}
    for o, c in zip(obs.tolist(), cand.tolist(), strict=True):
        got.setdefault(o, set()).add(c)
    for o in rng.choice(n, size=min(n, 60), replace=False).tolist():
        d2 = (qx - qx[o]) ** 2 + (qz - qz[o]) ** 2
        ok = np.flatnonzero((d2 <= r2) & (np.arange(n) != o))
        best = ok[np.lexsort((rank[ok], d2[ok]))][:k]
        assert got.get(o, set()) == set(best.tolist())
