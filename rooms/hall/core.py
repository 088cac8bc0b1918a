"""The shared core of the hall: storage, the in-memory mirror, the fan-out, clocks and lookups.

The feature classes (citizens, staff, appointments, manager) each hold one ``HallCore``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rooms.client import UserLike
from rooms.hall.errors import AdminOnly, StaffOnly, UnknownCounter, UnknownService
from rooms.hall.fanout import Fanout, HallObserver, NullObserver
from rooms.hall.guide import Guide
from rooms.hall.models import Catalogue, CounterDef, CounterState, HallPolicy, ServiceDef, Ticket
from rooms.hall.notifier import Notifier
from rooms.hall.path import FloorPlanner
from rooms.hall.state import HallState
from rooms.hall.store import HallStore
from rooms.hall.wire import counter_brief, stand_point

__all__ = ["HallCore", "has_role", "EMPTY_CATALOGUE"]

EMPTY_CATALOGUE = Catalogue((), ())


def has_role(user: UserLike, role: str) -> bool:
    """The same rule as ``Client.has_role``: the role itself, or admin."""
    return role in user.roles or "admin" in user.roles


class HallCore:
    def __init__(self, store: HallStore, notifier: Notifier, *,
                 planner: FloorPlanner | None = None, clock: Callable[[], float] = time.time,
                 observer: HallObserver | None = None) -> None:
        self.store = store
        self.notifier = notifier
        self.planner = planner
        self.clock = clock
        self.observer: HallObserver = observer or NullObserver()
        self.state = HallState(EMPTY_CATALOGUE, {})
        self.fanout = Fanout(self.state, notifier, self.now_ms, self.observer)
        self.guide = Guide(())
        self.policy = HallPolicy()
        self._tz = ZoneInfo(self.policy.timezone)
        self.sync: Callable[[str, Any], None] | None = None
        """Cluster: told of every change this process makes (``tickets``, ``counter``,
        ``catalogue``) so the other processes' mirrors follow; see server/cluster_hall.py."""

    # -- time ------------------------------------------------------------------------------
    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    def day(self, ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, self._tz).strftime("%Y%m%d")

    # -- catalogue -------------------------------------------------------------------------
    def set_catalogue(self, catalogue: Catalogue) -> None:
        self.state.set_catalogue(catalogue)
        self.policy = catalogue.policy
        self._tz = ZoneInfo(self.policy.timezone)
        self.guide = Guide(catalogue.services, catalogue.synonyms)
        self.fanout.mark_all()

    def service(self, service_id: object, *, active: bool = True) -> ServiceDef:
        svc = self.state.services.get(service_id) if isinstance(service_id, str) else None
        if svc is None or (active and not svc.active):
            raise UnknownService(f"No service {service_id!r}.", field="service_id")
        return svc

    def counter(self, counter_id: object) -> CounterDef:
        c = self.state.counters.get(counter_id) if isinstance(counter_id, str) else None
        if c is None or not c.active:
            raise UnknownCounter(f"No counter {counter_id!r}.", field="counter_id")
        return c

    # -- access ----------------------------------------------------------------------------
    @staticmethod
    def require_staff(user: UserLike) -> None:
        if not has_role(user, "staff"):
            raise StaffOnly("Only staff can do this.")

    @staticmethod
    def require_admin(user: UserLike) -> None:
        if "admin" not in user.roles:
            raise AdminOnly("Only the hall manager (admin) can do this.")

    # -- changes ---------------------------------------------------------------------------
    def apply(self, *tickets: Ticket) -> None:
        """Fold store results into the mirror and schedule the updates they cause."""
        self.apply_remote(*tickets)
        if self.sync is not None:
            self.sync("tickets", tickets)

    def apply_remote(self, *tickets: Ticket) -> None:
        """Fold in tickets another process committed (no echo back to the cluster)."""
        for t in tickets:
            change = self.state.apply(t)
            if change is not None:
                self.fanout.mark(change.services, change.counters)

    def set_counter(self, counter_id: str, state: CounterState, *, remote: bool = False) -> None:
        """A counter opened, changed services or closed (its state already stored)."""
        old = self.state.counter_state.get(counter_id)
        self.state.counter_state[counter_id] = state
        self.fanout.mark(set(state.service_ids) | set(old.service_ids if old else ()), [counter_id])
        if self.sync is not None and not remote:
            self.sync("counter", (counter_id, state))

    # -- paths -----------------------------------------------------------------------------
    def path_to(self, user_id: str, counter: CounterDef) -> list[list[float]]:
        goal = stand_point(counter)
        start = self.notifier.where(user_id)
        if self.planner is None:
            return [list(start or goal), list(goal)]
        if start is None:  # not in the hall: from the entrance, past the guide desk
            start = (0.0, 30.0)
        return self.planner.path(start, goal)

    def called_payload(self, t: Ticket) -> dict[str, Any]:
        c = self.state.counters[t.counter_id or ""]
        since = t.recalled_at or t.called_at or self.now_ms()
        deadline = since + int(self.policy.no_show_s * 1000)
        num = t.number
        return {
            "ticket_id": t.id, "number": num, "service_id": t.service_id,
            "counter": counter_brief(c), "path": self.path_to(t.user_id, c),
            "channel": f"counter:{c.id}", "recall": t.recalls, "deadline": deadline,
            "called_at": t.called_at,
            "text": {"zh-CN": f"请{num}号到{c.name['zh-CN']}办理",
                     "en": f"Number {num}, please go to {c.name['en']}"},
        }

    def announce_call(self, t: Ticket) -> None:
        """Tell the citizen (every connection) at once; the display board follows shortly."""
        payload = self.called_payload(t)
        self.notifier.to_user(t.user_id, "queue.called", payload)
        self.fanout.board({"number": t.number, "counter": payload["counter"],
                           "text": payload["text"], "recall": t.recalls, "at": self.now_ms()})
        self.observer.event("called")
