"""The in-memory mirror of the hall: catalogue, counter states, active tickets and queues.

The store is the truth; every change the store confirms is applied here with :meth:`apply`,
which keeps the newest ``version`` of each ticket, so results of concurrent operations may
arrive in any order. Positions and ETAs are read from here (no database round trip).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from rooms.hall.models import (
    Catalogue,
    CounterDef,
    CounterState,
    ServiceDef,
    Ticket,
    TicketStatus,
)
from rooms.hall.queue import Eta, ServiceQueue, ServiceTimeEstimator, estimate_wait

__all__ = ["HallState", "Change"]

_FINISHED_MEMORY = 20_000


@dataclass(frozen=True, slots=True)
class Change:
    """What one applied ticket touched: for the fan-out."""

    before: Ticket | None
    after: Ticket
    services: frozenset[str]
    counters: frozenset[str]


class HallState:
    def __init__(self, catalogue: Catalogue, counter_states: dict[str, CounterState]) -> None:
        self.services: dict[str, ServiceDef] = {}
        self.counters: dict[str, CounterDef] = {}
        self.counter_state: dict[str, CounterState] = dict(counter_states)
        self.tickets: dict[str, Ticket] = {}
        self.queues: dict[str, ServiceQueue] = {}
        self.by_user: dict[str, dict[str, str]] = {}
        """user id → service id → active ticket id."""
        self.current: dict[str, str] = {}
        """counter id → the ticket called to or served at it."""
        self.estimators: dict[str, ServiceTimeEstimator] = {}
        self._finished: OrderedDict[str, int] = OrderedDict()
        self.set_catalogue(catalogue)

    # -- catalogue -------------------------------------------------------------------------
    def set_catalogue(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.services = {s.id: s for s in catalogue.services}
        self.counters = {c.id: c for c in catalogue.counters}
        for s in catalogue.services:
            self.queues.setdefault(s.id, ServiceQueue())
            if s.id not in self.estimators:
                self.estimators[s.id] = ServiceTimeEstimator(s.avg_service_s)

    # -- tickets ---------------------------------------------------------------------------
    def apply(self, ticket: Ticket) -> Change | None:
        """Fold in a ticket the store returned; None when it is older than what we hold."""
        before = self.tickets.get(ticket.id)
        if before is not None and before.version >= ticket.version:
            return None
        done_version = self._finished.get(ticket.id)
        if done_version is not None and done_version >= ticket.version:
            return None
        services = {ticket.service_id}
        counters: set[str] = set()
        if before is not None:
            self._unlink(before)
            services.add(before.service_id)
            if before.counter_id:
                counters.add(before.counter_id)
        if ticket.counter_id:
            counters.add(ticket.counter_id)
        if ticket.status == TicketStatus.DONE:
            self.tickets.pop(ticket.id, None)
            self._finished[ticket.id] = ticket.version
            if len(self._finished) > _FINISHED_MEMORY:
                self._finished.popitem(last=False)
        else:
            self._link(ticket)
        return Change(before, ticket, frozenset(services), frozenset(counters))

    def _link(self, t: Ticket) -> None:
        self.tickets[t.id] = t
        self.by_user.setdefault(t.user_id, {})[t.service_id] = t.id
        if t.status == TicketStatus.WAITING:
            self.queues.setdefault(t.service_id, ServiceQueue()).add(t)
        elif t.counter_id:
            self.current[t.counter_id] = t.id

    def _unlink(self, t: Ticket) -> None:
        self.tickets.pop(t.id, None)
        mine = self.by_user.get(t.user_id)
        if mine is not None and mine.get(t.service_id) == t.id:
            del mine[t.service_id]
            if not mine:
                del self.by_user[t.user_id]
        q = self.queues.get(t.service_id)
        if q is not None:
            q.remove(t.id)
        if t.counter_id and self.current.get(t.counter_id) == t.id:
            del self.current[t.counter_id]

    def user_tickets(self, user_id: str) -> list[Ticket]:
        ids = self.by_user.get(user_id, {}).values()
        return sorted((self.tickets[i] for i in ids), key=lambda t: t.created_at)

    def current_ticket(self, counter_id: str) -> Ticket | None:
        tid = self.current.get(counter_id)
        return self.tickets.get(tid) if tid else None

    def called(self) -> Iterable[Ticket]:
        return (self.tickets[tid] for tid in list(self.current.values()) if tid in self.tickets)

    # -- counters --------------------------------------------------------------------------
    def open_counters(self, service_id: str | None = None) -> list[str]:
        return [cid for cid, st in self.counter_state.items()
                if st.open and cid in self.counters and self.counters[cid].active
                and (service_id is None or service_id in st.service_ids)]

    def counters_of_staff(self, staff_id: str) -> list[str]:
        return [cid for cid, st in self.counter_state.items()
                if st.open and st.staff_id == staff_id]

    def serving_capacity(self, service_id: str) -> tuple[float, int, bool]:
        """(counter share devoted to the service, idle open counters serving it, any open).

        A counter serving n services gives each 1/n. With no counter open, the counters the
        catalogue assigns stand in, so a morning queue still gets an estimate."""
        share, idle = 0.0, 0
        for cid in self.open_counters(service_id):
            share += 1.0 / max(len(self.counter_state[cid].service_ids), 1)
            if cid not in self.current:
                idle += 1
        if share > 0:
            return share, idle, True
        planned = sum(1.0 / max(len(c.service_ids), 1) for c in self.counters.values()
                      if c.active and service_id in c.service_ids)
        return (planned or 1.0), 0, False

    # -- estimates -------------------------------------------------------------------------
    def position(self, ticket: Ticket) -> int | None:
        q = self.queues.get(ticket.service_id)
        return q.position(ticket.id) if q is not None else None

    def eta(self, service_id: str, position: int) -> Eta:
        est = self.estimators.get(service_id)
        mean = est.mean if est else 300.0
        sd = est.sd if est else 150.0
        share, idle, _ = self.serving_capacity(service_id)
        return estimate_wait(position, mean, sd, share, idle)

    def longest_wait_s(self, service_id: str, now_ms: int) -> int:
        q = self.queues.get(service_id)
        if q is None or not len(q):
            return 0
        oldest = min(self.tickets[i].created_at for i in q.ids() if i in self.tickets)
        return max(0, (now_ms - oldest) // 1000)
