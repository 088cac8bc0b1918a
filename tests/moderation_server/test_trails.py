"""rooms/trails.py: the per-room ring of positions and what a freeze hands out."""

from __future__ import annotations

from avatars import AvatarWorld, Bounds
from rooms.trails import TrailRecorder


def _world(*spots: tuple[int, float, float]) -> AvatarWorld:
    w = AvatarWorld(Bounds(-100, 100, -100, 100))
    for eid, x, z in spots:
        w.add(eid, x, 0.0, z, 0.0, 0.0)
    return w


def test_ring_keeps_only_the_window_and_samples_at_its_rate() -> None:
    tr = TrailRecorder(window_s=10.0, hz=2.0)
    w = _world((1, 0.0, 0.0))
    tr.joined(1, "u1", "One", 0)
    taken = 0
    for ms in range(0, 60_000, 100):  # a 10 Hz tick for a minute
        if tr.due(ms):
            tr.sample(ms, [1], w.position)
            taken += 1
    assert taken == 120  # 2 Hz
    assert len(tr) == 21  # 10 s at 2 Hz (+1)
    frozen = tr.freeze(["u1"], 59_900)
    assert frozen["tracks"][0]["t"][0] == 0 and frozen["window_ms"] == 10_000
    assert len(frozen["tracks"][0]["t"]) == 20


def test_freeze_keeps_the_involved_and_those_who_came_near_only() -> None:
    tr = TrailRecorder()
    w = _world((1, 0.0, 0.0), (2, 10.0, 0.0), (3, 50.0, 50.0))
    for eid, uid in ((1, "bad"), (2, "near"), (3, "far")):
        tr.joined(eid, uid, uid.title(), 0)
    tr.sample(1000, [1, 2, 3], w.position)
    w.remove(2)
    w.add(2, 14.0, 0.0, 0.0, 0.0, 2000)
    tr.sample(2000, [1, 2, 3], w.position)
    frozen = tr.freeze(["bad"], 2500)
    by_user = {t["user_id"]: t for t in frozen["tracks"]}
    assert set(by_user) == {"bad", "near"}
    assert by_user["bad"]["involved"] and not by_user["near"]["involved"]
    assert by_user["near"]["x"] == [1000, 1400] and by_user["near"]["t"] == [0, 1000]
    assert frozen["t0"] == 1000


def test_a_reused_eid_is_attributed_to_whoever_held_it_then() -> None:
    tr = TrailRecorder()
    w = _world((7, 0.0, 0.0))
    tr.joined(7, "first", "First", 0)
    tr.sample(500, [7], w.position)
    tr.left(7, 700)
    tr.joined(7, "second", "Second", 3000)
    tr.sample(3500, [7], w.position)
    a = tr.freeze(["first"], 4000)["tracks"]
    b = tr.freeze(["second"], 4000)["tracks"]
    assert [t["user_id"] for t in a] == ["first"] and a[0]["t"] == [0]
    assert [t["user_id"] for t in b] == ["second"] and b[0]["t"] == [3000]


def test_crowds_are_capped_to_the_people_nearest_longest() -> None:
    tr = TrailRecorder()
    spots = [(1, 0.0, 0.0)] + [(e, float(e % 10), float(e // 10)) for e in range(2, 200)]
    w = _world(*spots)
    for eid, _, _ in spots:
        tr.joined(eid, f"u{eid}", f"U{eid}", 0)
    eids = [e for e, _, _ in spots]
    for ms in range(0, 5000, 500):
        tr.sample(ms, eids, w.position)
    frozen = tr.freeze(["u1"], 5000, max_tracks=16)
    assert len(frozen["tracks"]) == 16 and frozen["tracks"][0]["user_id"] == "u1"


def test_forgetting_a_user_removes_their_identity() -> None:
    tr = TrailRecorder()
    w = _world((1, 0.0, 0.0), (2, 1.0, 0.0))
    tr.joined(1, "a", "A", 0)
    tr.joined(2, "gone", "Gone", 0)
    tr.sample(100, [1, 2], w.position)
    tr.forget_user("gone")
    assert [t["user_id"] for t in tr.freeze(["a"], 200)["tracks"]] == ["a"]
    assert tr.freeze(["gone"], 200)["tracks"] == []
