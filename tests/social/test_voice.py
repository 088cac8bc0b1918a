"""Proximity voice pairing by distance: radius, hysteresis, zones, the per-person cap."""

from __future__ import annotations

import math
import random

from rooms.social.voice import VoiceConfig, VoiceSelector, select_pairs

CFG = VoiceConfig(radius=8.0, margin=1.5, max_peers=8)


def pairs(points: dict[int, tuple[float, float]], zones: dict[int, str | None] | None = None,
          current: set[tuple[int, int]] | None = None, cfg: VoiceConfig = CFG) -> set[tuple[int, int]]:
    eids = sorted(points)
    z = zones or {}
    return select_pairs(eids, [points[e][0] for e in eids], [points[e][1] for e in eids],
                        [z.get(e) for e in eids], current or set(), cfg)


def test_two_people_within_the_radius_are_paired() -> None:
    assert pairs({1: (0, 0), 2: (7.9, 0)}) == {(1, 2)}
    assert pairs({1: (0, 0), 2: (5, 6)}) == {(1, 2)}  # 7.8 m diagonally


def test_two_people_beyond_the_radius_are_not() -> None:
    assert pairs({1: (0, 0), 2: (8.1, 0)}) == set()
    assert pairs({1: (0, 0), 2: (6, 6)}) == set()  # 8.5 m


def test_an_existing_call_survives_the_margin_then_ends() -> None:
    sel = VoiceSelector(CFG)
    diff = sel.update([1, 2], [0, 7], [0, 0], [None, None])
    assert diff.added == {(1, 2)} and not diff.removed
    # Walking to 9 m (radius 8 + margin 1.5 keeps it): no change, no flapping.
    assert not sel.update([1, 2], [0, 9], [0, 0], [None, None])
    assert sel.connected(2, 1)
    # At 9.6 m it ends.
    diff = sel.update([1, 2], [0, 9.6], [0, 0], [None, None])
    assert diff.removed == {(1, 2)} and not diff.added
    # Coming back to 9 m does not reconnect (a new call needs 8 m) ...
    assert not sel.update([1, 2], [0, 9], [0, 0], [None, None])
    # ... 8 m does.
    assert sel.update([1, 2], [0, 8], [0, 0], [None, None]).added == {(1, 2)}


def test_people_at_a_table_hear_only_each_other() -> None:
    pts = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (3, 0)}
    zones: dict[int, str | None] = {1: "A", 2: "A", 3: None, 4: None}
    assert pairs(pts, zones) == {(1, 2), (3, 4)}
    zones = {1: "A", 2: "B", 3: None, 4: "A"}
    assert pairs(pts, zones) == {(1, 4)}


def test_everyone_at_a_table_hears_each_other_however_far_apart_they_sit() -> None:
    # a seat is kept up to 7 m from the table: two people at one table can be 14 m apart
    pts = {1: (-7.0, 0.0), 2: (7.0, 0.0), 3: (-7.0, 30.0), 4: (7.0, 30.0)}
    zones: dict[int, str | None] = {1: "A", 2: "A", 3: None, 4: None}
    assert pairs(pts, zones) == {(1, 2)}  # on the open floor 14 m is out of earshot


def test_nobody_gets_more_than_the_cap_and_the_nearest_win() -> None:
    # One listener at the centre, twelve people on rings around it.
    pts = {0: (0.0, 0.0)}
    for i in range(12):
        r = 1.0 + i * 0.5  # 1.0 .. 6.5 m
        a = i * 2 * math.pi / 12
        pts[i + 1] = (r * math.cos(a), r * math.sin(a))
    got = pairs(pts)
    counts: dict[int, int] = {}
    for a, b in got:
        counts[a] = counts.get(a, 0) + 1
        counts[b] = counts.get(b, 0) + 1
    assert max(counts.values()) <= 8
    centre = sorted(b for a, b in got if a == 0)
    assert len(centre) == 8 and centre == list(range(1, 9))  # its 8 nearest


def test_the_cap_holds_in_a_dense_random_crowd() -> None:
    rng = random.Random(7)
    sel = VoiceSelector(CFG)
    eids = list(range(1, 121))
    xs = [rng.uniform(-10, 10) for _ in eids]
    zs = [rng.uniform(-10, 10) for _ in eids]
    for _ in range(20):
        sel.update(eids, xs, zs, [None] * len(eids))
        for e in eids:
            assert len(sel.peers_of(e)) <= 8
        for a, b in sel.pairs:
            ia, ib = eids.index(a), eids.index(b)
            assert math.hypot(xs[ia] - xs[ib], zs[ia] - zs[ib]) <= 9.5 + 1e-9
        xs = [x + rng.uniform(-0.5, 0.5) for x in xs]
        zs = [z + rng.uniform(-0.5, 0.5) for z in zs]


def test_an_existing_call_is_not_dropped_for_someone_slightly_nearer() -> None:
    cfg = VoiceConfig(radius=8.0, margin=1.5, max_peers=1)
    sel = VoiceSelector(cfg)
    sel.update([1, 2], [0, 3], [0, 0], [None, None])
    assert sel.pairs == {(1, 2)}
    # A newcomer at 2.5 m (0.5 m nearer than the peer at 3 m): the call stays.
    sel.update([1, 2, 3], [0, 3, -2.5], [0, 0, 0], [None] * 3)
    assert sel.pairs == {(1, 2)}
    # One at 1 m (2 m nearer, beyond the margin) takes the place.
    sel.update([1, 2, 3], [0, 3, -1.0], [0, 0, 0], [None] * 3)
    assert sel.pairs == {(1, 3)}


def test_forget_drops_every_pair_of_someone() -> None:
    sel = VoiceSelector(CFG)
    sel.update([1, 2, 3], [0, 1, 2], [0, 0, 0], [None] * 3)
    assert sel.pairs == {(1, 2), (1, 3), (2, 3)}
    assert sel.forget(2) == {(1, 2), (2, 3)}
    assert sel.pairs == {(1, 3)} and sel.peers_of(1) == {3}


def test_nobody_alone_and_ties_broken_by_id() -> None:
    assert pairs({1: (0, 0)}) == set()
    cfg = VoiceConfig(radius=8.0, max_peers=1)
    # 2 and 3 are equally far from 1: the lower id wins; 3 still pairs with 4 nearby.
    assert pairs({1: (0, 0), 2: (2, 0), 3: (-2, 0), 4: (-3, 0)}, cfg=cfg) == {(1, 2), (3, 4)}
