"""Booth analytics from AoI presence: visits, unique visitors, average dwell time, leads,
meetings; and the hall's heat grid. Rooms report presence changes here
(:meth:`Analytics.presence_changed`); finished visits and heat counts are written in batches
(:meth:`flush`, every few seconds and before a figure is read)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from rooms.client import Client, UserLike
from rooms.expo.models import Visit
from rooms.expo.presence import PresenceChange
from rooms.expo.store import Heat

if TYPE_CHECKING:
    from rooms.expo.room import ExpoRoom
    from rooms.expo.service import ExpoService

__all__ = ["Analytics"]

log = logging.getLogger("metahall.expo")
MAX_PENDING = 50_000


class Analytics:
    def __init__(self, core: ExpoService) -> None:
        self.core = core
        self._visits: list[Visit] = []
        self.dropped = 0

    # -- live presence --------------------------------------------------------------------------
    def presence_changed(self, room: ExpoRoom, change: PresenceChange) -> None:
        """Record finished visits; tell visitors where they stand and staff who is at their booth."""
        core = self.core
        slots = room.plan.slot_ids
        for v in change.visits:
            booth_id = core.by_slot.get((room.id, slots[v.slot]))
            if booth_id is None or core.is_staff(v.user_id, booth_id):
                continue  # an empty slot, or the booth's own people
            if len(self._visits) < MAX_PENDING:
                self._visits.append(Visit(booth_id, v.user_id, v.started_at, v.ended_at))
            else:
                self.dropped += 1
        for eid, slot in change.moved.items():
            client = room.clients.get(eid)
            if client is None:
                continue
            booth_id = core.by_slot.get((room.id, slots[slot])) if slot >= 0 else None
            booth = core.booths.get(booth_id) if booth_id else None
            core.notifier.emit(client.sid, "expo.at_booth", {
                "booth_id": booth.id if booth else None, "slot": slots[slot] if slot >= 0 else None,
                "booth": booth.summary() if booth else None})
        for slot in change.slots:
            booth_id = core.by_slot.get((room.id, slots[slot]))
            if booth_id is not None:
                data = self.presence(booth_id)
                for uid, bid in core.staff_of.items():
                    if bid == booth_id:
                        core.notifier.to_user(uid, "booth.presence", data)

    def present(self, booth_id: str) -> list[Client]:
        """Connections standing in the booth's zone now (every instance of its hall)."""
        core = self.core
        booth = core.booths.get(booth_id)
        if booth is None:
            return []
        out: list[Client] = []
        for room in core.rooms:
            if room.id != booth.room_id:
                continue
            slot = room.plan.slot_index(booth.slot)
            for eid in room.presence.present(slot):
                c = room.clients.get(eid)
                if c is not None:
                    out.append(c)
        return out

    def presence(self, booth_id: str) -> dict[str, Any]:
        """``booth.presence``: who is at the booth now, and the booth's staff."""
        core = self.core
        booth = core.booth(booth_id)
        visitors: list[dict[str, Any]] = []
        here_users: set[str] = set()
        for room in core.rooms:
            if room.id != booth.room_id:
                continue
            at = room.presence.present(room.plan.slot_index(booth.slot))
            for eid, since in at.items():
                c = room.clients.get(eid)
                if c is None:
                    continue
                here_users.add(c.user.id)
                if not core.is_staff(c.user.id, booth_id):
                    visitors.append({"user_id": c.user.id, "display_name": c.user.display_name,
                                     "since": since})
        staff = [{"user_id": uid, "display_name": core.staff_names.get(uid, ""),
                  "online": bool(core.notifier.clients(uid)), "here": uid in here_users}
                 for uid, bid in sorted(core.staff_of.items()) if bid == booth_id]
        visitors.sort(key=lambda v: v["since"])
        return {"booth_id": booth_id, "visitors": visitors, "staff": staff,
                "count": len(visitors)}

    # -- writing ----------------------------------------------------------------------------------
    async def flush(self) -> int:
        """Write finished visits and the rooms' heat counts; returns visits written."""
        core = self.core
        visits, self._visits = self._visits, []
        if visits:
            try:
                await core.store.add_visits(visits)
            except Exception:
                self._visits = visits + self._visits  # keep them for the next try
                raise
        by_room: dict[str, Heat] = {}
        for room in list(core.rooms):
            grid = room.presence.heat
            if grid.samples == 0:
                continue
            samples = grid.samples
            counts = grid.take()
            prev = by_room.get(room.id)
            if prev is not None:
                counts = counts + prev.counts
                samples += prev.samples
            by_room[room.id] = Heat(grid.cell, grid.min_x, grid.min_z, counts, samples)
        for room_id, heat in by_room.items():
            await core.store.add_heat(room_id, heat)
        if self.dropped:
            log.warning("expo visits dropped (queue full) n=%d", self.dropped)
            self.dropped = 0
        return len(visits)

    # -- figures ----------------------------------------------------------------------------------
    async def booth_stats(self, user: UserLike, booth_id: str,
                          since: int | None = None) -> dict[str, Any]:
        """Visitors (visits), unique visitors, average dwell, leads, meetings since ``since``
        (default: the expo's start, else everything), and who is there now."""
        core = self.core
        booth = core.require_staff(user, booth_id, admin_ok=True)
        expo = core.expos.get(booth.expo_id)
        if since is None:
            since = (expo.starts_at if expo and expo.starts_at else 0)
        await self.flush()
        st = await core.store.visit_stats(booth.id, since)
        leads, meetings = await core.store.counts(booth.id, since)
        return {
            "booth_id": booth.id, "since": since, "now": core.now(),
            "visitors": st.visits, "unique_visitors": st.unique_visitors,
            "avg_dwell_s": round(st.dwell_ms_total / st.visits / 1000, 1) if st.visits else 0.0,
            "leads": leads, "meetings": meetings,
            "present": self.presence(booth.id)["count"],
        }

    async def heat(self, user: UserLike, room_id: str) -> Heat | None:
        """The hall's heat grid: organisers, and exhibitors of a booth in that hall."""
        core = self.core
        own = core.booths.get(core.staff_of.get(user.id, ""))
        if not ("admin" in user.roles or (own is not None and own.room_id == room_id
                                          and "exhibitor" in user.roles)):
            from rooms.expo.errors import NotYourBooth

            raise NotYourBooth("Only the organiser and this hall's exhibitors see its heatmap.")
        if room_id not in core.plans:
            from rooms.expo.errors import UnknownHall

            raise UnknownHall()
        await self.flush()
        return await core.store.heat(room_id)


