"""Live queue updates, coalesced: changes mark services and counters dirty; one flush per
event-loop turn sends each waiting citizen a ``queue.update`` only when their position or
(rounded) ETA changed, and each staff member at an affected counter one ``counter.update``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from rooms.hall.notifier import Notifier
from rooms.hall.queue import estimate_wait, quantize_eta
from rooms.hall.state import HallState
from rooms.hall.wire import counter_view

__all__ = ["Fanout", "HallObserver", "NullObserver"]


class HallObserver(Protocol):
    """Where the hall reports its own costs (the server feeds Prometheus)."""

    def issued(self, seconds: float) -> None: ...

    def fanout(self, seconds: float, messages: int) -> None: ...

    def event(self, name: str) -> None: ...


class NullObserver:
    def issued(self, seconds: float) -> None:
        pass

    def fanout(self, seconds: float, messages: int) -> None:
        pass

    def event(self, name: str) -> None:
        pass


_Key = tuple[int, int]


class Fanout:
    def __init__(self, state: HallState, notifier: Notifier, now_ms: Callable[[], int],
                 observer: HallObserver) -> None:
        self.state = state
        self.notifier = notifier
        self.now_ms = now_ms
        self.observer = observer
        self._services: set[str] = set()
        self._counters: set[str] = set()
        self._last: dict[str, dict[str, _Key]] = {}
        self._scheduled = False

    def remember(self, service_id: str, ticket_id: str, position: int, eta_s: int) -> None:
        """The citizen was just told this (in an ack): do not repeat it as an update."""
        self._last.setdefault(service_id, {})[ticket_id] = (position, quantize_eta(eta_s))

    def mark(self, services: Iterable[str] = (), counters: Iterable[str] = ()) -> None:
        self._services.update(services)
        self._counters.update(counters)
        if not self._scheduled and (self._services or self._counters):
            self._scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop (plain unit tests): the caller flushes
                self._scheduled = False

    def mark_all(self) -> None:
        self.mark(self.state.services, self.state.counters)

    def flush(self) -> int:
        """Send what changed; returns the number of messages queued."""
        self._scheduled = False
        services, self._services = self._services, set()
        counters, self._counters = self._counters, set()
        if not services and not counters:
            return 0
        t0 = time.perf_counter()
        sent = 0
        st = self.state
        for sid in services:
            sent += self._flush_service(sid)
        for cid, cst in st.counter_state.items():
            if cst.open and cst.staff_id and cid in st.counters and (
                    cid in counters or not services.isdisjoint(cst.service_ids)):
                sent += self.notifier.to_user(cst.staff_id, "counter.update",
                                              counter_view(st, cid, self.now_ms()))
        self.observer.fanout(time.perf_counter() - t0, sent)
        return sent

    def _flush_service(self, sid: str) -> int:
        st = self.state
        q = st.queues.get(sid)
        last = self._last.get(sid, {})
        fresh: dict[str, _Key] = {}
        if q is None or not len(q):
            self._last[sid] = fresh
            return 0
        est = st.estimators.get(sid)
        mean, sd = (est.mean, est.sd) if est else (300.0, 150.0)
        share, idle, any_open = st.serving_capacity(sid)
        waiting = len(q)
        n_open = len(st.open_counters(sid)) if any_open else 0
        sent = 0
        for pos, tid in enumerate(q.ids(), start=1):
            t = st.tickets.get(tid)
            if t is None:
                continue
            eta = estimate_wait(pos, mean, sd, share, idle)
            key = (pos, quantize_eta(eta.eta_s))
            fresh[tid] = key
            if last.get(tid) != key:
                sent += self.notifier.to_user(t.user_id, "queue.update", {
                    "ticket_id": tid, "number": t.number, "service_id": sid, "position": pos,
                    "eta_s": eta.eta_s, "eta_range_s": [eta.lo_s, eta.hi_s],
                    "waiting": waiting, "counters_open": n_open,
                })
        self._last[sid] = fresh
        return sent
