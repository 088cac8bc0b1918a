"""Delta snaps end to end: a decoded client view must equal the truth, tick after tick."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avatars import (
    AvatarNotFound,
    AvatarWorld,
    Bounds,
    DuplicateAvatar,
    InterestConfig,
    InvalidAvatar,
    MoveResult,
    TickOrderError,
)

from .reference import Client, brute_visible, decode_snap, quantised

BOUNDS = Bounds(0.0, 60.0, 0.0, 60.0)
CONFIG = InterestConfig(radius=15.0, max_visible=6, max_speed=6.0, max_moves_per_s=20)


def _check(world: AvatarWorld, clients: dict[int, Client]) -> None:
    """Every client holds exactly its visible set, each at the true quantised state."""
    truth = brute_visible(world, list(clients))
    for eid, client in clients.items():
        assert sorted(client.known) == sorted(truth[eid]) == world.visible(eid), eid
        for other, state in client.known.items():
            assert state == quantised(world, other), (eid, other)


def _deliver(
    world: AvatarWorld, clients: dict[int, Client], tick: int, skip: frozenset[int] = frozenset()
) -> None:
    out = world.step(tick, skip=skip)
    assert {o.eid for o in out} == set(clients) - skip
    for obs in out:
        clients[obs.eid].receive(obs.snap, obs.entered)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    ticks=st.integers(2, 25),
    skip_rate=st.sampled_from([0.0, 0.3, 0.7]),
    far_every=st.sampled_from([1, 1, 2, 3]),
)
def test_decoded_views_track_the_world(
    seed: int, n: int, ticks: int, skip_rate: float, far_every: int
) -> None:
    """Random walks, joins, leaves (eids reused, as rooms/ does) and skipped observers."""
    rng = np.random.default_rng(seed)
    config = dataclasses.replace(CONFIG, far_every=far_every)
    world, clients, next_eid = AvatarWorld(BOUNDS, config), {}, 1
    left: list[int] = []
    reused = skipped_before = False

    def join() -> None:
        nonlocal next_eid, reused
        x, z = rng.uniform(0, 60, 2)
        if left and rng.random() < 0.5:
            eid = left.pop(int(rng.integers(0, len(left))))
            reused = True
        else:
            eid, next_eid = next_eid, next_eid + 1
        world.add(eid, x, 0.0, z, 0.0, now_ms=0.0)
        clients[eid] = Client(eid)

    for _ in range(n):
        join()
    for tick in range(1, ticks + 1):
        now = tick * 100.0
        for eid in list(clients):
            if rng.random() < 0.7:
                x, y, z, yaw, _ = world.position(eid)
                dx, dz = rng.normal(0, 0.4, 2)
                anim = int(rng.integers(0, 256)) if rng.random() < 0.2 else 1
                world.move(eid, [x + dx, y, z + dz, yaw + rng.normal(0, 0.3), anim], now)
        if rng.random() < 0.15 and clients:
            gone = int(rng.choice(list(clients)))
            world.remove(gone)
            del clients[gone]
            left.append(gone)
        if rng.random() < 0.15:
            join()
        skip = frozenset(e for e in clients if rng.random() < skip_rate)
        _deliver(world, clients, tick, skip)
        if not skip and not skipped_before and not reused and far_every == 1:
            _check(world, clients)  # else a reused eid may still be owed its gone
        reused, skipped_before = False, bool(skip)
    for tick in range(ticks + 1, ticks + 2 + far_every):  # catch up: no moves, no skips
        _deliver(world, clients, tick)
    _check(world, clients)


def test_snaps_hold_only_changed_entities() -> None:
    world = AvatarWorld(BOUNDS, CONFIG)
    for eid, x in ((1, 10.0), (2, 12.0), (3, 14.0)):
        world.add(eid, x, 0.0, 10.0, 0.0, 0.0)
    first = {o.eid: o for o in world.step(1)}
    assert sorted(first[1].entered) == [2, 3]
    assert world.move(2, [12.5, 0.0, 10.0, 0.0, 0], 100.0) is MoveResult.ACCEPTED
    world.move(3, [14.001, 0.0, 10.0, 0.0, 0], 100.0)  # below 1 cm: no visible change
    second = {o.eid: o for o in world.step(2)}
    _, rows, gone = decode_snap(second[1].snap or b"")
    assert rows == [[2, 1250, 0, 1000, 0, 0]] and gone == []
    assert second[1].entered == []
    assert second[2].snap is None  # 1 and 3 did not change
    third = world.step(3)
    assert all(o.snap is None for o in third)


def test_leaving_view_and_removal_are_gone_and_reentry_is_entered() -> None:
    world = AvatarWorld(BOUNDS, CONFIG)
    world.add(1, 10.0, 0.0, 10.0, 0.0, 0.0)
    world.add(2, 11.0, 0.0, 10.0, 0.0, 0.0)
    world.add(3, 12.0, 0.0, 10.0, 0.0, 0.0)
    world.step(1)
    for t in range(2, 14):  # walk 2 out of range (15 m) at 6 m/s, 3 m every 0.5 s
        world.move(2, [11.0 + 3 * (t - 1), 0.0, 10.0, 0.0, 0], t * 500.0)
    out = {o.eid: o for o in world.step(2)}
    assert decode_snap(out[1].snap or b"")[2] == [2]
    world.remove(3)
    out = {o.eid: o for o in world.step(3)}
    assert decode_snap(out[1].snap or b"")[2] == [3]
    for t in range(15, 25):
        world.move(2, [47.0 - 3 * (t - 14), 0.0, 10.0, 0.0, 0], t * 500.0)  # back to 17 m
    out = {o.eid: o for o in world.step(4)}
    assert out[1].entered == [2]
    assert decode_snap(out[1].snap or b"")[1] == [[2, 1700, 0, 1000, 0, 0]]


def test_skipped_observer_catches_up_on_its_next_delivery() -> None:
    world = AvatarWorld(BOUNDS, CONFIG)
    client = Client(1)
    for eid in (1, 2, 3):
        world.add(eid, 10.0 + eid, 0.0, 10.0, 0.0, 0.0)
    for o in world.step(1):
        if o.eid == 1:
            client.receive(o.snap, o.entered)
    world.move(2, [12.3, 0.0, 10.0, 1.0, 7], 100.0)
    out = world.step(2, skip={1})
    assert 1 not in {o.eid for o in out}
    world.remove(3)
    world.add(4, 11.0, 0.0, 11.0, 0.0, 200.0)
    world.step(3, skip={1})
    last = {o.eid: o for o in world.step(4)}
    assert last[1].entered == [4]
    client.receive(last[1].snap, last[1].entered)
    assert sorted(client.known) == [2, 4]
    assert client.known[2] == quantised(world, 2)


def test_a_reused_eid_is_gone_first_and_entered_in_a_later_snap() -> None:
    world = AvatarWorld(BOUNDS, CONFIG)
    client = Client(1)
    world.add(1, 10.0, 0.0, 10.0, 0.0, 0.0)
    world.add(2, 11.0, 0.0, 10.0, 0.0, 0.0)
    for o in world.step(1):
        if o.eid == 1:
            client.receive(o.snap, o.entered)
    world.remove(2)
    world.step(2, skip={1})  # 1 is backlogged while 2 leaves and a new 2 arrives
    world.add(2, 12.0, 0.0, 10.0, 0.0, 2000.0)
    world.step(3, skip={1})
    first = {o.eid: o for o in world.step(4)}[1]
    assert first.entered == [] and decode_snap(first.snap or b"")[1:] == ([], [2])
    client.receive(first.snap, first.entered)
    second = {o.eid: o for o in world.step(5)}[1]
    assert second.entered == [2]
    assert decode_snap(second.snap or b"")[1:] == ([[2, 1200, 0, 1000, 0, 0]], [])
    client.receive(second.snap, second.entered)
    assert client.known == {2: quantised(world, 2)}


def test_far_changes_wait_for_the_observers_turn_near_ones_do_not() -> None:
    world = AvatarWorld(BOUNDS, dataclasses.replace(CONFIG, far_every=2))
    world.add(1, 10.0, 0.0, 10.0, 0.0, 0.0)  # its turn: ticks where (1 + tick) is even
    world.add(2, 11.0, 0.0, 10.0, 0.0, 0.0)
    world.add(3, 20.0, 0.0, 10.0, 0.0, 0.0)  # farther than 1/√2 of the farthest (itself)
    world.step(1)
    world.move(2, [11.5, 0.0, 10.0, 0.0, 0], 200.0)
    world.move(3, [20.5, 0.0, 10.0, 0.0, 0], 200.0)
    off_turn = {o.eid: o for o in world.step(2)}[1]
    assert [r[0] for r in decode_snap(off_turn.snap or b"")[1]] == [2]
    on_turn = {o.eid: o for o in world.step(3)}[1]
    rows = decode_snap(on_turn.snap or b"")[1]
    assert rows == [[2, 1150, 0, 1000, 0, 0], [3, 2050, 0, 1000, 0, 0]]
    assert {o.eid: o for o in world.step(4)}[1].snap is None


def test_clamped_move_corrects_its_owner_once() -> None:
    world = AvatarWorld(BOUNDS, CONFIG)
    world.add(1, 10.0, 0.0, 10.0, 0.0, 0.0)
    world.step(1)
    assert world.move(1, [40.0, 0.0, 10.0, 0.0, 0], 100.0) is MoveResult.CLAMPED
    (own,) = world.step(2)
    assert decode_snap(own.snap or b"")[1] == [[1, 1060, 0, 1000, 0, 0]]
    assert world.step(3).observers[0].snap is None


def test_idle_ticks_reuse_the_view_and_stay_right() -> None:
    world = AvatarWorld(BOUNDS, CONFIG)
    clients = {eid: Client(eid) for eid in (1, 2, 3)}
    for eid in clients:
        world.add(eid, 10.0 + 5 * eid, 0.0, 10.0, 0.0, 0.0)
    _deliver(world, clients, 1)
    _deliver(world, clients, 2)  # nobody moved: same view, no snaps
    world.move(2, [20.0, 0.0, 10.0, 0.0, 9], 300.0)  # anim only: no x/z change
    _deliver(world, clients, 3)
    world.remove(3)
    del clients[3]
    _deliver(world, clients, 4)
    _check(world, clients)
    assert clients[1].known == {2: (2000, 0, 1000, 0, 9)}


def test_resync_resends_full_state() -> None:
    world = AvatarWorld(BOUNDS, CONFIG)
    world.add(1, 10.0, 0.0, 10.0, 0.0, 0.0)
    world.add(2, 11.0, 0.0, 10.0, 0.0, 0.0)
    world.step(1)
    world.resync(1)
    out = {o.eid: o for o in world.step(2)}
    assert decode_snap(out[1].snap or b"")[1] == [[2, 1100, 0, 1000, 0, 0]]
    assert out[1].entered == [] and out[2].snap is None


def test_membership_errors() -> None:
    world = AvatarWorld(BOUNDS, CONFIG)
    world.add(1, 1.0, 0.0, 1.0, 0.0, 0.0)
    with pytest.raises(DuplicateAvatar):
        world.add(1, 1.0, 0.0, 1.0, 0.0, 0.0)
    for bad in (-1, 2**32, True, 1.0):
        with pytest.raises(InvalidAvatar):
            world.add(bad, 1.0, 0.0, 1.0, 0.0, 0.0)  # type: ignore[arg-type]
    for spawn in ((float("nan"), 0.0), ("1", 0.0), (1.0, 1e9)):
        with pytest.raises(InvalidAvatar):
            world.add(2, spawn[0], 0.0, 1.0, spawn[1], 0.0)  # type: ignore[arg-type]
    with pytest.raises(AvatarNotFound):
        world.remove(7)
    with pytest.raises(AvatarNotFound):
        world.position(7)
    world.step(5)
    with pytest.raises(TickOrderError):
        world.step(5)
    assert len(world) == 1 and 1 in world and 7 not in world


def test_spawn_is_clamped_into_bounds() -> None:
    world = AvatarWorld(BOUNDS, CONFIG)
    world.add(1, -5.0, 99.0, 70.0, -1.0, 0.0)
    x, y, z, yaw, anim = world.position(1)
    assert (x, y, z, anim) == (0.0, 20.0, 60.0, 0)
    assert 0.0 <= yaw < 6.2832


def test_growth_and_slot_reuse_keep_views_right() -> None:
    world = AvatarWorld(BOUNDS, InterestConfig(radius=100.0, max_visible=300))
    clients = {}
    for eid in range(1, 200):
        world.add(eid, eid * 0.3, 0.0, 5.0, 0.0, 0.0)
        clients[eid] = Client(eid)
    _deliver(world, clients, 1)
    for eid in range(1, 200, 2):
        world.remove(eid)
        del clients[eid]
    for eid in range(500, 600):  # reuses the freed slots before the next step
        world.add(eid, 30.0, 0.0, eid * 0.05, 0.0, 0.0)
        clients[eid] = Client(eid)
    _deliver(world, clients, 2)
    _check(world, clients)
