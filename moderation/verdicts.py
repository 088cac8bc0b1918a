"""Verdicts: what a moderation check decides, as plain data.

A check returns one of

* ``ALLOW`` - a sentinel (compare with ``is``): nothing to do;
* :class:`Block` - refuse the action; ``code`` is the protocol error code the client gets
  (``blocked``, ``rate_limited``, ``moderation_unavailable``...), ``reason`` is for moderators
  and the audit trail, never shown to the user as-is (use :func:`user_message` for that);
* :class:`Flag` - let it through but open or extend a flagged session for a moderator;
* :class:`Redact` - let it through with ``text`` in place of the original.

Strength order (used when one source must pick one verdict): block > flag > redact > allow.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias

__all__ = [
    "ALLOW",
    "AllowType",
    "Block",
    "Flag",
    "Redact",
    "Severity",
    "USER_MESSAGES",
    "Verdict",
    "VerdictKind",
    "is_allow",
    "strength",
    "strongest",
    "user_message",
    "verdict_from_dict",
    "verdict_kind",
    "verdict_to_dict",
]


class AllowType(enum.Enum):
    """The type of the :data:`ALLOW` sentinel (an enum so that ``v is ALLOW`` narrows types)."""

    ALLOW = "allow"

    def __repr__(self) -> str:
        return "ALLOW"

    __str__ = __repr__


ALLOW: Final = AllowType.ALLOW
"""Nothing to do. A singleton: test with ``verdict is ALLOW``."""


class Severity(enum.IntEnum):
    """How urgently a flag needs a moderator."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3


@dataclass(frozen=True, slots=True)
class Block:
    """Refuse the action."""

    code: str
    """Protocol error code sent to the client (see PROTOCOL.md "Errors on events")."""
    reason: str
    """Why, for moderators and the audit log; not for the user."""


@dataclass(frozen=True, slots=True)
class Flag:
    """Allow, but ask a moderator to look (opens or extends a flagged session)."""

    reason: str
    """Why, for moderators and the audit log."""
    severity: Severity = Severity.MEDIUM
    """How urgent the flag is."""


@dataclass(frozen=True, slots=True)
class Redact:
    """Allow with a replacement text (e.g. matched terms masked)."""

    text: str
    """The text to deliver instead of the original."""
    reason: str
    """Why, for moderators and the audit log."""


Verdict: TypeAlias = Literal[AllowType.ALLOW] | Block | Flag | Redact
VerdictKind: TypeAlias = Literal["allow", "block", "flag", "redact"]

_STRENGTH: Final[dict[type[Any], int]] = {AllowType: 0, Redact: 1, Flag: 2, Block: 3}


def is_allow(verdict: Verdict) -> bool:
    """True for the ALLOW sentinel."""
    return verdict is ALLOW


def verdict_kind(verdict: Verdict) -> VerdictKind:
    """``"allow"``, ``"block"``, ``"flag"`` or ``"redact"``."""
    if verdict is ALLOW:
        return "allow"
    if isinstance(verdict, Block):
        return "block"
    if isinstance(verdict, Flag):
        return "flag"
    return "redact"


def strength(verdict: Verdict) -> int:
    """0 for allow, 1 redact, 2 flag, 3 block."""
    return _STRENGTH[type(verdict)]


def strongest(verdicts: list[Verdict]) -> Verdict:
    """The strongest verdict of the list (the first one on a tie); ALLOW for an empty list."""
    best: Verdict = ALLOW
    for verdict in verdicts:
        if strength(verdict) > strength(best):
            best = verdict
    return best


def verdict_to_dict(verdict: Verdict) -> dict[str, Any]:
    """JSON-ready form for persistence and the dashboard: ``{"kind": ..., fields...}``."""
    if verdict is ALLOW:
        return {"kind": "allow"}
    if isinstance(verdict, Block):
        return {"kind": "block", "code": verdict.code, "reason": verdict.reason}
    if isinstance(verdict, Flag):
        return {"kind": "flag", "reason": verdict.reason, "severity": int(verdict.severity)}
    return {"kind": "redact", "text": verdict.text, "reason": verdict.reason}


def verdict_from_dict(data: dict[str, Any]) -> Verdict:
    """Inverse of :func:`verdict_to_dict`; raises ``ValueError`` on an unknown kind."""
    kind = data.get("kind")
    if kind == "allow":
        return ALLOW
    if kind == "block":
        return Block(str(data["code"]), str(data["reason"]))
    if kind == "flag":
        return Flag(str(data["reason"]), Severity(int(data.get("severity", 2))))
    if kind == "redact":
        return Redact(str(data["text"]), str(data["reason"]))
    raise ValueError(f"unknown verdict kind {kind!r}")


USER_MESSAGES: Final[dict[str, dict[str, str]]] = {
    "blocked": {
        "zh-CN": "该内容不符合社区规范，未能发送。",
        "en": "This content breaks the community rules and was not sent.",
    },
    "rate_limited": {
        "zh-CN": "操作过于频繁，请稍后再试。",
        "en": "You are doing that too often. Please wait a moment.",
    },
    "moderation_unavailable": {
        "zh-CN": "内容审核暂时不可用，请稍后再试。",
        "en": "Moderation is temporarily unavailable. Please try again shortly.",
    },
}
"""User-facing texts per Block code, in zh-CN and en (DESIGN.md: texts the user sees)."""


def user_message(code: str, lang: str | None = None) -> str:
    """The user-facing text for a Block code in ``lang`` (zh-CN or en; default en)."""
    texts = USER_MESSAGES.get(code, USER_MESSAGES["blocked"])
    if lang is not None and lang.lower().startswith("zh"):
        return texts["zh-CN"]
    return texts["en"]
