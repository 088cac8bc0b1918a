"""Appointments: a slot grid per service (opening hours, slot length), a place per counter that
takes appointments, and a priority ticket issued when the slot begins."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from rooms.client import UserLike
from rooms.errors import MetahallError
from rooms.hall.core import HallCore
from rooms.hall.errors import BadSlot, NotYourTicket, SlotFull, UnknownAppointment
from rooms.hall.models import Appointment, AppointmentStatus, IssueRequest, ServiceDef
from rooms.hall.wire import appointment_view, ticket_view

__all__ = ["Appointments"]


class Appointments:
    def __init__(self, core: HallCore) -> None:
        self.core = core

    def capacity(self, svc: ServiceDef) -> int:
        """Places per slot: one per counter that serves the service (``appointments_per_slot``)."""
        return sum(c.appointments_per_slot for c in self.core.state.counters.values()
                   if c.active and svc.id in c.service_ids)

    def _today(self) -> date:
        return datetime.fromtimestamp(self.core.now_ms() / 1000, self.core.tz).date()

    def days(self) -> list[date]:
        today = self._today()
        return [today + timedelta(days=i) for i in range(self.core.policy.booking_days)]

    def grid(self, svc: ServiceDef, day: date) -> list[tuple[int, int]]:
        """(start, end) Unix ms of every slot of ``day`` in the hall's time zone."""
        tz, pol = self.core.tz, self.core.policy
        at = datetime.combine(day, dtime.fromisoformat(pol.opens), tzinfo=tz)
        end = datetime.combine(day, dtime.fromisoformat(pol.closes), tzinfo=tz)
        step = timedelta(minutes=svc.slot_minutes)
        out: list[tuple[int, int]] = []
        while at + step <= end:
            out.append((int(at.timestamp() * 1000), int((at + step).timestamp() * 1000)))
            at += step
        return out

    def _service(self, service_id: object) -> ServiceDef:
        svc = self.core.service(service_id)
        if not svc.appointable or self.capacity(svc) == 0:
            raise BadSlot(f"{svc.name['en']} takes no appointments.", field="service_id")
        return svc

    async def slots(self, service_id: object, day_text: object) -> dict[str, Any]:
        svc = self._service(service_id)
        days = self.days()
        now = self.core.now_ms()
        day: date | None
        if day_text is None:  # the first day that still has a slot ahead
            day = next((d for d in days if any(s > now for s, _ in self.grid(svc, d))), days[-1])
        else:
            day = _parse_day(day_text)
        if day is None or day not in days:
            raise BadSlot(f"date must be one of {days[0]}..{days[-1]}", field="date")
        grid = self.grid(svc, day)
        cap = self.capacity(svc)
        used = await self.core.store.slot_usage(svc.id, grid[0][0], grid[-1][1]) if grid else {}
        return {
            "service_id": svc.id, "date": day.isoformat(), "days": [d.isoformat() for d in days],
            "timezone": self.core.policy.timezone,
            "slots": [{"start": s, "end": e, "capacity": cap, "left": max(0, cap - used.get(s, 0))}
                      for s, e in grid if s > now],
        }

    async def book(self, user: UserLike, service_id: object, start: int) -> dict[str, Any]:
        core = self.core
        svc = self._service(service_id)
        now = core.now_ms()
        if not now < start <= now + (core.policy.booking_days + 1) * 86_400_000:
            raise BadSlot("That is not a bookable time slot.", field="start")
        day = datetime.fromtimestamp(start / 1000, core.tz).date()
        slot = next(((s, e) for s, e in self.grid(svc, day) if s == start), None) \
            if day in self.days() else None
        if slot is None:
            raise BadSlot("That is not a bookable time slot.", field="start")
        cap = self.capacity(svc)
        if cap <= 0:
            raise SlotFull("That time slot is fully booked.")
        appt = Appointment(uuid.uuid4().hex, svc.id, user.id, user.display_name, slot[0], slot[1],
                           AppointmentStatus.BOOKED, now)
        booked = await core.store.book(appt, cap)
        core.observer.event("booked")
        self._tell(booked, "booked")
        return {"appointment": appointment_view(booked)}

    async def cancel(self, user: UserLike, appointment_id: object) -> dict[str, Any]:
        if not isinstance(appointment_id, str) or len(appointment_id) > 64:
            raise UnknownAppointment("No such appointment.", field="appointment_id")
        appt = await self.core.store.get_appointment(appointment_id)
        if appt is None:
            raise UnknownAppointment("No such appointment.", field="appointment_id")
        if appt.user_id != user.id:
            raise NotYourTicket("That appointment belongs to someone else.")
        done = await self.core.store.cancel_appointment(appt.id, self.core.now_ms())
        self._tell(done, "cancelled")
        return {"appointment": appointment_view(done)}

    def _tell(self, appt: Appointment, reason: str) -> None:
        """``appointment.update`` on every connection of the citizen (their other tabs too)."""
        self.core.notifier.to_user(appt.user_id, "appointment.update",
                                   {"appointment": appointment_view(appt), "reason": reason})

    async def mine(self, user: UserLike) -> list[dict[str, Any]]:
        return [appointment_view(a) for a in await self.core.store.appointments_of(user.id)]

    async def issue_due(self) -> int:
        """Issue the priority tickets of slots that have begun; returns how many."""
        core = self.core
        now = core.now_ms()
        n = 0
        for appt in await core.store.due_appointments(now):
            svc = core.state.services.get(appt.service_id)
            if svc is None or not svc.active:
                try:
                    done = await core.store.cancel_appointment(appt.id, now)
                except MetahallError:
                    continue  # cancelled by its owner meanwhile
                self._tell(done, "service_closed")
                continue
            t = await core.store.issue_for_appointment(appt.id, IssueRequest(
                svc.id, svc.prefix, appt.user_id, appt.display_name, core.day(now), now,
                priority=1, sort_key=appt.start, appointment_id=appt.id))
            if t is None:
                continue
            core.apply(t)
            core.notifier.to_user(t.user_id, "queue.issued", {
                "ticket": ticket_view(core.state, t), "reason": "appointment",
                "appointment_id": appt.id})
            n += 1
        return n


def _parse_day(text: object) -> date | None:
    if not isinstance(text, str) or len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
