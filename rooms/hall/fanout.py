"""Live updates, coalesced so that their cost stays bounded under load.

* Citizens: a change marks its service dirty; one flush per event-loop turn sends each waiting
  citizen a ``queue.update`` only when their position or (rounded) ETA changed.
* Staff: ``counter.update`` at once when something happened at the counter (a call, an arrival,
  a finish, opening); queue lengths and waits that merely moved are sent by the slow flush
  (twice a second), at most once per counter.
* The display board: calls are collected and broadcast to the hall rooms as one ``hall.board``
  message at most once a second, not one broadcast per call.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from rooms.hall.notifier import Notifier
from rooms.hall.queue import estimate_wait, quantize_eta
from rooms.hall.state import HallState
from rooms.hall.wire import counter_view

__all__ = ["Fanout", "HallObserver", "NullObserver", "BOARD_RECENT", "BOARD_INTERVAL_S"]

BOARD_RECENT = 8
BOARD_INTERVAL_S = 1.0
"""The board goes to everyone in the hall: one broadcast a second at most, whatever the calls."""


class HallObserver(Protocol):
    """Where the hall reports its own costs (the server feeds Prometheus)."""

    def issued(self, seconds: float) -> None: ...

    def fanout(self, seconds: float, messages: int) -> None:
        """CPU time (this thread) of one flush and the messages it queued."""

    def event(self, name: str) -> None: ...

    def loop_lag(self, seconds: float) -> None:
        """How late the hall's periodic task woke up: the event loop's backlog."""


class NullObserver:
    def issued(self, seconds: float) -> None:
        pass

    def fanout(self, seconds: float, messages: int) -> None:
        pass

    def event(self, name: str) -> None:
        pass

    def loop_lag(self, seconds: float) -> None:
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
        self._slow_counters: set[str] = set()
        self._last: dict[str, dict[str, _Key]] = {}
        self._scheduled = False
        self._calls: list[dict[str, Any]] = []
        self._board_at = 0.0
        self.recent_calls: deque[dict[str, Any]] = deque(maxlen=BOARD_RECENT)

    def remember(self, service_id: str, ticket_id: str, position: int, eta_s: int) -> None:
        """The citizen was just told this (in an ack): do not repeat it as an update."""
        self._last.setdefault(service_id, {})[ticket_id] = (position, quantize_eta(eta_s))

    def mark(self, services: Iterable[str] = (), counters: Iterable[str] = ()) -> None:
        """``services`` whose queues changed; ``counters`` where something happened."""
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

    def board(self, call: dict[str, Any]) -> None:
        """A call for the display board (sent by the slow flush)."""
        self._calls.append(call)
        self.recent_calls.appendleft(call)

    def flush(self) -> int:
        """Citizens' updates and the counters where something happened; returns messages."""
        self._scheduled = False
        services, self._services = self._services, set()
        counters, self._counters = self._counters, set()
        if not services and not counters:
            return 0
        t0 = time.thread_time()
        sent = 0
        for sid in services:
            sent += self._flush_service(sid)
        st = self.state
        for cid, cst in st.counter_state.items():
            if not cst.open:
                continue
            if cid in counters:
                sent += self._send_counter(cid, {})
                self._slow_counters.discard(cid)
            elif not services.isdisjoint(cst.service_ids):
                self._slow_counters.add(cid)
        self.observer.fanout(time.thread_time() - t0, sent)
        return sent

    def flush_slow(self) -> int:
        """Staff dashboards whose queues moved, and (at most once a second) the display board."""
        counters, self._slow_counters = self._slow_counters, set()
        calls: list[dict[str, Any]] = []
        now = time.monotonic()
        if self._calls and now - self._board_at >= BOARD_INTERVAL_S:
            calls, self._calls, self._board_at = self._calls, [], now
        if not counters and not calls:
            return 0
        t0 = time.thread_time()
        sent = 0
        cache: dict[str, dict[str, Any]] = {}
        for cid in counters:
            sent += self._send_counter(cid, cache)
        if calls:
            self.notifier.to_hall("hall.board", {"calls": calls, "recent": list(self.recent_calls)})
            sent += 1
        self.observer.fanout(time.thread_time() - t0, sent)
        return sent

    def _send_counter(self, cid: str, cache: dict[str, dict[str, Any]]) -> int:
        st = self.state
        cst = st.counter_state.get(cid)
        if cst is None or not cst.open or not cst.staff_id or cid not in st.counters:
            return 0
        view = counter_view(st, cid, self.now_ms(), cache)
        return self.notifier.to_user_here(cst.staff_id, "counter.update", view)

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
                sent += self.notifier.to_user_here(t.user_id, "queue.update", {
                    "ticket_id": tid, "number": t.number, "service_id": sid, "position": pos,
                    "eta_s": eta.eta_s, "eta_range_s": [eta.lo_s, eta.hi_s],
                    "waiting": waiting, "counters_open": n_open,
                })
        self._last[sid] = fresh
        return sent

