"""Queue order and ETA, without storage: FIFO, appointment priority, transfer keys, EWMA."""

from __future__ import annotations

import math
from dataclasses import replace

from rooms.hall.models import Catalogue, CounterDef, CounterState, ServiceDef, Ticket
from rooms.hall.queue import ServiceQueue, ServiceTimeEstimator, estimate_wait, quantize_eta
from rooms.hall.state import HallState


def ticket(tid: str, sort_key: int, priority: int = 0, seq: int = 0, service: str = "s",
           status: str = "waiting", version: int = 1, counter: str | None = None) -> Ticket:
    return Ticket(tid, f"A{seq:03d}", service, f"u-{tid}", tid, status, priority, sort_key, seq,
                  "20260101", sort_key, version, counter_id=counter)


def test_queue_is_fifo_by_issue_time() -> None:
    q = ServiceQueue()
    for i, t in enumerate([ticket("a", 100, seq=1), ticket("b", 200, seq=2),
                           ticket("c", 300, seq=3)]):
        q.add(t)
        assert q.position(t.id) == i + 1
    assert q.ids() == ["a", "b", "c"]
    q.remove("a")
    assert q.position("b") == 1 and q.position("c") == 2 and q.position("a") is None


def test_appointments_go_before_walk_ins_and_among_themselves_by_slot() -> None:
    q = ServiceQueue()
    q.add(ticket("walk1", 100, seq=1))
    q.add(ticket("walk2", 200, seq=2))
    q.add(ticket("appt_late", 900, priority=1, seq=3))
    q.add(ticket("appt_early", 500, priority=1, seq=4))
    assert q.ids() == ["appt_early", "appt_late", "walk1", "walk2"]


def test_a_transferred_ticket_keeps_its_original_place() -> None:
    q = ServiceQueue()
    q.add(ticket("b", 200, seq=1))
    q.add(ticket("c", 300, seq=2))
    # Issued later in this service (seq 3) but first queued at t=150 for another service.
    q.add(ticket("moved", 150, seq=3))
    assert q.ids() == ["moved", "b", "c"]


def test_same_time_breaks_ties_by_number() -> None:
    q = ServiceQueue()
    q.add(ticket("x", 100, seq=2))
    q.add(ticket("y", 100, seq=1))
    assert q.ids() == ["y", "x"]


def test_readding_moves_instead_of_duplicating() -> None:
    q = ServiceQueue()
    q.add(ticket("a", 100))
    q.add(ticket("a", 50, priority=1))
    assert len(q) == 1 and q.position("a") == 1


def test_ewma_follows_recent_service_times_and_clips_outliers() -> None:
    est = ServiceTimeEstimator(300)
    for _ in range(30):
        est.observe(120)
    assert 118 < est.mean < 130
    assert est.sd < 40
    before = est.mean
    est.observe(100_000)  # a ticket left open over lunch
    assert est.mean < before + 0.2 * (4 * before + 600)


def test_eta_grows_with_position_and_shrinks_with_counters() -> None:
    first = estimate_wait(1, 300, 100, servers=1)
    tenth = estimate_wait(10, 300, 100, servers=1)
    tenth_two_counters = estimate_wait(10, 300, 100, servers=2)
    assert first.eta_s == 150  # half a service left on average
    assert tenth.eta_s == round(9.5 * 300)
    assert tenth_two_counters.eta_s == round(9.5 * 300 / 2)
    assert tenth.lo_s < tenth.eta_s < tenth.hi_s
    # The range is about ±1.28 sd with sd = sqrt(n) * 100.
    assert math.isclose(tenth.hi_s - tenth.eta_s, 1.28 * math.sqrt(9.5) * 100, abs_tol=1)
    assert estimate_wait(1, 300, 100, servers=1, idle=1).eta_s == 0


def test_quantized_eta_hides_jitter() -> None:
    assert quantize_eta(123) == quantize_eta(121) == 120
    assert quantize_eta(1234) == quantize_eta(1250) == 1260  # minutes beyond 10 min


SVC = ServiceDef("s", "A", {"zh-CN": "甲", "en": "S"}, {"zh-CN": "", "en": ""}, (), (), False,
                 avg_service_s=200)
SVC2 = replace(SVC, id="t", prefix="B")
COUNTERS = (CounterDef("c1", {"zh-CN": "1", "en": "1"}, 0, 0, ("s",)),
            CounterDef("c2", {"zh-CN": "2", "en": "2"}, 9, 0, ("s", "t")))


def test_state_keeps_the_newest_version_whatever_order_results_arrive_in() -> None:
    st = HallState(Catalogue((SVC, SVC2), COUNTERS), {})
    waiting = ticket("a", 100, version=1)
    called = replace(waiting, status="called", counter_id="c1", version=2)
    assert st.apply(called) is not None
    assert st.apply(waiting) is None  # late result of the issue: ignored
    assert st.current["c1"] == "a" and st.position(called) is None
    done = replace(called, status="done", outcome="served", version=3)
    st.apply(done)
    assert st.apply(called) is None  # a finished ticket never comes back
    assert "a" not in st.tickets and "c1" not in st.current


def test_counter_share_splits_between_the_services_it_serves() -> None:
    st = HallState(Catalogue((SVC, SVC2), COUNTERS), {
        "c1": CounterState(True, "staff1", ("s",)),
        "c2": CounterState(True, "staff2", ("s", "t")),
    })
    share, idle, any_open = st.serving_capacity("s")
    assert share == 1.5 and idle == 2 and any_open
    assert st.serving_capacity("t")[0] == 0.5
    closed = HallState(Catalogue((SVC, SVC2), COUNTERS), {})
    assert closed.serving_capacity("s") == (1.5, 0, False)  # planned counters stand in
