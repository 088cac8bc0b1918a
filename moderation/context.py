"""Context objects handed to moderation callbacks: frozen, plain data, no server types.

The server builds one per event at the edge (after decoding and validating the payload) and
passes it to the matching runner on :class:`moderation.callbacks.ModerationCallbacks`.
Gate contexts that carry user text (:class:`ChatContext`, :class:`DisplayNameContext`) have a
``text`` field and :meth:`with_text`, which the runner uses to feed a ``Redact`` to later
callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TypeAlias

from moderation.verdicts import Severity

__all__ = [
    "ActionContext",
    "ChatContext",
    "Context",
    "DisplayNameContext",
    "FlagContext",
    "GateContext",
    "JoinContext",
    "ReportContext",
    "UploadContext",
]


@dataclass(frozen=True, slots=True)
class ChatContext:
    """A chat message about to be delivered (PROTOCOL.md ``chat``)."""

    user_id: str
    """Sender's user id."""
    display_name: str
    """Sender's display name at send time."""
    roles: frozenset[str]
    """Sender's roles (``citizen``, ``staff``, ``exhibitor``, ``moderator``, ``admin``)."""
    room_id: str
    """Room id, e.g. ``hall:main``."""
    channel: str
    """``room``, ``near``, ``booth:<id>`` or ``dm:<user_id>``."""
    text: str
    """The message text (after earlier ``Redact`` verdicts, when a runner passes it on)."""
    lang: str | None = None
    """The sender's UI language (``zh-CN``/``en``) when known."""
    message_id: str | None = None
    """Message id, when the server assigned one before moderation."""
    ts: int | None = None
    """Server receive time, Unix ms."""

    def with_text(self, text: str) -> ChatContext:
        """A copy with ``text`` replaced."""
        return replace(self, text=text)


@dataclass(frozen=True, slots=True)
class DisplayNameContext:
    """A user wants ``text`` as their display name (guest sign-in, register, rename)."""

    user_id: str
    """The user's id (may be a provisional id for a guest being created)."""
    roles: frozenset[str]
    """The user's roles."""
    text: str
    """The proposed display name (already NFC-normalised and length-checked)."""
    current: str | None = None
    """The current display name, None for a new user."""
    lang: str | None = None
    """The user's UI language when known."""

    def with_text(self, text: str) -> DisplayNameContext:
        """A copy with ``text`` replaced."""
        return replace(self, text=text)


@dataclass(frozen=True, slots=True)
class JoinContext:
    """A user asks to join a room (before placement)."""

    user_id: str
    """Joining user's id."""
    display_name: str
    """Joining user's display name."""
    roles: frozenset[str]
    """Joining user's roles."""
    room_id: str
    """Requested room id."""
    lang: str | None = None
    """The user's UI language when known."""


@dataclass(frozen=True, slots=True)
class UploadContext:
    """A user uploads a file (booth material, avatar image...)."""

    user_id: str
    """Uploader's id."""
    roles: frozenset[str]
    """Uploader's roles."""
    room_id: str | None
    """Room the upload is for, if any."""
    filename: str
    """Client-supplied file name (untrusted)."""
    content_type: str
    """Declared or sniffed MIME type."""
    size: int
    """Size in bytes."""
    sha256: str | None = None
    """Hex SHA-256 of the content when computed (for hash block lists)."""


@dataclass(frozen=True, slots=True)
class ReportContext:
    """A user reported another user or a message (PROTOCOL.md ``report``); a notification."""

    report_id: str
    """Stored report id."""
    reporter_id: str
    """Who reported."""
    reason: str
    """Free text from the reporter."""
    room_id: str | None = None
    """Room the reporter was in."""
    target_user_id: str | None = None
    """Reported user, if any."""
    message_id: str | None = None
    """Reported message, if any."""


@dataclass(frozen=True, slots=True)
class FlagContext:
    """A flag was raised (by a check or a moderator) and stored; a notification."""

    flag_id: str
    """Stored flag id."""
    room_id: str
    """Room of the flagged session."""
    reason: str
    """The flag's reason."""
    severity: Severity = Severity.MEDIUM
    """The flag's severity."""
    user_ids: tuple[str, ...] = field(default_factory=tuple)
    """Involved users."""
    source: str = ""
    """What raised it: a callback ``__qualname__``, ``report`` or a moderator id."""


@dataclass(frozen=True, slots=True)
class ActionContext:
    """A moderation action was taken and audited; a notification."""

    actor_id: str
    """Moderator (or ``system``) who acted."""
    action: str
    """``warn``, ``mute``, ``kick``, ``ban``, ``redact`` or ``lock_room``."""
    target: str
    """Target user id, message id or room id."""
    reason: str
    """Why."""
    until: int | None = None
    """End of a mute/ban, Unix ms; None for permanent or not applicable."""
    room_id: str | None = None
    """Room concerned, if any."""
    audit_seq: int | None = None
    """Sequence number of the audit entry written for this action."""


GateContext: TypeAlias = ChatContext | DisplayNameContext | JoinContext | UploadContext
Context: TypeAlias = GateContext | ReportContext | FlagContext | ActionContext
