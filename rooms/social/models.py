"""Value objects and state of social spaces: the space, its members, invites, friends.

A *space* is a ``social:*`` room someone created (the demo's ``social:plaza`` and
``social:cafe`` are open plazas with no owner and no space record). Its people:

* the **owner** (created it; appoints co-hosts, changes settings, deletes it);
* **co-hosts** (lock the space, mute and kick inside it, manage invites and the allow list);
* **members** (admitted to a private space: put on the allow list, or redeemed an invite).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

__all__ = [
    "PRIVACY", "OVERFLOW", "STATUSES", "EMOTES", "ROLES", "Role", "Member", "Space", "Invite",
    "FriendLink", "FRIEND_STATES",
]

PRIVACY: Final = ("public", "private")
"""public: listed in the directory, anyone may enter; private: invite link or allow list."""
OVERFLOW: Final = ("instance", "queue")
"""When the space is full: open another instance of it, or keep one and form a waiting line."""
STATUSES: Final = ("available", "busy")
EMOTES: Final = ("wave", "clap", "laugh", "heart", "thumbs_up", "cheer")
ROLES: Final = ("owner", "cohost", "member")
FRIEND_STATES: Final = ("accepted", "outgoing", "incoming")

Role = Literal["owner", "cohost", "member"]


@dataclass(frozen=True, slots=True)
class Member:
    """Someone admitted to a space beyond the public."""

    user_id: str
    """Whom."""
    role: str
    """``cohost`` or ``member`` (the owner is ``Space.owner_id``)."""
    via: str
    """How: ``allow`` (put on the allow list by a host), ``invite`` (redeemed a link), ``host``."""
    added_at: int
    """Unix ms."""
    invite_id: str | None = None
    """The invite redeemed, when ``via == "invite"``."""

    def to_wire(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "role": self.role, "via": self.via,
                "added_at": self.added_at}


@dataclass(slots=True)
class Space:
    """A user-created social space (mutable: the service keeps the live copy)."""

    room_id: str
    owner_id: str | None
    name: str
    description: str
    capacity: int
    privacy: str = "public"
    overflow: str = "instance"
    locked: bool = False
    created_at: int = 0
    members: dict[str, Member] = field(default_factory=dict)

    def role_of(self, user_id: str) -> Role | None:
        if user_id == self.owner_id:
            return "owner"
        m = self.members.get(user_id)
        if m is None:
            return None
        return "cohost" if m.role == "cohost" else "member"

    def is_host(self, user_id: str) -> bool:
        return self.role_of(user_id) in ("owner", "cohost")

    def to_wire(self, *, viewer: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "room": self.room_id, "name": self.name, "description": self.description,
            "capacity": self.capacity, "privacy": self.privacy, "public": self.privacy == "public",
            "overflow": self.overflow, "locked": self.locked, "owner_id": self.owner_id,
            "created_at": self.created_at,
            "cohosts": sorted(u for u, m in self.members.items() if m.role == "cohost"),
        }
        if viewer is not None:
            out["my_role"] = self.role_of(viewer)
        return out


@dataclass(frozen=True, slots=True)
class Invite:
    """An invite link to a space. Only the token's hash is stored; the token is shown once."""

    id: str
    room_id: str
    created_by: str
    created_at: int
    expires_at: int
    """Unix ms; redeeming at or after it fails with ``invite_expired``."""
    max_uses: int | None
    """None: any number of people until it expires."""
    uses: int = 0
    revoked_at: int | None = None

    def status(self, now_ms: int) -> str:
        """``active``, ``revoked``, ``expired`` or ``used_up`` (checked in that order)."""
        if self.revoked_at is not None:
            return "revoked"
        if now_ms >= self.expires_at:
            return "expired"
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "used_up"
        return "active"

    def to_wire(self, now_ms: int) -> dict[str, Any]:
        return {"id": self.id, "room": self.room_id, "created_by": self.created_by,
                "created_at": self.created_at, "expires_at": self.expires_at,
                "max_uses": self.max_uses, "uses": self.uses, "revoked_at": self.revoked_at,
                "status": self.status(now_ms)}


@dataclass(frozen=True, slots=True)
class FriendLink:
    """One direction of a friendship as seen by ``user_id``."""

    user_id: str
    friend_id: str
    state: str
    """``accepted``; ``outgoing`` (I asked); ``incoming`` (they asked me)."""
    created_at: int
