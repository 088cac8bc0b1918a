"""The expo room: one hall of an expo. Its floor plan comes from the expo's hall spec (the demo
hall's is ``EXPO_LAYOUT``); it samples who stands at which booth about once a second, and it
knows two private chat channels:

* ``booth:<id>`` — the visitors standing at the booth now (in any instance of its hall) and the
  booth's staff wherever they are connected. A visitor may post while standing there.
* ``meeting:<id>`` — the visitor and the host of a booked meeting, while it runs.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from rooms.base import Room, RoomContext, RoomOptions
from rooms.client import Client
from rooms.errors import Forbidden
from rooms.expo.layout import DEMO_HALL, plan_hall
from rooms.expo.presence import BoothPresence, PresenceChange
from rooms.layouts import EXPO_LAYOUT

if TYPE_CHECKING:
    from rooms.expo.service import ExpoService

__all__ = ["ExpoRoom"]

_DEFAULT_PLAN = plan_hall(DEMO_HALL)


class ExpoRoom(Room):
    """An expo hall with a grid of booths and a stage."""

    kind = "expo"
    layout = EXPO_LAYOUT

    def __init__(self, options: RoomOptions, instance: int, ctx: RoomContext) -> None:
        svc: ExpoService | None = ctx.services.get("expo")
        plan = svc.plan(options.room_id) if svc is not None else None
        if plan is not None and plan.layout != type(self).layout:
            # This hall's own floor plan: set on the instance before the base class builds the
            # avatar world from it (``layout`` is a class attribute for the other kinds).
            object.__setattr__(self, "layout", plan.layout)
        self.plan = plan or _DEFAULT_PLAN
        super().__init__(options, instance, ctx)
        pol = svc.policy if svc is not None else None
        self.presence = BoothPresence(self.plan,
                                      min_visit_ms=pol.min_visit_ms if pol else 3000,
                                      heat_cell=pol.heat_cell_m if pol else 1.0)
        self._every_ms = pol.presence_every_ms if pol else 1000
        self._next_sample_ms = 0.0

    def _svc(self) -> ExpoService | None:
        return self.ctx.services.get("expo")

    # -- hooks -----------------------------------------------------------------------------
    async def on_create(self, options: RoomOptions) -> None:
        """Register with the expo service (presence, booth updates, heat)."""
        svc = self._svc()
        if svc is not None:
            svc.attach(self)

    async def on_join(self, client: Client, options: dict[str, Any]) -> None:
        """An unpublished expo takes only its organisers and exhibitors."""
        svc = self._svc()
        if svc is not None:
            svc.check_join(client, self.id)

    async def on_leave(self, client: Client, consented: bool) -> None:
        """End the stays of avatars no longer in the room."""
        now = int(self.ctx.clock() * 1000)
        change = PresenceChange()
        for slot in self.presence.at:
            for eid in [e for e in slot if e not in self.clients]:
                part = self.presence.leave(eid, now)
                change.visits += part.visits
                change.slots |= part.slots
        self._report(change)

    async def on_tick(self, tick: int) -> None:
        """About once a second: who stands at which booth."""
        now = self.ctx.clock() * 1000
        if now >= self._next_sample_ms:
            self._next_sample_ms = now + self._every_ms
            t0 = time.perf_counter()
            self._report(self.sample_presence(int(now)))
            svc = self._svc()
            if svc is not None and svc.observe_presence is not None:
                svc.observe_presence(time.perf_counter() - t0, len(self.clients))

    async def on_dispose(self) -> None:
        """Close every open stay and unregister."""
        self._report(self.presence.close(int(self.ctx.clock() * 1000)))
        svc = self._svc()
        if svc is not None:
            svc.detach(self)

    # -- presence ------------------------------------------------------------------------------
    def sample_presence(self, now_ms: int) -> PresenceChange:
        clients = self.clients
        n = len(clients)
        eids = np.fromiter(clients.keys(), dtype=np.int64, count=n)
        pos = self.world.position
        xs = np.empty(n, dtype=np.float64)
        zs = np.empty(n, dtype=np.float64)
        for i, eid in enumerate(clients):
            p = pos(eid)
            xs[i] = p[0]
            zs[i] = p[2]
        return self.presence.sample(now_ms, eids, xs, zs, lambda e: clients[e].user.id)

    def _report(self, change: PresenceChange) -> None:
        svc = self._svc()
        if svc is not None and (change.moved or change.slots or change.visits):
            svc.analytics.presence_changed(self, change)

    # -- chat channels ---------------------------------------------------------------------------
    def channel_members(self, client: Client, channel: str) -> list[Client] | None:
        svc = self._svc()
        if svc is None:
            return None
        if channel.startswith("booth:"):
            booth = svc.booths.get(channel[len("booth:"):])
            if booth is None:
                return None
            members = svc.analytics.present(booth.id)
            for uid, bid in svc.staff_of.items():
                if bid == booth.id:
                    members.extend(svc.notifier.clients(uid))
            if client not in members and self._at(client, booth.room_id, booth.slot):
                members.append(client)  # walked up since the last presence sample
            return members
        if channel.startswith("meeting:"):
            return svc.meetings.channel_members(channel[len("meeting:"):])
        return None

    def may_signal(self, sender: Client, target: Client) -> None:
        """``rtc.signal`` in an expo hall: only between the two people of a running meeting
        (their optional video call); raise to refuse."""
        svc = self._svc()
        if svc is None or not svc.meetings.may_signal(sender.user.id, target.user.id):
            raise Forbidden("Video calls are for the two people of a meeting, while it runs.")

    def _at(self, client: Client, room_id: str, slot: str) -> bool:
        if self.id != room_id or client.eid not in self.world:
            return False
        x, _, z, *_ = self.world.position(client.eid)
        return self.plan.zone_of_point(x, z) == self.plan.slot_index(slot)
