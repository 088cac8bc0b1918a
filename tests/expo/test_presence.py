"""Presence at booths and the analytics built from it: visits, unique visitors, average dwell
time, from simulated positions (a settable clock, avatars placed by the test)."""

from __future__ import annotations

import numpy as np

from rooms.expo.layout import DEMO_HALL, plan_hall
from rooms.expo.presence import BoothPresence
from tests.expo.fakes import Env, room_of, seat

PLAN = plan_hall(DEMO_HALL)


def at(slot: str) -> tuple[float, float]:
    return PLAN.approach(slot)


AWAY = (0.0, 20.0)  # an aisle between rows, at no booth


def test_a_stay_becomes_a_visit_when_it_ends_and_short_ones_do_not_count() -> None:
    p = BoothPresence(PLAN, min_visit_ms=3000)
    users = {1: "ann", 2: "bob"}
    eids = np.array([1, 2], np.int64)

    def step(t: int, pos1: tuple[float, float], pos2: tuple[float, float]):  # type: ignore[no-untyped-def]
        return p.sample(t, eids, np.array([pos1[0], pos2[0]]), np.array([pos1[1], pos2[1]]),
                        users.__getitem__)

    c = step(0, at("b55"), at("b54"))
    assert c.moved == {1: 54, 2: 53} and c.slots == {54, 53} and not c.visits
    assert set(p.present(54)) == {1}
    c = step(1000, at("b55"), AWAY)  # bob walked past b54 in 1 s: not a visit
    assert c.moved == {2: -1} and not c.visits
    c = step(31_000, AWAY, AWAY)
    assert [(v.slot, v.user_id, v.ended_at - v.started_at) for v in c.visits] == [(54, "ann", 31_000)]
    assert p.present(54) == {}
    assert p.heat.samples == 3 and int(p.heat.counts.sum()) == 6


def test_leaving_the_room_ends_the_stay() -> None:
    p = BoothPresence(PLAN, min_visit_ms=3000)
    p.sample(0, np.array([5]), np.array([at("b1")[0]]), np.array([at("b1")[1]]), lambda e: "u5")
    c = p.leave(5, 10_000)
    assert [(v.user_id, v.started_at, v.ended_at) for v in c.visits] == [("u5", 0, 10_000)]
    assert p.slot_of(5) == -1 and not p.leave(5, 11_000).visits


async def test_booth_analytics_from_simulated_presence(env: Env) -> None:
    """ann stays 30 s at the tea booth, comes back for 10 s; bob stays 20 s; carl walks past
    (2 s); the booth's own exhibitor stands there all along. → 3 visits, 2 unique visitors,
    average dwell 20 s; the exhibitor is not a visitor."""
    svc = env.svc
    room = await room_of(env)
    booth = svc.booths["demo-jiangnan"]  # slot b55
    staff, _ = await env.exhibitor("Tea", "b55")
    assert svc.staff_of[staff.id] == booth.id
    ann, bob, carl = [await env.person(n) for n in ("Ann", "Bob", "Carl")]
    clients = {p.id: await seat(room, p) for p in (ann, bob, carl, staff)}
    t0 = env.clock.now

    def place(t: float, where: dict[str, tuple[float, float]]) -> None:
        env.clock.now = t0 + t
        eids = np.array([c.eid for c in clients.values()], np.int64)
        xs = np.array([where.get(uid, AWAY)[0] for uid in clients])
        zs = np.array([where.get(uid, AWAY)[1] for uid in clients])
        change = room.presence.sample(int(env.clock.now * 1000), eids, xs, zs,
                                      lambda e: room.clients[e].user.id)
        svc.analytics.presence_changed(room, change)

    tea = at("b55")
    place(0, {ann.id: tea, staff.id: tea})
    pres = svc.analytics.presence(booth.id)
    assert [v["display_name"] for v in pres["visitors"]] == ["Ann"]
    assert pres["staff"][0]["here"] and pres["count"] == 1
    assert any(e == "booth.presence" for _, e, _ in env.notifier.sent)
    at_booth = [d for sid, e, d in env.notifier.emitted if e == "expo.at_booth"
                and sid == clients[ann.id].sid]
    assert at_booth[-1]["booth_id"] == booth.id
    place(10, {ann.id: tea, bob.id: tea, staff.id: tea})
    place(30, {carl.id: tea, staff.id: tea})   # ann (30 s) and bob (20 s) walk on
    place(32, {staff.id: tea})                  # carl only passed by (2 s)
    place(60, {ann.id: tea, staff.id: tea})     # ann is back...
    env.clock.now = t0 + 70
    await room._leave(clients[ann.id], consented=True)  # ...and leaves the room 10 s later

    stats = await svc.analytics.booth_stats(staff, booth.id, since=0)
    assert stats["visitors"] == 3 and stats["unique_visitors"] == 2
    assert stats["avg_dwell_s"] == 20.0  # (30 + 20 + 10) / 3
    assert stats["present"] == 0 and stats["leads"] == 0 and stats["meetings"] == 0
    other = svc.booths["demo-yunfan"]
    assert (await svc.analytics.booth_stats(staff.__class__("a", "A", ("admin",)), other.id,
                                            since=0))["visitors"] == 0
    heat = await env.svc.store.heat("expo:demo")
    assert heat is not None and heat.samples == 5 and int(heat.counts.sum()) == 5 * 4
