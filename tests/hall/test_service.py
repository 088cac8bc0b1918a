"""The hall's rules end to end through HallService and the SQLite store, with a settable clock."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from rooms.errors import MetahallError
from rooms.hall.models import TicketStatus
from tests.hall.conftest import HallEnv
from tests.hall.fakes import Person, add_people


async def staff_at(env: HallEnv, counter: str, services: list[str] | None = None) -> Person:
    s = await env.person(f"staff-{counter}", "staff")
    await env.hall.staff.open(s, counter, services)
    return s


async def take(env: HallEnv, who: Person, service: str) -> dict:
    return (await env.hall.citizens.take(who, service))["ticket"]


async def call(env: HallEnv, staff: Person, counter: str) -> dict | None:
    return (await env.hall.staff.next(staff, counter))["ticket"]


async def raises(code: str, coro: object) -> MetahallError:
    with pytest.raises(MetahallError) as err:
        await coro  # type: ignore[misc]
    assert err.value.code == code, err.value.message
    return err.value


async def test_numbers_follow_the_service_prefix_and_positions_are_fifo(env: HallEnv) -> None:
    people = await add_people(env.db, 3)
    tickets = []
    for p in people:
        tickets.append(await take(env, p, "hukou"))
        env.clock.advance(1)
    assert [t["number"] for t in tickets] == ["A001", "A002", "A003"]
    assert [t["position"] for t in tickets] == [1, 2, 3]
    assert all(isinstance(t["eta_s"], int) for t in tickets)
    assert tickets[0]["eta_s"] < tickets[1]["eta_s"] < tickets[2]["eta_s"]
    other = await take(env, people[0], "tax")
    assert other["number"] == "H001" and other["position"] == 1
    env.clock.advance(24 * 3600)  # next day: numbering starts again
    assert (await take(env, await env.person("tomorrow"), "hukou"))["number"] == "A001"


async def test_one_active_ticket_per_service_and_errors_change_nothing(env: HallEnv) -> None:
    ann, bob = await env.person("ann"), await env.person("bob")
    t = await take(env, ann, "tax")
    await raises("conflict", env.hall.citizens.take(ann, "tax"))
    await raises("not_found", env.hall.citizens.take(ann, "time_travel"))
    await raises("forbidden", env.hall.citizens.leave(bob, t["id"]))
    await raises("not_found", env.hall.citizens.leave(bob, "nope"))
    await raises("forbidden", env.hall.staff.open(ann, "c7", None))
    await raises("forbidden", env.hall.staff.next(ann, "c7"))
    await raises("forbidden", env.hall.manager.stats(ann))
    assert [x["id"] for x in env.hall.citizens.mine(ann)] == [t["id"]]
    assert env.hall.citizens.mine(ann)[0]["status"] == "waiting"
    assert (await env.store.get_ticket(t["id"])).status == "waiting"  # type: ignore[union-attr]


async def test_staff_call_fifo_across_services_with_appointment_priority(env: HallEnv) -> None:
    staff = await staff_at(env, "c7")  # business_licence + tax
    a, b, c = [await env.person(n) for n in "abc"]
    ta = await take(env, a, "tax")
    env.clock.advance(5)
    tb = await take(env, b, "business_licence")
    env.clock.advance(5)
    tc = await take(env, c, "tax")
    # c's later walk-in becomes an appointment ticket: called first.
    await env.store.update_ticket(tc["id"], ("waiting",), {"priority": 1})
    env.hall.core.apply(await env.store.get_ticket(tc["id"]))  # type: ignore[arg-type]
    order = []
    for _ in range(3):
        t = await call(env, staff, "c7")
        assert t is not None
        order.append(t["id"])
        await env.hall.staff.finish(staff, t["id"], "served", None)
    assert order == [tc["id"], ta["id"], tb["id"]]
    assert await call(env, staff, "c7") is None


async def test_called_citizen_gets_counter_and_path_and_the_board_shows_it(env: HallEnv) -> None:
    staff = await staff_at(env, "c4")
    ann = await env.person("ann")
    env.notifier.positions[ann.id] = (15.0, 30.0)
    t = await take(env, ann, "social_insurance")
    called = await call(env, staff, "c4")
    assert called is not None and called["id"] == t["id"] and called["display_name"] == "ann"
    msg = env.notifier.of(ann.id, "queue.called")[-1]
    assert msg["number"] == t["number"] and msg["counter"]["id"] == "c4"
    assert msg["counter"]["position"] == [-22.5, 0.0, -33.0]
    assert msg["path"][0] == [15.0, 30.0] and msg["path"][-1] == [-22.5, -31.4]
    assert msg["channel"] == "counter:c4" and msg["text"]["zh-CN"].startswith("请D001")
    assert env.notifier.board == []  # the board is updated by the slow flush
    env.hall.core.fanout.flush_slow()
    event, board = env.notifier.board[-1]
    assert event == "hall.board" and board["calls"][0]["number"] == t["number"]
    assert board["recent"][0]["counter"]["id"] == "c4"
    await raises("conflict", env.hall.staff.next(staff, "c4"))  # finish first
    await raises("conflict", env.hall.staff.close(staff, "c4"))


async def test_other_staff_cannot_use_my_counter(env: HallEnv) -> None:
    mine = await staff_at(env, "c1")
    other = await env.person("other", "staff")
    await raises("forbidden", env.hall.staff.next(other, "c1"))
    await raises("forbidden", env.hall.staff.open(other, "c1", None))
    await raises("conflict", env.hall.staff.next(mine, "c2"))  # closed
    await raises("conflict", env.hall.staff.open(mine, "c2", None))  # one counter at a time
    admin = await env.person("boss", "admin")
    assert (await env.hall.staff.next(admin, "c1"))["ticket"] is None  # admin may step in


async def test_transfer_keeps_the_citizens_place_fairly(env: HallEnv) -> None:
    s1 = await staff_at(env, "c1", ["hukou"])
    early = await env.person("early")
    t0 = await take(env, early, "hukou")
    env.clock.advance(60)
    later = [await env.person(f"l{i}") for i in range(2)]
    for p in later:
        await take(env, p, "id_card")
        env.clock.advance(10)
    called = await call(env, s1, "c1")
    assert called is not None and called["id"] == t0["id"]
    out = await env.hall.staff.finish(s1, t0["id"], "transferred", "id_card")
    new = out["new_ticket"]
    assert out["ticket"]["outcome"] == "transferred"
    assert new["service_id"] == "id_card" and new["number"].startswith("B")
    assert new["position"] == 1  # queued since before the two who took id_card later
    issued = env.notifier.of(early.id, "queue.issued")[-1]
    assert issued["reason"] == "transfer" and issued["from"] == t0["number"]
    await raises("bad_request", env.hall.staff.finish(s1, t0["id"], "bogus", None))


async def test_no_show_after_timeout_calls_the_next(env: HallEnv) -> None:
    staff = await staff_at(env, "c6")
    a, b = await env.person("a"), await env.person("b")
    ta, tb = await take(env, a, "housing_fund"), await take(env, b, "housing_fund")
    await call(env, staff, "c6")
    env.clock.advance(env.hall.core.policy.no_show_s - 1)
    await env.hall.sweep()
    assert env.hall.state.current["c6"] == ta["id"]  # not yet
    env.clock.advance(2)
    await env.hall.sweep()
    gone = await env.store.get_ticket(ta["id"])
    assert gone is not None and gone.outcome == "no_show"
    assert env.hall.state.current["c6"] == tb["id"]
    assert env.notifier.of(a.id, "queue.done")[-1]["outcome"] == "no_show"
    assert env.notifier.of(b.id, "queue.called")
    update = [u for u in env.notifier.of(staff.id, "counter.update") if u.get("reason")][-1]
    assert update["no_show"] == ta["number"] and update["called"] == tb["number"]


async def test_recall_restarts_the_clock_and_arrival_stops_it(env: HallEnv) -> None:
    staff = await staff_at(env, "c3")
    a = await env.person("a")
    t = await take(env, a, "vehicle")
    await call(env, staff, "c3")
    env.clock.advance(env.hall.core.policy.no_show_s - 5)
    r = await env.hall.staff.recall(staff, "c3")
    assert r["ticket"]["recalls"] == 1 and len(env.notifier.of(a.id, "queue.called")) == 2
    env.clock.advance(10)
    await env.hall.sweep()
    assert env.hall.state.current["c3"] == t["id"]
    env.notifier.positions[a.id] = (-31.5, -31.0)  # walked up to counter 3
    await env.hall.sweep()
    assert env.hall.state.tickets[t["id"]].status == TicketStatus.SERVING
    env.clock.advance(10_000)
    await env.hall.sweep()
    assert env.hall.state.current["c3"] == t["id"]  # being served: never a no-show
    await raises("conflict", env.hall.staff.recall(staff, "c3"))


async def test_documents_are_checked_by_id_and_the_citizen_is_told(env: HallEnv) -> None:
    staff = await staff_at(env, "c10")
    a = await env.person("a")
    t = await take(env, a, "property")
    await call(env, staff, "c10")
    out = await env.hall.staff.docs(staff, t["id"], ["contract", "id_card"])
    assert out["checked"] == ["id_card", "contract"] and out["missing"] == ["deed"]
    assert env.notifier.of(a.id, "ticket.docs")[-1]["missing"] == ["deed"]
    await raises("bad_request", env.hall.staff.docs(staff, t["id"], ["passport"]))
    other = await env.person("other", "staff")
    await raises("forbidden", env.hall.staff.docs(other, t["id"], []))


async def test_leaving_and_rating_rules(env: HallEnv) -> None:
    staff = await staff_at(env, "c11")
    a, b = await env.person("a"), await env.person("b")
    ta = await take(env, a, "employment")
    tb = await take(env, b, "employment")
    await raises("conflict", env.hall.citizens.rate(a, ta["id"], 5, ""))  # not served yet
    left = await env.hall.citizens.leave(a, ta["id"])
    assert left["ticket"]["outcome"] == "left"
    env.hall.core.fanout.flush()
    assert env.notifier.of(b.id, "queue.update")[-1]["position"] == 1
    await raises("conflict", env.hall.citizens.leave(a, ta["id"]))
    await call(env, staff, "c11")
    await env.hall.staff.finish(staff, tb["id"], "served", None)
    await raises("forbidden", env.hall.citizens.rate(a, tb["id"], 4, ""))
    rated = await env.hall.citizens.rate(b, tb["id"], 4, "快")
    assert rated["rating"]["score"] == 4
    await raises("conflict", env.hall.citizens.rate(b, tb["id"], 5, ""))


async def test_eta_learns_from_served_tickets(env: HallEnv) -> None:
    staff = await staff_at(env, "c6", ["housing_fund"])
    people = await add_people(env.db, 12)
    tickets = [await take(env, p, "housing_fund") for p in people]
    first_eta = env.hall.citizens.mine(people[-1])[0]["eta_s"]
    for t in tickets[:8]:
        await call(env, staff, "c6")
        env.clock.advance(60)  # each takes a minute instead of the catalogue's 7
        await env.hall.staff.finish(staff, t["id"], "served", None)
    env.hall.core.fanout.flush()
    last = env.hall.citizens.mine(people[-1])[0]
    assert last["position"] == 4
    assert last["eta_s"] < first_eta / 4
    est = env.hall.state.estimators["housing_fund"]
    assert 60 < est.mean < 200
    upd = env.notifier.of(people[-1].id, "queue.update")[-1]
    assert upd["position"] == 4 and upd["eta_range_s"][0] <= upd["eta_s"] <= upd["eta_range_s"][1]


async def test_offline_past_the_grace_period_loses_the_ticket(env: HallEnv) -> None:
    a, b = await env.person("a"), await env.person("b")
    ta, tb = await take(env, a, "tax"), await take(env, b, "tax")
    env.notifier.offline |= {a.id, b.id}
    await env.hall.sweep()
    env.clock.advance(env.hall.core.policy.grace_s / 2)
    env.notifier.offline.discard(b.id)  # b came back in time
    await env.hall.sweep()
    env.notifier.offline.add(b.id)  # and left again: a new grace period
    env.clock.advance(env.hall.core.policy.grace_s / 2 + 1)
    await env.hall.sweep()
    assert ta["id"] not in env.hall.state.tickets
    assert (await env.store.get_ticket(ta["id"])).outcome == "expired"  # type: ignore[union-attr]
    assert env.hall.citizens.mine(b)[0]["id"] == tb["id"]
    assert env.hall.citizens.mine(b)[0]["position"] == 1


async def test_restart_keeps_numbers_positions_and_open_counters(env: HallEnv) -> None:
    staff = await staff_at(env, "c1")
    people = await add_people(env.db, 4)
    before = []
    for p in people:
        before.append(await take(env, p, "id_card"))
        env.clock.advance(3)
    await call(env, staff, "c1")
    hall = await env.restart()
    c1 = hall.state.counter_state["c1"]
    assert c1.open and c1.staff_id == staff.id
    assert hall.state.current["c1"] == before[0]["id"]
    for p, t in zip(people[1:], before[1:], strict=True):
        mine = hall.citizens.mine(p)[0]
        assert (mine["number"], mine["position"]) == (t["number"], t["position"] - 1)
    newcomer = await env.person("new")
    assert (await hall.citizens.take(newcomer, "id_card"))["ticket"]["number"] == "B005"


async def test_appointments_book_cap_cancel_and_issue_with_priority(env: HallEnv) -> None:
    appts = env.hall.appointments
    svc = env.hall.core.service("hukou")
    cap = appts.capacity(svc)
    assert cap == 2  # c1 and c2 serve hukou
    listing = await appts.slots("hukou", None)
    slot = listing["slots"][0]
    assert slot["capacity"] == 2 and slot["left"] == 2 and len(listing["days"]) == 7
    a, b, c = [await env.person(n) for n in "abc"]
    booked = (await appts.book(a, "hukou", slot["start"]))["appointment"]
    await raises("conflict", appts.book(a, "hukou", listing["slots"][1]["start"]))  # one each
    await appts.book(b, "hukou", slot["start"])
    await raises("conflict", appts.book(c, "hukou", slot["start"]))  # full
    await raises("bad_request", appts.book(c, "hukou", slot["start"] + 1))  # not a slot
    await raises("forbidden", appts.cancel(c, booked["id"]))
    assert (await appts.cancel(a, booked["id"]))["appointment"]["status"] == "cancelled"
    await appts.book(c, "hukou", slot["start"])  # the freed place
    assert (await appts.slots("hukou", listing["date"]))["slots"][0]["left"] == 0
    walk_in = await take(env, a, "hukou")
    env.clock.now = slot["start"] / 1000 + 1
    await env.hall.sweep()
    issued = env.notifier.of(c.id, "queue.issued")[-1]
    assert issued["reason"] == "appointment" and issued["ticket"]["appointment"] is True
    staff = await staff_at(env, "c1", ["hukou"])
    first = await call(env, staff, "c1")
    assert first is not None and first["user_id"] in (b.id, c.id)  # appointments first
    assert first["id"] != walk_in["id"]


async def test_concurrent_next_calls_never_share_a_ticket(env: HallEnv) -> None:
    staffs = [await staff_at(env, f"c{i}", ["tax"]) for i in (7, 8, 9)]
    people = await add_people(env.db, 10)
    for p in people:
        await take(env, p, "tax")
    got = await asyncio.gather(*(call(env, s, f"c{i}")
                                 for s, i in zip(staffs, (7, 8, 9), strict=True)))
    ids = [t["id"] for t in got if t]
    assert len(ids) == 3 and len(set(ids)) == 3


async def test_stats_per_service_and_counter(env: HallEnv) -> None:
    staff = await staff_at(env, "c6", ["housing_fund"])
    admin = await env.person("boss", "admin")
    people = await add_people(env.db, 5)
    tickets = []
    for p in people:
        tickets.append(await take(env, p, "housing_fund"))
        env.clock.advance(30)
    for i, t in enumerate(tickets[:4]):
        await call(env, staff, "c6")
        env.clock.advance(120)
        await env.hall.staff.finish(staff, t["id"], "no_show" if i == 3 else "served", None)
    await env.hall.citizens.rate(people[0], tickets[0]["id"], 5, "")
    await env.hall.citizens.rate(people[1], tickets[1]["id"], 3, "")
    stats = await env.hall.manager.stats(admin, since=0)
    svc = next(s for s in stats["services"] if s["service_id"] == "housing_fund")
    assert svc["waiting"] == 1 and svc["issued"] == 5 and svc["served"] == 3
    assert svc["no_show_rate"] == 0.25 and svc["rating_avg"] == 4.0 and svc["rating_count"] == 2
    assert svc["wait_p50_s"] is not None and svc["wait_p90_s"] >= svc["wait_p50_s"]
    assert svc["served_per_hour"] > 0 and svc["service_p50_s"] == 120.0
    c6 = next(c for c in stats["counters"] if c["counter_id"] == "c6")
    assert c6["open"] and c6["served"] == 3 and c6["waiting"] == 1 and c6["rating_count"] == 2
    assert stats["totals"]["served"] == 3


async def test_catalogue_edits_apply_at_once(env: HallEnv) -> None:
    admin = await env.person("boss", "admin")
    svc = env.hall.core.service("tax")
    await env.hall.manager.put_service(admin, replace(svc, active=False))
    await raises("not_found", env.hall.citizens.take(admin, "tax"))
    assert "tax" not in [s["id"] for s in env.hall.services_view()]
    citizen = await env.person("c")
    await raises("forbidden", env.hall.manager.put_service(citizen, svc))
    await raises("bad_request", env.hall.manager.put_service(admin, replace(svc, prefix="A")))
    await staff_at(env, "c3")
    c3 = env.hall.state.counters["c3"]
    await raises("conflict", env.hall.manager.put_counter(admin, replace(c3, active=False)))
    await env.hall.manager.put_counter(admin, replace(env.hall.state.counters["c4"], active=False))
    await raises("not_found", env.hall.staff.open(admin, "c4", None))
