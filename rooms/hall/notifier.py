"""How the hall reaches people: by user id, on every connection they have, and where they stand."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from rooms.client import Client
from rooms.outbox import Outbox

if TYPE_CHECKING:
    from rooms.base import Room

__all__ = ["Notifier", "PresenceNotifier"]


class Notifier(Protocol):
    def to_user(self, user_id: str, event: str, data: Any) -> int:
        """Queue ``event`` on every connection of the user; returns how many."""

    def to_user_here(self, user_id: str, event: str, data: Any) -> int:
        """Like :meth:`to_user` but only this process's connections: for updates every process
        derives from its own mirror (queue positions), which would otherwise arrive N times."""

    def online(self, user_id: str) -> bool: ...

    def where(self, user_id: str) -> tuple[float, float] | None:
        """(x, z) of the user's avatar in a hall room, if any."""

    def to_hall(self, event: str, data: Any) -> None:
        """Queue ``event`` for everyone in a hall room (the call display board)."""

    def clients(self, user_id: str) -> list[Client]:
        """The user's connections (for the private counter chat channel)."""


class PresenceNotifier:
    """The server's implementation: presence by user id, the room outbox, the hall rooms."""

    def __init__(self, presence: Callable[[str], Iterable[Client]], outbox: Outbox,
                 hall_rooms: Callable[[], Iterable[Room]], *,
                 deliver: Callable[[str, str, Any], int] | None = None,
                 online: Callable[[str], bool] | None = None) -> None:
        self.presence = presence
        self.outbox = outbox
        self.hall_rooms = hall_rooms
        self.deliver = deliver
        """Cluster: reaches the user on whichever process they are connected to."""
        self._online = online

    def to_user(self, user_id: str, event: str, data: Any) -> int:
        if self.deliver is not None:
            return self.deliver(user_id, event, data)
        return self.to_user_here(user_id, event, data)

    def to_user_here(self, user_id: str, event: str, data: Any) -> int:
        n = 0
        for client in self.presence(user_id):
            self.outbox.emit(client.sid, event, data)
            n += 1
        return n

    def online(self, user_id: str) -> bool:
        if self._online is not None:
            return self._online(user_id)
        return any(True for _ in self.presence(user_id))

    def where(self, user_id: str) -> tuple[float, float] | None:
        for client in self.presence(user_id):
            room = client.room
            if room is not None and room.kind == "hall" and client.eid in room.world:
                x, _, z, *_ = room.world.position(client.eid)
                return (float(x), float(z))
        return None

    def to_hall(self, event: str, data: Any) -> None:
        for room in self.hall_rooms():
            room.broadcast(event, data)

    def clients(self, user_id: str) -> list[Client]:
        return list(self.presence(user_id))
