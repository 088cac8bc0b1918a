"""The smallest complete room: uses every hook. It is the example to copy and a test fixture."""

from __future__ import annotations

from typing import Any

from rooms.base import Room, RoomOptions
from rooms.client import Client
from rooms.errors import BadRequest, Forbidden
from rooms.layouts import SOCIAL_LAYOUT
from rooms.payloads import clean_text, require_mapping

__all__ = ["RelayRoom"]


class RelayRoom(Room):
    """Relays ``relay.say`` to everyone in the instance; refuses users named in ``refuse``."""

    kind = "relay"
    layout = SOCIAL_LAYOUT

    async def on_create(self, options: RoomOptions) -> None:
        """Read per-room options; the only place max_clients may change."""
        self.max_clients = int(options.extra.get("max_clients", options.capacity))
        self.refuse: set[str] = set(options.extra.get("refuse", ()))
        self.log: list[tuple[str, Any]] = [("create", options.room_id)]

    async def on_join(self, client: Client, options: dict[str, Any]) -> None:
        """Refuse listed display names before the client enters the world."""
        if client.user.display_name in self.refuse:
            raise Forbidden("You may not enter this relay.")
        self.log.append(("join", client.user.id))

    async def on_message(self, client: Client, event: str, payload: object) -> dict[str, Any] | None:
        """``relay.say {"text"}`` goes to everyone else; ``relay.crash`` shows hook wrapping."""
        if event == "relay.say":
            text = clean_text(require_mapping(payload).get("text"), "text", max_len=200)
            self.broadcast("relay.said", {"from": client.user.id, "text": text},
                           exclude=[client.eid])
            return {"delivered": self.members - 1}
        if event == "relay.crash":
            raise RuntimeError("deliberate failure")
        raise BadRequest(f"Unknown relay event {event!r}.")

    async def on_leave(self, client: Client, consented: bool) -> None:
        """Remember how each client left."""
        self.log.append(("leave", (client.user.id, consented)))

    async def on_tick(self, tick: int) -> None:
        """Count ticks while anyone is here."""
        self.ticks = getattr(self, "ticks", 0) + 1

    async def on_dispose(self) -> None:
        """Last words before the registry forgets the instance."""
        self.log.append(("dispose", self.id))
