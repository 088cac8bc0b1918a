"""The hall room: the floor everyone walks on. Queue logic lives in ``HallService``
(``ctx.services["hall"]``, which also notices citizens arriving at their counter); the room adds
the private consultation channel to room chat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rooms.base import Room
from rooms.client import Client
from rooms.layouts import HALL_LAYOUT

if TYPE_CHECKING:
    from rooms.hall.service import HallService

__all__ = ["HallRoom"]


class HallRoom(Room):
    """A service hall: lobby, guide desk, waiting area and counters."""

    kind = "hall"
    layout = HALL_LAYOUT

    def _hall(self) -> HallService | None:
        return self.ctx.services.get("hall")

    def channel_members(self, client: Client, channel: str) -> list[Client] | None:
        """``counter:<id>``: the private consultation between the staff member at the counter
        and the citizen being served there (wherever their connections are)."""
        hall = self._hall()
        if hall is None or not channel.startswith("counter:"):
            return None
        counter_id = channel[len("counter:"):]
        if counter_id not in hall.state.counters:
            return None
        members: list[Client] = []
        for user_id in hall.consult_members(counter_id):
            members.extend(hall.core.notifier.clients(user_id))
        return members
