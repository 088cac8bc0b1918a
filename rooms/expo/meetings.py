"""Meetings (cloud negotiation): a booth's staff publish time slots, visitors book one, both
are reminded shortly before, and at the time a private chat channel ``meeting:<id>`` opens for
the two of them.

Double booking is impossible by construction of the storage: a partial unique index allows one
booked meeting per slot (and one per visitor and booth), so of two concurrent bookings — from
one process or several — exactly one commits and the other gets ``SlotTaken``. Reminders and
openings are marked in the database with ``UPDATE … WHERE reminded_at IS NULL``, so each is
sent once even with several processes.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from rooms.client import Client, UserLike
from rooms.errors import BadRequest, Forbidden
from rooms.expo.errors import (
    MeetingOver,
    NotYourMeeting,
    SlotOccupied,
    SlotPast,
    UnknownMeeting,
    UnknownSlot,
)
from rooms.expo.models import Meeting, Slot
from rooms.payloads import get_int, require_mapping

if TYPE_CHECKING:
    from rooms.expo.service import ExpoService

__all__ = ["MeetingDesk"]

log = logging.getLogger("metahall.expo")
MINUTE = 60_000
LIVE_HORIZON_MS = 2 * 3600_000
"""Booked meetings starting within this are kept in memory (channels, reminders)."""


class MeetingDesk:
    def __init__(self, core: ExpoService) -> None:
        self.core = core
        self.live: dict[str, Meeting] = {}
        """Booked meetings starting within the horizon or running now, by id."""

    # -- slots ----------------------------------------------------------------------------------
    async def add_slots(self, user: UserLike, booth_id: str, payload: object) -> list[Slot]:
        """``{"start": ms, "minutes": 10..240, "count"?: 1..16}``: ``count`` back-to-back slots."""
        core = self.core
        booth = core.require_staff(user, booth_id)
        data = require_mapping(payload)
        pol = core.policy
        now = core.now()
        start = get_int(data, "start", lo=0, hi=2**53)
        minutes = get_int(data, "minutes", lo=pol.slot_minutes[0], hi=pol.slot_minutes[1])
        count = get_int(data, "count", lo=1, hi=pol.max_slots_per_call, required=False) or 1
        assert start is not None and minutes is not None
        if start < now + MINUTE:
            raise BadRequest("slots must start at least a minute from now", field="start")
        if start > now + pol.booking_days * 86_400_000:
            raise BadRequest(f"slots can be at most {pol.booking_days} days ahead", field="start")
        length = minutes * MINUTE
        new = [Slot(uuid.uuid4().hex, booth.id, user.id, start + i * length,
                    start + (i + 1) * length, "open", now) for i in range(count)]
        for s, _ in await core.store.slots(booth.id, now):
            if any(n.start < s.end and s.start < n.end for n in new):
                raise SlotOccupied()
        await core.store.add_slots(new)
        return new

    async def slots(self, user: UserLike | None, booth_id: str) -> list[dict[str, Any]]:
        """Open future slots with whether each is taken (not by whom)."""
        core = self.core
        booth = core.booth(booth_id)
        core.require_visible(user, booth.expo_id)
        now = core.now()
        return [s.to_wire(booked) for s, booked in await core.store.slots(booth.id, now)
                if s.start > now]

    async def cancel_slot(self, user: UserLike, slot_id: str) -> dict[str, Any]:
        core = self.core
        slot = await core.store.get_slot(slot_id)
        if slot is None or slot.status != "open":
            raise UnknownSlot()
        core.require_staff(user, slot.booth_id)
        meeting = await core.store.cancel_slot(slot_id, user.id, core.now())
        if meeting is not None:
            self.live.pop(meeting.id, None)
            self._notify(meeting, "meeting.cancelled", exclude=user.id)
        return {"slot_id": slot_id, "cancelled": True,
                "meeting": meeting.to_wire() if meeting else None}

    # -- booking --------------------------------------------------------------------------------
    async def book(self, user: UserLike, slot_id: object) -> Meeting:
        core = self.core
        if not isinstance(slot_id, str) or not 1 <= len(slot_id) <= 64:
            raise BadRequest("slot_id must be a string id", field="slot_id")
        slot = await core.store.get_slot(slot_id)
        if slot is None or slot.status != "open" or slot.booth_id not in core.booths:
            raise UnknownSlot()
        booth = core.booths[slot.booth_id]
        core.require_visible(user, booth.expo_id)
        if core.is_staff(user.id, booth.id):
            raise Forbidden("You cannot book a meeting with your own booth.")
        now = core.now()
        if slot.start <= now:
            raise SlotPast()
        meeting = Meeting(uuid.uuid4().hex, slot.id, booth.id, user.id, user.display_name,
                          slot.staff_id, slot.start, slot.end, "booked", now)
        await core.store.book(meeting)  # SlotTaken / AlreadyBookedHere from the constraints
        if meeting.start - now <= LIVE_HORIZON_MS:
            self.live[meeting.id] = meeting
        self._notify(meeting, "meeting.booked", exclude=user.id)
        log.info("meeting booked id=%s booth=%s visitor=%s", meeting.id, booth.id, user.id)
        return meeting

    async def cancel(self, user: UserLike, meeting_id: object) -> Meeting:
        core = self.core
        if not isinstance(meeting_id, str) or not 1 <= len(meeting_id) <= 64:
            raise BadRequest("meeting_id must be a string id", field="meeting_id")
        m = await core.store.get_meeting(meeting_id)
        if m is None:
            raise UnknownMeeting()
        if user.id != m.visitor_id and not core.is_staff(user.id, m.booth_id):
            raise NotYourMeeting()
        done = await core.store.cancel_meeting(m.id, user.id, core.now())
        if done is None:
            raise MeetingOver()
        self.live.pop(m.id, None)
        self._notify(done, "meeting.cancelled", exclude=user.id)
        return done

    async def mine(self, user: UserLike, booth_id: str | None = None) -> list[Meeting]:
        """The user's booked meetings (as visitor or host); with ``booth_id``, the booth's
        (staff only)."""
        core = self.core
        since = core.now() - core.policy.meeting_grace_ms
        if booth_id is not None:
            core.require_staff(user, booth_id)
            return await core.store.meetings(booth_id=booth_id, since=since)
        return await core.store.meetings(user_id=user.id, since=since)

    # -- the private channel ----------------------------------------------------------------------
    def channel_members(self, meeting_id: str) -> list[Client] | None:
        """Connections of the visitor and the host while the channel is open; None if unknown."""
        core = self.core
        m = self.live.get(meeting_id)
        if m is None:
            return None
        now = core.now()
        pol = core.policy
        if now < m.start - pol.meeting_early_ms:
            raise Forbidden("The meeting room opens at the meeting's start time.")
        if now > m.end + pol.meeting_grace_ms:
            return None
        return core.notifier.clients(m.visitor_id) + core.notifier.clients(m.staff_id)

    def may_signal(self, sender_id: str, target_id: str) -> bool:
        """Peer-to-peer video (``rtc.signal``) is for the two people of a meeting while its
        private channel is open."""
        now = self.core.now()
        pol = self.core.policy
        return any({m.visitor_id, m.staff_id} == {sender_id, target_id}
                   and m.start - pol.meeting_early_ms <= now <= m.end + pol.meeting_grace_ms
                   for m in self.live.values())

    # -- background ---------------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Reload the meetings that start soon or run now (after a start, and periodically:
        bookings made by other processes)."""
        core = self.core
        now = core.now()
        found = await core.store.live_meetings(now + LIVE_HORIZON_MS,
                                               now - core.policy.meeting_grace_ms)
        self.live = {m.id: m for m in found}

    async def tick(self) -> int:
        """Send due reminders and open due meetings; returns how many notices went out."""
        core = self.core
        now = core.now()
        pol = core.policy
        sent = 0
        for m in list(self.live.values()):
            if now > m.end + pol.meeting_grace_ms:
                del self.live[m.id]
                continue
            if m.reminded_at is None and m.start - pol.remind_before_ms <= now < m.start:
                if await core.store.mark_meeting(m.id, "reminded_at", now):
                    mins = max(1, round((m.start - now) / MINUTE))
                    self._notify(m, "meeting.reminder", extra={"minutes": mins})
                    sent += 1
                self.live[m.id] = m = _with(m, reminded_at=now)
            if m.opened_at is None and m.start - pol.meeting_early_ms <= now <= m.end:
                if await core.store.mark_meeting(m.id, "opened_at", now):
                    self._notify(m, "meeting.open", extra={"channel": m.channel})
                    sent += 1
                self.live[m.id] = _with(m, opened_at=now)
        return sent

    def _notify(self, m: Meeting, event: str, exclude: str | None = None,
                extra: dict[str, Any] | None = None) -> None:
        core = self.core
        booth = core.booths.get(m.booth_id)
        data: dict[str, Any] = {"meeting": m.to_wire(), **(extra or {})}
        if booth is not None:
            data["booth"] = {"id": booth.id, "name": dict(booth.name), "company": booth.company}
        for uid in {m.visitor_id, m.staff_id}:
            if uid != exclude:
                core.notifier.to_user(uid, event, data)


def _with(m: Meeting, **changes: Any) -> Meeting:
    from dataclasses import replace

    return replace(m, **changes)
