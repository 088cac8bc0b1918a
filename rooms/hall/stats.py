"""The hall manager's figures: queue lengths, waits (p50/p90), throughput, no-shows, ratings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from rooms.hall.models import Outcome, Rating, Ticket, TicketStatus
from rooms.hall.state import HallState

__all__ = ["percentile", "compute_stats"]

HOUR_MS = 3_600_000


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _r(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(v, nd)


class _Acc:
    __slots__ = ("issued", "waits", "service_times", "outcomes", "first", "served_last_hour",
                 "scores")

    def __init__(self) -> None:
        self.issued = 0
        self.waits: list[float] = []
        self.service_times: list[float] = []
        self.outcomes: dict[str, int] = defaultdict(int)
        self.first: int | None = None
        self.served_last_hour = 0
        self.scores: list[int] = []

    def add(self, t: Ticket, now: int) -> None:
        self.issued += 1
        self.first = t.created_at if self.first is None else min(self.first, t.created_at)
        if t.called_at is not None:
            self.waits.append((t.called_at - t.created_at) / 1000)
        if t.status == TicketStatus.DONE and t.outcome:
            self.outcomes[t.outcome] += 1
            if t.outcome == Outcome.SERVED and t.finished_at is not None:
                began = t.arrived_at or t.called_at or t.finished_at
                self.service_times.append((t.finished_at - began) / 1000)
                if t.finished_at >= now - HOUR_MS:
                    self.served_last_hour += 1

    def figures(self, now: int) -> dict[str, Any]:
        served = self.outcomes.get(Outcome.SERVED, 0)
        no_show = self.outcomes.get(Outcome.NO_SHOW, 0)
        transferred = self.outcomes.get(Outcome.TRANSFERRED, 0)
        called_done = served + no_show + transferred
        hours = max((now - self.first) / HOUR_MS, 0.25) if self.first is not None else None
        return {
            "issued": self.issued, "served": served, "no_show": no_show,
            "transferred": transferred, "left": self.outcomes.get(Outcome.LEFT, 0),
            "expired": self.outcomes.get(Outcome.EXPIRED, 0),
            "wait_p50_s": _r(percentile(self.waits, 0.5)),
            "wait_p90_s": _r(percentile(self.waits, 0.9)),
            "service_p50_s": _r(percentile(self.service_times, 0.5)),
            "served_per_hour": _r(served / hours, 2) if hours else 0.0,
            "served_last_hour": self.served_last_hour,
            "no_show_rate": _r(no_show / called_done, 3) if called_done else None,
            "rating_avg": _r(sum(self.scores) / len(self.scores), 2) if self.scores else None,
            "rating_count": len(self.scores),
        }


def compute_stats(state: HallState, tickets: Iterable[Ticket], ratings: Iterable[Rating],
                  now: int, since: int) -> dict[str, Any]:
    by_service: dict[str, _Acc] = defaultdict(_Acc)
    by_counter: dict[str, _Acc] = defaultdict(_Acc)
    total = _Acc()
    for t in tickets:
        by_service[t.service_id].add(t, now)
        total.add(t, now)
        if t.counter_id:
            by_counter[t.counter_id].add(t, now)
    for r in ratings:
        by_service[r.service_id].scores.append(r.score)
        total.scores.append(r.score)
        if r.counter_id:
            by_counter[r.counter_id].scores.append(r.score)
    services = []
    for sid, svc in state.services.items():
        q = state.queues.get(sid)
        live = {"waiting": len(q) if q is not None else 0,
                "at_counter": sum(1 for t in state.tickets.values()
                                  if t.service_id == sid and t.status != TicketStatus.WAITING),
                "longest_wait_s": state.longest_wait_s(sid, now)}
        services.append({"service_id": sid, "name": dict(svc.name), "active": svc.active,
                         **live, **by_service[sid].figures(now)})
    counters = []
    for cid, c in state.counters.items():
        st = state.counter_state.get(cid)
        is_open = bool(st and st.open)
        cur = state.current_ticket(cid)
        serving = list(st.service_ids) if st and is_open else []
        counters.append({
            "counter_id": cid, "name": dict(c.name), "open": is_open,
            "staff_id": st.staff_id if st and is_open else None, "serving": serving,
            "current": cur.number if cur else None,
            "waiting": sum(len(state.queues[s]) for s in serving if s in state.queues),
            **by_counter[cid].figures(now),
        })
    return {"since": since, "now": now,
            "totals": {"waiting": sum(s["waiting"] for s in services), **total.figures(now)},
            "services": services, "counters": counters}
