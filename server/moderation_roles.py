"""Who may do what in moderation: the action request, the role table and the sanction cache.

Role table (``ROLE_TABLE``; docs/moderation.md shows it as a table):

* anyone signed in: ``report`` other users and messages, ``appeal`` an action against them once;
* ``moderator``: see cases, appeals and the audit log; ``warn``, ``mute``, ``unmute``,
  ``kick``, ``ban`` (at most ``moderator_max_ban_s``, never permanent), ``unban``,
  ``redact``, ``lock``/``unlock`` a room, ``dismiss`` a case, decide appeals of actions
  someone else took;
* ``admin``: all of that, permanent and longer bans, decide any appeal, edit the term list.

An action on a user (or on a message, through its author) needs a rank above the target's:
citizen/staff/exhibitor 0 < moderator 1 < admin 2. Nobody acts on themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from rooms.errors import BadRequest, Forbidden
from rooms.payloads import clean_text, get_int, get_str
from server.moderation_texts import REASONS

__all__ = ["ActionRequest", "parse_action", "authorize", "rank", "ROLE_TABLE", "USER_ACTIONS",
           "Sanction", "SanctionCache", "ACTIONS"]

USER_ACTIONS: Final = ("warn", "mute", "unmute", "kick", "ban", "unban")
ACTIONS: Final = (*USER_ACTIONS, "redact", "lock", "unlock", "dismiss")
ROLE_TABLE: Final[dict[str, str]] = {
    "report": "citizen", "appeal": "citizen",
    "view_cases": "moderator", "view_audit": "moderator", "decide_appeal": "moderator",
    **{a: "moderator" for a in ACTIONS},
    "ban_long": "admin", "ban_permanent": "admin", "edit_terms": "admin",
}
"""The lowest role needed for each operation."""


def rank(roles: Iterable[str]) -> int:
    held = set(roles)
    return 2 if "admin" in held else 1 if "moderator" in held else 0


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """A validated action (HTTP ``POST /api/mod/actions`` or the ``mod.action`` event)."""

    action: str
    note: str
    reason: str = "other"
    user_id: str | None = None
    message_id: str | None = None
    room_id: str | None = None
    case_id: str | None = None
    duration_s: int | None = None


def parse_action(data: Mapping[str, Any], max_mute_s: int) -> ActionRequest:
    action = data.get("action")
    if action not in ACTIONS:
        raise BadRequest(f"action must be one of {', '.join(ACTIONS)}", field="action")
    note = clean_text(data.get("note"), "note", min_visible=2, max_len=1000, single_line=False)
    reason = data.get("reason", "other")
    if reason not in REASONS:
        raise BadRequest(f"reason must be one of {', '.join(REASONS)}", field="reason")
    req = ActionRequest(
        action=action, note=note, reason=reason,
        user_id=get_str(data, "user_id", required=False, max_len=32),
        message_id=get_str(data, "message_id", required=False, max_len=64),
        room_id=get_str(data, "room_id", required=False, max_len=80),
        case_id=get_str(data, "case_id", required=False, max_len=32),
        duration_s=get_int(data, "duration_s", lo=60, hi=3650 * 86400, required=False),
    )
    if action in USER_ACTIONS and req.user_id is None:
        raise BadRequest(f"{action} needs user_id", field="user_id")
    if action == "redact" and req.message_id is None:
        raise BadRequest("redact needs message_id", field="message_id")
    if action in ("lock", "unlock") and req.room_id is None and req.case_id is None:
        raise BadRequest(f"{action} needs room_id or case_id", field="room_id")
    if action == "dismiss" and req.case_id is None:
        raise BadRequest("dismiss needs case_id", field="case_id")
    if action == "mute":
        if req.duration_s is None:
            raise BadRequest("mute needs duration_s", field="duration_s")
        if req.duration_s > max_mute_s:
            raise BadRequest(f"a mute lasts at most {max_mute_s} s", field="duration_s")
    return req


def authorize(actor_id: str, actor_roles: Iterable[str], req: ActionRequest,
              target_id: str | None, target_roles: Iterable[str] | None,
              moderator_max_ban_s: int) -> None:
    """Raise ``Forbidden`` unless the actor may take this action on this target."""
    mine = rank(actor_roles)
    if mine < 1:
        raise Forbidden("Only moderators can take moderation actions.")
    if target_id is not None:
        if target_id == actor_id:
            raise Forbidden("You cannot take a moderation action on yourself.")
        if target_roles is not None and rank(target_roles) >= mine:
            raise Forbidden("You cannot act on a user whose role is equal to or above yours.")
    if req.action == "ban" and mine < 2:
        if req.duration_s is None:
            raise Forbidden("Only an admin can ban permanently.")
        if req.duration_s > moderator_max_ban_s:
            raise Forbidden(f"Moderators can ban for at most {moderator_max_ban_s // 86400} days.")


@dataclass(frozen=True, slots=True)
class Sanction:
    """An active mute or ban."""

    action_id: str
    kind: str
    until: int | None
    """Unix ms; None is permanent."""
    reason: str
    note: str

    def left_s(self, now_ms: int) -> int | None:
        return None if self.until is None else max(1, (self.until - now_ms + 999) // 1000)


class SanctionCache:
    """Active mutes and bans by user id: the chat and join paths check them in O(1)."""

    def __init__(self) -> None:
        self._by_kind: dict[str, dict[str, Sanction]] = {"mute": {}, "ban": {}}

    def put(self, user_id: str, s: Sanction) -> None:
        table = self._by_kind[s.kind]
        old = table.get(user_id)
        if old is None or old.until is not None and (s.until is None or s.until >= old.until):
            table[user_id] = s

    def drop(self, user_id: str, kind: str) -> None:
        self._by_kind[kind].pop(user_id, None)

    def active(self, kind: str, user_id: str, now_ms: int) -> Sanction | None:
        s = self._by_kind[kind].get(user_id)
        if s is not None and s.until is not None and s.until <= now_ms:
            del self._by_kind[kind][user_id]
            return None
        return s

    def count(self, kind: str) -> int:
        return len(self._by_kind[kind])
