"""``HallService``: the service hall of one server process.

It composes the feature classes over one :class:`HallCore`, loads the durable state at start,
and runs the sweep (no-show timeouts, appointment slots that began, citizens offline past the
grace period) once a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from rooms.errors import MetahallError
from rooms.hall.appointments import Appointments
from rooms.hall.citizens import Citizens
from rooms.hall.core import HallCore
from rooms.hall.fanout import HallObserver
from rooms.hall.manager import Manager
from rooms.hall.models import Catalogue, Outcome, Ticket, TicketStatus
from rooms.hall.notifier import Notifier
from rooms.hall.path import FloorPlanner
from rooms.hall.staff import Staff
from rooms.hall.state import HallState
from rooms.hall.store import HallStore
from rooms.hall.wire import counter_view, service_view, stand_point

__all__ = ["HallService"]

log = logging.getLogger("metahall.hall")
SLOW_FLUSH_S = 0.5


class HallService:
    def __init__(self, store: HallStore, notifier: Notifier, *,
                 planner: FloorPlanner | None = None, clock: Callable[[], float] = time.time,
                 observer: HallObserver | None = None, sweep_interval_s: float = 1.0) -> None:
        self.core = HallCore(store, notifier, planner=planner, clock=clock, observer=observer)
        self.citizens = Citizens(self.core)
        self.staff = Staff(self.core)
        self.appointments = Appointments(self.core)
        self.manager = Manager(self.core)
        self.sweep_interval_s = sweep_interval_s
        self.leader: Callable[[], bool] = lambda: True
        """Cluster: whether this process runs the shared parts of the sweep (one does)."""
        self.away_since: dict[str, int] = {}
        """user id → when we first saw them offline while holding a waiting ticket."""

    @property
    def state(self) -> HallState:
        return self.core.state

    async def start(self, seed: Catalogue | None = None) -> None:
        """Load the catalogue (seeding it when the store has none), counters and tickets."""
        core = self.core
        cat = await core.store.load_catalogue()
        if cat is None and seed is not None:
            await core.store.save_catalogue(seed, replace=True)
            cat = await core.store.load_catalogue()
        if cat is not None:
            core.set_catalogue(cat)
        core.state.counter_state.update(await core.store.counter_states())
        for t in await core.store.active_tickets():
            core.state.apply(t)
        for sid, est in core.state.estimators.items():
            for seconds in await core.store.recent_service_times(sid, 30):
                est.observe(seconds)
        core.fanout.mark_all()
        log.info("hall loaded services=%d counters=%d active_tickets=%d",
                 len(core.state.services), len(core.state.counters), len(core.state.tickets))

    async def run(self) -> None:
        """The server's background task: the slow flush (dashboards, display board) every
        ``SLOW_FLUSH_S``, the sweep every ``sweep_interval_s``."""
        last_sweep = time.monotonic()
        while True:
            period = min(SLOW_FLUSH_S, self.sweep_interval_s)
            woke = time.monotonic() + period
            await asyncio.sleep(period)
            self.core.observer.loop_lag(max(0.0, time.monotonic() - woke))
            try:
                self.core.fanout.flush_slow()
                if time.monotonic() - last_sweep >= self.sweep_interval_s:
                    last_sweep = time.monotonic()
                    await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hall sweep failed")

    async def sweep(self) -> None:
        await self.arrivals(self.core.notifier.where)  # people standing in this process's rooms
        if not self.leader():
            return
        await self._no_shows()
        await self.appointments.issue_due()
        await self._expire_absent()

    # -- the sweep's parts -------------------------------------------------------------------
    async def _no_shows(self) -> None:
        core = self.core
        now = core.now_ms()
        limit = int(core.policy.no_show_s * 1000)
        for t in list(core.state.called()):
            since = t.recalled_at or t.called_at or now
            if t.status != TicketStatus.CALLED or now - since < limit:
                continue
            counter_id, staff_id = t.counter_id or "", t.staff_id or ""
            try:
                await self.staff.finish_ticket(t, Outcome.NO_SHOW)
            except MetahallError:
                continue  # someone acted on it meanwhile
            log.info("no-show ticket=%s counter=%s", t.number, counter_id)
            cst = core.state.counter_state.get(counter_id)
            nxt: Ticket | None = None
            if core.policy.auto_next and cst is not None and cst.open \
                    and counter_id not in core.state.current:
                try:
                    nxt = await self.staff.call_next(counter_id, cst.staff_id or staff_id)
                except MetahallError:
                    nxt = None
            if cst is not None and cst.staff_id:
                core.notifier.to_user(cst.staff_id, "counter.update", {
                    **counter_view(core.state, counter_id, core.now_ms()),
                    "reason": "no_show_timeout", "no_show": t.number,
                    "called": nxt.number if nxt else None})

    async def _expire_absent(self) -> None:
        core = self.core
        now = core.now_ms()
        grace = int(core.policy.grace_s * 1000)
        holders = {t.user_id for t in core.state.tickets.values()
                   if t.status == TicketStatus.WAITING}
        for uid in list(self.away_since):
            if uid not in holders:
                del self.away_since[uid]
        for uid in holders:
            if core.notifier.online(uid):
                self.away_since.pop(uid, None)
                continue
            since = self.away_since.setdefault(uid, now)
            if now - since < grace:
                continue
            for t in core.state.user_tickets(uid):
                if t.status != TicketStatus.WAITING:
                    continue
                try:
                    done = await core.store.update_ticket(t.id, (TicketStatus.WAITING,), {
                        "status": TicketStatus.DONE, "outcome": Outcome.EXPIRED,
                        "finished_at": now})
                except MetahallError:
                    continue
                core.apply(done)
                log.info("ticket expired ticket=%s user=%s", t.number, uid)
            self.away_since.pop(uid, None)

    def services_view(self) -> list[dict[str, Any]]:
        """The public catalogue with live queue figures, in catalogue order."""
        st, now = self.core.state, self.core.now_ms()
        return [service_view(st, s, now)
                for s in sorted(st.services.values(), key=lambda s: (s.sort, s.id)) if s.active]

    def hall_info(self) -> dict[str, Any]:
        """What a client needs to show times as the hall does: its time zone and hours."""
        p = self.core.policy
        return {"timezone": p.timezone, "opens": p.opens, "closes": p.closes,
                "booking_days": p.booking_days, "no_show_s": int(p.no_show_s)}

    def counters_view(self) -> list[dict[str, Any]]:
        st, now = self.core.state, self.core.now_ms()
        return [counter_view(st, cid, now) for cid, c in st.counters.items() if c.active]

    # -- for the room ------------------------------------------------------------------------
    async def arrivals(self, positions: Callable[[str], tuple[float, float] | None]) -> int:
        """Called tickets whose citizen now stands at the counter become ``serving``."""
        core = self.core
        r2 = core.policy.arrive_radius_m ** 2
        n = 0
        for t in list(core.state.called()):
            if t.status != TicketStatus.CALLED or t.counter_id not in core.state.counters:
                continue
            pos = positions(t.user_id)
            if pos is None:
                continue
            sx, sz = stand_point(core.state.counters[t.counter_id])
            if (pos[0] - sx) ** 2 + (pos[1] - sz) ** 2 <= r2:
                try:
                    await self.citizens.mark_arrived(t)
                    n += 1
                except MetahallError:
                    pass
        return n

    def consult_members(self, counter_id: str) -> tuple[str, ...]:
        """User ids in the private channel ``counter:<id>``: the staff and the citizen there."""
        st = self.core.state
        cst = st.counter_state.get(counter_id)
        t = st.current_ticket(counter_id)
        ids = []
        if cst is not None and cst.open and cst.staff_id:
            ids.append(cst.staff_id)
        if t is not None:
            ids.append(t.user_id)
        return tuple(ids)
