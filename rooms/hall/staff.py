"""What staff do at a counter: open, close, call, recall, check documents, finish, transfer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rooms.client import UserLike
from rooms.errors import BadRequest
from rooms.hall.core import HallCore
from rooms.hall.errors import (
    CounterBusy,
    CounterClosed,
    NotYourCounter,
    TicketStateChanged,
    UnknownTicket,
)
from rooms.hall.models import CounterState, IssueRequest, Outcome, Ticket, TicketStatus
from rooms.hall.wire import counter_view, docs_view, queue_summary, ticket_view

__all__ = ["Staff", "OUTCOMES"]

AT_COUNTER = (TicketStatus.CALLED, TicketStatus.SERVING)
OUTCOMES = (Outcome.SERVED, Outcome.NO_SHOW, Outcome.TRANSFERRED)


class Staff:
    def __init__(self, core: HallCore) -> None:
        self.core = core

    # -- counters --------------------------------------------------------------------------
    def _held(self, user: UserLike, counter_id: object) -> str:
        """The counter, which must be open and held by ``user`` (an admin may act for anyone)."""
        self.core.require_staff(user)
        c = self.core.counter(counter_id)
        st = self.core.state.counter_state.get(c.id)
        if st is None or not st.open:
            raise CounterClosed(f"{c.name['en']} is closed; open it first.")
        if st.staff_id != user.id and "admin" not in user.roles:
            raise NotYourCounter("Another staff member holds that counter.")
        return c.id

    async def open(self, user: UserLike, counter_id: object,
                   service_ids: Sequence[str] | None) -> dict[str, Any]:
        core = self.core
        core.require_staff(user)
        c = core.counter(counter_id)
        st = core.state.counter_state.get(c.id)
        if st and st.open and st.staff_id not in (None, user.id) and "admin" not in user.roles:
            raise NotYourCounter("Another staff member holds that counter.")
        held = [cid for cid in core.state.counters_of_staff(user.id) if cid != c.id]
        if held:
            raise CounterBusy(f"You already hold counter {held[0]}; close it first.")
        services = tuple(dict.fromkeys(service_ids)) if service_ids else c.service_ids
        for sid in services:
            core.service(sid)
        if not services:
            raise BadRequest("A counter must serve at least one service.", field="service_ids")
        now = core.now_ms()
        state = CounterState(True, user.id, services,
                             st.opened_at if st and st.open else now)
        await core.store.set_counter_state(c.id, state)
        core.set_counter(c.id, state)
        return {"counter": counter_view(core.state, c.id, now)}

    async def close(self, user: UserLike, counter_id: object) -> dict[str, Any]:
        core = self.core
        cid = self._held(user, counter_id)
        if cid in core.state.current:
            raise CounterBusy("Finish the current ticket before closing the counter.")
        old = core.state.counter_state[cid]
        state = CounterState(False, None, (), None)
        await core.store.set_counter_state(cid, state)
        core.set_counter(cid, state)
        if old.staff_id and old.staff_id != user.id:
            core.notifier.to_user(old.staff_id, "counter.update",
                                  counter_view(core.state, cid, core.now_ms()))
        return {"counter": counter_view(core.state, cid, core.now_ms())}

    def view(self, user: UserLike, counter_id: object | None) -> dict[str, Any]:
        """The staff dashboard: my counters (or one), and every queue's length and waits."""
        core = self.core
        core.require_staff(user)
        now = core.now_ms()
        if counter_id is not None:
            ids = [core.counter(counter_id).id]
        else:
            ids = core.state.counters_of_staff(user.id)
        return {
            "counters": [counter_view(core.state, cid, now) for cid in ids],
            "queues": [queue_summary(core.state, s.id, now)
                       for s in core.state.services.values() if s.active],
        }

    # -- calling ---------------------------------------------------------------------------
    async def next(self, user: UserLike, counter_id: object) -> dict[str, Any]:
        cid = self._held(user, counter_id)
        t = await self.call_next(cid, user.id)
        return {"ticket": ticket_view(self.core.state, t, staff=True) if t else None}

    async def call_next(self, counter_id: str, staff_id: str) -> Ticket | None:
        core = self.core
        if counter_id in core.state.current:
            raise CounterBusy("The counter is still serving a ticket; finish it first.")
        services = core.state.counter_state[counter_id].service_ids
        t = await core.store.claim_next(counter_id, services, staff_id, core.now_ms())
        if t is None:
            core.fanout.mark(counters=[counter_id])
            return None
        core.apply(t)
        core.announce_call(t)
        return t

    async def recall(self, user: UserLike, counter_id: object) -> dict[str, Any]:
        core = self.core
        cid = self._held(user, counter_id)
        t = core.state.current_ticket(cid)
        if t is None:
            raise TicketStateChanged("No ticket is called at this counter.")
        if t.status != TicketStatus.CALLED:
            raise TicketStateChanged("The citizen is already at the counter.")
        if t.recalls >= core.policy.max_recalls:
            raise TicketStateChanged(
                f"Already recalled {t.recalls} times; finish it as a no-show.")
        t = await core.store.update_ticket(t.id, (TicketStatus.CALLED,), {
            "recalls": t.recalls + 1, "recalled_at": core.now_ms()})
        core.apply(t)
        core.announce_call(t)
        return {"ticket": ticket_view(core.state, t, staff=True)}

    async def _at_my_counter(self, user: UserLike, ticket_id: object) -> Ticket:
        self.core.require_staff(user)
        t = self.core.state.tickets.get(ticket_id) if isinstance(ticket_id, str) else None
        if t is None:
            found = await self.core.store.get_ticket(ticket_id) \
                if isinstance(ticket_id, str) and len(ticket_id) <= 64 else None
            if found is None:
                raise UnknownTicket("No such ticket.", field="ticket_id")
            raise TicketStateChanged("That ticket is not at a counter.")
        if t.status not in AT_COUNTER or not t.counter_id:
            raise TicketStateChanged("That ticket is not at a counter.")
        self._held(user, t.counter_id)
        return t

    async def docs(self, user: UserLike, ticket_id: object,
                   checked: Sequence[str]) -> dict[str, Any]:
        core = self.core
        t = await self._at_my_counter(user, ticket_id)
        svc = core.service(t.service_id, active=False)
        known = {d.id for d in svc.documents}
        unknown = [d for d in checked if d not in known]
        if unknown:
            raise BadRequest(f"Unknown documents for this service: {', '.join(unknown)}",
                             field="checked")
        ordered = tuple(d.id for d in svc.documents if d.id in set(checked))
        t = await core.store.update_ticket(t.id, AT_COUNTER, {
            "docs_checked": ordered, "status": TicketStatus.SERVING,
            "arrived_at": t.arrived_at or core.now_ms()})
        core.apply(t)
        view = {"ticket_id": t.id, **docs_view(svc, ordered)}
        core.notifier.to_user(t.user_id, "ticket.docs", view)
        return view

    async def finish(self, user: UserLike, ticket_id: object, outcome: str,
                     to_service_id: object | None) -> dict[str, Any]:
        core = self.core
        if outcome not in OUTCOMES:
            raise BadRequest("outcome must be served, no_show or transferred", field="outcome")
        t = await self._at_my_counter(user, ticket_id)
        if outcome == Outcome.TRANSFERRED:
            return await self._transfer(user, t, to_service_id)
        done = await self.finish_ticket(t, outcome)
        return {"ticket": ticket_view(core.state, done, staff=True), "new_ticket": None}

    async def finish_ticket(self, t: Ticket, outcome: str) -> Ticket:
        """Close a ticket at a counter as served or no-show, and learn the service time."""
        core = self.core
        now = core.now_ms()
        done = await core.store.update_ticket(t.id, AT_COUNTER, {
            "status": TicketStatus.DONE, "outcome": outcome, "finished_at": now})
        if outcome == Outcome.SERVED:
            began = done.arrived_at or done.called_at or now
            est = core.state.estimators.get(done.service_id)
            if est is not None:
                est.observe((now - began) / 1000)
        core.apply(done)
        core.notifier.to_user(done.user_id, "queue.done", _done_payload(done))
        core.observer.event(f"finished_{outcome}")
        return done

    async def _transfer(self, user: UserLike, t: Ticket, to_service_id: object) -> dict[str, Any]:
        core = self.core
        target = core.service(to_service_id)
        if target.id == t.service_id:
            raise BadRequest("Transfer to a different service.", field="to_service_id")
        now = core.now_ms()
        old, new = await core.store.transfer(t.id, AT_COUNTER, now, IssueRequest(
            target.id, target.prefix, t.user_id, t.display_name, core.day(now), now,
            priority=t.priority, sort_key=t.sort_key, transferred_from=t.id))
        core.apply(old, new)
        core.notifier.to_user(old.user_id, "queue.done", _done_payload(old))
        core.notifier.to_user(new.user_id, "queue.issued", {
            "ticket": ticket_view(core.state, new), "reason": "transfer", "from": old.number})
        core.observer.event("finished_transferred")
        return {"ticket": ticket_view(core.state, old, staff=True),
                "new_ticket": ticket_view(core.state, new, staff=True)}


def _done_payload(t: Ticket) -> dict[str, Any]:
    return {"ticket_id": t.id, "number": t.number, "service_id": t.service_id,
            "outcome": t.outcome, "can_rate": t.outcome in (Outcome.SERVED, Outcome.TRANSFERRED)}
