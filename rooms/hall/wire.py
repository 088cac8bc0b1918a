"""Wire shapes of the hall (plain dicts for msgpack and JSON). See docs/protocol.md."""

from __future__ import annotations

from typing import Any

from rooms.hall.catalogue import service_to_dict
from rooms.hall.models import Appointment, CounterDef, ServiceDef, Ticket, TicketStatus
from rooms.hall.state import HallState

__all__ = ["counter_brief", "stand_point", "ticket_view", "service_view", "counter_view",
           "appointment_view", "docs_view", "queue_summary"]

STAND_OFF_M = 1.6
"""Citizens stand this far in front (south, +z) of a counter's centre."""


def stand_point(c: CounterDef) -> tuple[float, float]:
    return (c.x, c.z + STAND_OFF_M)


def counter_brief(c: CounterDef) -> dict[str, Any]:
    return {"id": c.id, "name": dict(c.name), "position": [c.x, 0.0, c.z]}


def ticket_view(state: HallState, t: Ticket, *, staff: bool = False) -> dict[str, Any]:
    """A ticket as its owner (or, with ``staff``, the counter) sees it."""
    out: dict[str, Any] = {
        "id": t.id, "number": t.number, "service_id": t.service_id, "status": t.status,
        "appointment": t.priority > 0, "created_at": t.created_at, "position": None,
        "eta_s": None, "eta_range_s": None, "counter": None, "called_at": t.called_at,
        "outcome": t.outcome, "docs_checked": list(t.docs_checked),
    }
    if t.status == TicketStatus.WAITING:
        pos = state.position(t)
        if pos is not None:
            eta = state.eta(t.service_id, pos)
            out.update(position=pos, eta_s=eta.eta_s, eta_range_s=[eta.lo_s, eta.hi_s])
    if t.counter_id and t.counter_id in state.counters:
        out["counter"] = counter_brief(state.counters[t.counter_id])
        out["channel"] = f"counter:{t.counter_id}"
    if t.transferred_from:
        out["transferred_from"] = t.transferred_from
    if staff:
        out.update(user_id=t.user_id, display_name=t.display_name, recalls=t.recalls,
                   arrived_at=t.arrived_at)
        svc = state.services.get(t.service_id)
        if svc is not None:
            out["documents"] = docs_view(svc, t.docs_checked)["documents"]
    return out


def queue_summary(state: HallState, service_id: str, now_ms: int) -> dict[str, Any]:
    q = state.queues.get(service_id)
    waiting = len(q) if q is not None else 0
    eta = state.eta(service_id, waiting + 1)
    share, _, any_open = state.serving_capacity(service_id)
    est = state.estimators.get(service_id)
    return {
        "service_id": service_id, "waiting": waiting,
        "longest_wait_s": state.longest_wait_s(service_id, now_ms),
        "eta_s": eta.eta_s, "eta_range_s": [eta.lo_s, eta.hi_s],
        "avg_service_s": int(round(est.mean)) if est else None,
        "counters_open": len(state.open_counters(service_id)) if any_open else 0,
    }


def service_view(state: HallState, s: ServiceDef, now_ms: int) -> dict[str, Any]:
    """Public view: the catalogue entry plus live queue figures."""
    out = service_to_dict(s)
    out.pop("keywords", None)
    out["counter_ids"] = [c.id for c in state.counters.values()
                          if c.active and s.id in c.service_ids]
    live = queue_summary(state, s.id, now_ms)
    out.update(waiting=live["waiting"], eta_s=live["eta_s"], eta_range_s=live["eta_range_s"],
               avg_service_s=live["avg_service_s"], counters_open=live["counters_open"])
    return out


def counter_view(state: HallState, counter_id: str, now_ms: int,
                 cache: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A counter as its staff sees it; ``cache`` shares queue summaries between counters."""
    c = state.counters[counter_id]
    st = state.counter_state.get(counter_id)
    serving = list(st.service_ids) if st and st.open else []
    cur = state.current_ticket(counter_id)
    return {
        **counter_brief(c),
        "services": list(c.service_ids), "active": c.active,
        "open": bool(st and st.open), "staff_id": st.staff_id if st and st.open else None,
        "serving": serving,
        "current": ticket_view(state, cur, staff=True) if cur else None,
        "queues": [_summary(state, sid, now_ms, cache) for sid in serving],
    }


def _summary(state: HallState, service_id: str, now_ms: int,
             cache: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    if cache is None:
        return queue_summary(state, service_id, now_ms)
    if service_id not in cache:
        cache[service_id] = queue_summary(state, service_id, now_ms)
    return cache[service_id]


def appointment_view(a: Appointment) -> dict[str, Any]:
    return {"id": a.id, "service_id": a.service_id, "start": a.start, "end": a.end,
            "status": a.status, "ticket_id": a.ticket_id, "created_at": a.created_at}


def docs_view(s: ServiceDef, checked: tuple[str, ...] | list[str]) -> dict[str, Any]:
    done = set(checked)
    return {
        "checked": [d.id for d in s.documents if d.id in done],
        "missing": [d.id for d in s.documents if d.id not in done],
        "documents": [{"id": d.id, "name": dict(d.name), "checked": d.id in done}
                      for d in s.documents],
    }
