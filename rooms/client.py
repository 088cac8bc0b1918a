"""A connected user as the rooms see it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rooms.base import Room

__all__ = ["Client", "UserLike"]


class UserLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def roles(self) -> tuple[str, ...]: ...


@dataclass(slots=True, eq=False)
class Client:
    """One Socket.IO connection of one user."""

    sid: str
    user: UserLike
    eio_sid: str = ""
    lang: str = "en"
    room: Room | None = None
    eid: int = 0
    """Entity id inside ``room``; 0 when not in a room."""
    avatar: dict[str, Any] = field(default_factory=dict)
    ready: bool = False
    """False between joining the world and the join ack being queued: no snaps before the ack."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Serialises this client's events so a join and a chat never interleave."""

    def has_role(self, role: str) -> bool:
        return role in self.user.roles or "admin" in self.user.roles

    def enter_info(self) -> dict[str, Any]:
        return {
            "eid": self.eid,
            "user_id": self.user.id,
            "display_name": self.user.display_name,
            "avatar": self.avatar,
            "roles": list(self.user.roles),
        }
