"""The hall's Socket.IO events: payload checks at the edge, then the feature classes.

``hall_handlers(hall)`` returns ``{event: handler}``; the server registers each with
``Realtime.on``. Handlers answer the ack fields; errors raise protocol errors (``bad_request``,
``forbidden``, ``not_found``, ``conflict``) and change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rooms.client import Client
from rooms.errors import BadRequest
from rooms.hall.errors import AdminOnly, StaffOnly
from rooms.hall.models import Outcome
from rooms.hall.service import HallService
from rooms.hall.staff import OUTCOMES
from rooms.payloads import clean_text, get_int, require_mapping

__all__ = ["hall_handlers", "EVENTS"]

Handler = Callable[[Client, object], Awaitable[dict[str, Any] | None]]
EVENTS = (
    "guide.ask", "queue.take", "queue.leave", "queue.mine", "ticket.arrive", "ticket.rate",
    "appointment.slots", "appointment.book", "appointment.cancel", "hall.services",
    "counter.open", "counter.close", "counter.next", "counter.recall", "counter.finish",
    "counter.transfer", "counter.docs", "counter.state", "hall.stats",
)
STAFF_EVENTS = tuple(e for e in EVENTS if e.startswith("counter."))
MAX_TS = 2**53


def _id(data: Any, key: str, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise BadRequest(f"{key} must be a string id", field=key)
    return value


def _ids(data: Any, key: str, max_items: int = 50) -> list[str] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > max_items \
            or not all(isinstance(v, str) and 1 <= len(v) <= 64 for v in value):
        raise BadRequest(f"{key} must be a list of string ids", field=key)
    return list(value)


def hall_handlers(hall: HallService) -> dict[str, Handler]:
    cit, staff, appts, mgr = hall.citizens, hall.staff, hall.appointments, hall.manager

    async def guide_ask(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        text = clean_text(d.get("text"), "text", max_len=200)
        lang = d.get("lang", c.lang)
        if lang not in ("zh-CN", "en"):
            raise BadRequest("lang must be zh-CN or en", field="lang")
        return cit.ask(c.user, text, lang)

    async def queue_take(c: Client, p: object) -> dict[str, Any]:
        return await cit.take(c.user, _id(require_mapping(p), "service_id"))

    async def queue_leave(c: Client, p: object) -> dict[str, Any]:
        return await cit.leave(c.user, _id(require_mapping(p), "ticket_id"))

    async def queue_mine(c: Client, p: object) -> dict[str, Any]:
        hall.away_since.pop(c.user.id, None)
        return {"tickets": cit.mine(c.user), "appointments": await appts.mine(c.user)}

    async def ticket_arrive(c: Client, p: object) -> dict[str, Any]:
        return await cit.arrive(c.user, _id(require_mapping(p), "ticket_id"))

    async def ticket_rate(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        ticket_id = _id(d, "ticket_id")
        score = get_int(d, "score", lo=1, hi=5)
        comment = "" if d.get("comment") in (None, "") else clean_text(
            d.get("comment"), "comment", max_len=500, single_line=False)
        return await cit.rate(c.user, ticket_id, int(score or 0), comment)

    async def appointment_slots(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        return await appts.slots(_id(d, "service_id"), d.get("date"))

    async def appointment_book(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        service_id = _id(d, "service_id")
        start = get_int(d, "start", lo=0, hi=MAX_TS)
        return await appts.book(c.user, service_id, int(start or 0))

    async def appointment_cancel(c: Client, p: object) -> dict[str, Any]:
        return await appts.cancel(c.user, _id(require_mapping(p), "appointment_id"))

    async def hall_services(c: Client, p: object) -> dict[str, Any]:
        return {"services": hall.services_view(), "hall": hall.hall_info()}

    async def counter_open(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        return await staff.open(c.user, _id(d, "counter_id"), _ids(d, "service_ids"))

    async def counter_close(c: Client, p: object) -> dict[str, Any]:
        return await staff.close(c.user, _id(require_mapping(p), "counter_id"))

    async def counter_next(c: Client, p: object) -> dict[str, Any]:
        return await staff.next(c.user, _id(require_mapping(p), "counter_id"))

    async def counter_recall(c: Client, p: object) -> dict[str, Any]:
        return await staff.recall(c.user, _id(require_mapping(p), "counter_id"))

    async def counter_finish(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        ticket_id = _id(d, "ticket_id")
        outcome = d.get("outcome")
        if outcome not in OUTCOMES:
            raise BadRequest("outcome must be served, no_show or transferred", field="outcome")
        to = _id(d, "to_service_id", required=outcome == Outcome.TRANSFERRED)
        return await staff.finish(c.user, ticket_id, str(outcome), to)

    async def counter_transfer(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        return await staff.finish(c.user, _id(d, "ticket_id"), Outcome.TRANSFERRED,
                                  _id(d, "to_service_id"))

    async def counter_docs(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        checked = _ids(d, "checked")
        if checked is None:
            raise BadRequest("checked must be a list of document ids", field="checked")
        return await staff.docs(c.user, _id(d, "ticket_id"), checked)

    async def counter_state(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p) if p is not None else {}
        return staff.view(c.user, _id(d, "counter_id", required=False))

    async def hall_stats(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p) if p is not None else {}
        since = get_int(d, "since", lo=0, hi=MAX_TS, required=False)
        return await mgr.stats(c.user, since)

    handlers: dict[str, Handler] = {
        "guide.ask": guide_ask, "queue.take": queue_take, "queue.leave": queue_leave,
        "queue.mine": queue_mine, "ticket.arrive": ticket_arrive, "ticket.rate": ticket_rate,
        "appointment.slots": appointment_slots, "appointment.book": appointment_book,
        "appointment.cancel": appointment_cancel, "hall.services": hall_services,
        "counter.open": counter_open, "counter.close": counter_close,
        "counter.next": counter_next, "counter.recall": counter_recall,
        "counter.finish": counter_finish, "counter.transfer": counter_transfer,
        "counter.docs": counter_docs, "counter.state": counter_state, "hall.stats": hall_stats,
    }
    assert set(handlers) == set(EVENTS)
    for event in STAFF_EVENTS:
        handlers[event] = _guard(handlers[event], "staff")
    handlers["hall.stats"] = _guard(handlers["hall.stats"], "admin")
    return handlers


def _guard(handler: Handler, role: str) -> Handler:
    """Check the role before looking at the payload: no probing without the role."""
    async def guarded(c: Client, p: object) -> dict[str, Any] | None:
        if not c.has_role(role):
            raise (StaffOnly("Only staff can do this.") if role == "staff"
                   else AdminOnly("Only the hall manager (admin) can do this."))
        return await handler(c, p)
    return guarded
