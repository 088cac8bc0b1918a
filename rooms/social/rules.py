"""The rules of social spaces as pure functions: who may enter, who may act on whom, whether an
invite can be redeemed, and the validation of space settings. No I/O, no clock of their own."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from rooms.errors import BadRequest
from rooms.payloads import clean_text
from rooms.social.errors import (
    BadSpaceSetting,
    CannotActOn,
    InviteExpired,
    InviteRevoked,
    InviteUsedUp,
    NotHost,
    SpaceKicked,
    SpaceLocked,
    SpacePrivate,
)
from rooms.social.models import OVERFLOW, PRIVACY, Invite, Space

__all__ = [
    "site_rank", "admit", "check_invite", "may_host", "check_moderation", "parse_settings",
    "parse_invite_request", "new_token", "token_hash", "NAME_MAX", "DESCRIPTION_MAX",
    "INVITE_TTL_DEFAULT_S", "INVITE_TTL_MAX_S", "INVITE_MAX_USES",
]

NAME_MAX = 40
DESCRIPTION_MAX = 300
INVITE_TTL_DEFAULT_S = 24 * 3600
INVITE_TTL_MIN_S = 60
INVITE_TTL_MAX_S = 30 * 24 * 3600
INVITE_MAX_USES = 1000


def site_rank(roles: Iterable[str]) -> int:
    """0 for everyone, 1 for moderators, 2 for admins (as in the moderation role table)."""
    held = set(roles)
    return 2 if "admin" in held else 1 if "moderator" in held else 0


def may_host(space: Space, user_id: str, roles: Iterable[str]) -> bool:
    """The owner, a co-host, or a site moderator/admin."""
    return space.is_host(user_id) or site_rank(roles) >= 1


def admit(space: Space, user_id: str, roles: Iterable[str], *, kicked_until: int | None,
          now_ms: int) -> None:
    """Raise unless ``user_id`` may enter ``space`` now.

    Hosts and site moderators always may (to host or to moderate). Everyone else is refused
    while kicked (``space_kicked``, with ``until``), while the space is locked
    (``space_locked``), and from a private space unless admitted (``space_private``)."""
    if may_host(space, user_id, roles):
        return
    if kicked_until is not None and kicked_until > now_ms:
        raise SpaceKicked(until=kicked_until)
    if space.locked:
        raise SpaceLocked()
    if space.privacy == "private" and user_id not in space.members:
        raise SpacePrivate()


def check_invite(invite: Invite, now_ms: int) -> None:
    """Raise ``invite_revoked``, ``invite_expired`` or ``invite_used_up``; else return."""
    status = invite.status(now_ms)
    if status == "revoked":
        raise InviteRevoked()
    if status == "expired":
        raise InviteExpired(expired_at=invite.expires_at)
    if status == "used_up":
        raise InviteUsedUp()


def check_moderation(space: Space, actor_id: str, actor_roles: Iterable[str], target_id: str,
                     target_roles: Iterable[str]) -> None:
    """Raise unless the actor may mute or kick the target inside ``space``.

    Hosts act on ordinary visitors and members; only the owner acts on a co-host; nobody acts
    on themselves or the owner; a site moderator/admin is out of reach unless the actor's site
    rank is higher."""
    actor_rank, target_rank = site_rank(actor_roles), site_rank(target_roles)
    if not space.is_host(actor_id) and actor_rank < 1:
        raise NotHost()
    if target_id == actor_id:
        raise CannotActOn("You cannot act on yourself.")
    if target_id == space.owner_id and actor_rank < 1:
        raise CannotActOn("Nobody can act on the owner of the space.")
    if target_rank >= 1 and actor_rank <= target_rank:
        raise CannotActOn("Site moderators are out of reach of space hosts.")
    if space.role_of(target_id) == "cohost" and space.role_of(actor_id) != "owner" \
            and actor_rank < 1:
        raise CannotActOn("Only the owner can act on a co-host.")


def _choice(data: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = data.get(key)
    if value not in allowed:
        raise BadSpaceSetting(f"{key} must be one of {', '.join(allowed)}", field=key)
    return str(value)


def parse_settings(data: Mapping[str, Any], *, max_capacity: int,
                   partial: bool = False) -> dict[str, Any]:
    """Clean space settings (``name``, ``description``, ``capacity``, ``privacy``, ``overflow``).

    With ``partial`` only the keys present are returned (an update); otherwise ``name`` is
    required and the rest get defaults (capacity: the room limit, capped at 50)."""
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        out["name"] = clean_text(data.get("name"), "name", max_len=NAME_MAX)
    if "description" in data:
        raw = data.get("description")
        out["description"] = "" if raw in (None, "") else clean_text(
            raw, "description", min_visible=0, max_len=DESCRIPTION_MAX, single_line=False)
    elif not partial:
        out["description"] = ""
    if "capacity" in data:
        cap = data.get("capacity")
        if isinstance(cap, bool) or not isinstance(cap, int) or not 2 <= cap <= max_capacity:
            raise BadSpaceSetting(f"capacity must be an integer in 2..{max_capacity}",
                                  field="capacity", max=max_capacity)
        out["capacity"] = cap
    elif not partial:
        out["capacity"] = min(50, max_capacity)
    for key, allowed, default in (("privacy", PRIVACY, "public"),
                                  ("overflow", OVERFLOW, "instance")):
        if key in data:
            out[key] = _choice(data, key, allowed)
        elif not partial:
            out[key] = default
    return out


def parse_invite_request(data: Mapping[str, Any]) -> tuple[int, int | None]:
    """``ttl_s`` (60 s..30 days, default 1 day) and ``max_uses`` (1..1000 or absent)."""
    ttl = data.get("ttl_s", INVITE_TTL_DEFAULT_S)
    if isinstance(ttl, bool) or not isinstance(ttl, int) \
            or not INVITE_TTL_MIN_S <= ttl <= INVITE_TTL_MAX_S:
        raise BadRequest(f"ttl_s must be an integer in {INVITE_TTL_MIN_S}..{INVITE_TTL_MAX_S}",
                         field="ttl_s")
    uses = data.get("max_uses")
    if uses is not None and (isinstance(uses, bool) or not isinstance(uses, int)
                             or not 1 <= uses <= INVITE_MAX_USES):
        raise BadRequest(f"max_uses must be an integer in 1..{INVITE_MAX_USES}",
                         field="max_uses")
    return ttl, uses


def new_token() -> str:
    """A fresh invite token (about 190 bits, URL-safe); shown once, never stored."""
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    """What is stored and looked up instead of the token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
