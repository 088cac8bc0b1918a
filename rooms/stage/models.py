"""Value objects of the stage: talks on the schedule and the questions of their Q&A.

They are frozen: the store returns a fresh object after every change.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

__all__ = ["TalkMode", "QuestionStatus", "Talk", "Question", "talk_status", "LEAD_MS"]

LEAD_MS = 5 * 60 * 1000
"""A speaker may go live this long before the talk's start (to set up camera and sound)."""


class TalkMode(enum.StrEnum):
    LIVE = "live"
    """The speaker's camera and microphone, relayed by the server over WebRTC."""
    EMBED = "embed"
    """An https page (HLS player, video platform) the organiser points to; nothing relayed."""
    SLIDES = "slides"
    """Slide images the speaker advances, with the speaker's live audio relayed."""


class QuestionStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    HIDDEN = "hidden"


@dataclass(frozen=True, slots=True)
class Talk:
    """One slot on an expo room's stage."""

    id: str
    room_id: str
    """The ``expo:<name>`` room whose stage it is on."""
    title: dict[str, str]
    """``{"zh-CN": ..., "en": ...}``."""
    speaker_id: str
    start: int
    """Unix ms."""
    end: int
    mode: TalkMode
    embed_url: str | None = None
    """Required for ``embed``; for the others the page over-cap viewers are sent to."""
    slides: int = 0
    """Number of slide images uploaded."""
    slide: int = 0
    """The slide shown now (0-based)."""
    speaker_name: str = ""
    created_by: str = ""
    created_at: int = 0
    updated_at: int = 0

    def status(self, now_ms: int) -> str:
        return talk_status(self.start, self.end, now_ms)

    def publishable(self, now_ms: int, lead_ms: int = LEAD_MS) -> bool:
        """Whether the speaker may broadcast now: from ``lead_ms`` before the start to the end."""
        return self.mode is not TalkMode.EMBED and self.start - lead_ms <= now_ms <= self.end

    def to_wire(self, now_ms: int) -> dict[str, Any]:
        return {
            "id": self.id, "room_id": self.room_id, "title": dict(self.title),
            "speaker": {"id": self.speaker_id, "display_name": self.speaker_name},
            "start": self.start, "end": self.end, "mode": self.mode.value,
            "embed_url": self.embed_url, "slides": self.slides, "slide": self.slide,
            "status": self.status(now_ms), "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def talk_status(start: int, end: int, now_ms: int) -> str:
    """``upcoming``, ``on`` or ``ended``."""
    if now_ms > end:
        return "ended"
    return "on" if now_ms >= start else "upcoming"


@dataclass(frozen=True, slots=True)
class Question:
    """A question of a talk's Q&A."""

    id: str
    talk_id: str
    user_id: str
    display_name: str
    text: str
    """As others see it (after moderation, maybe redacted)."""
    status: QuestionStatus = QuestionStatus.OPEN
    votes: int = 0
    created_at: int = 0
    updated_at: int = 0

    def sort_key(self) -> tuple[int, int, int]:
        """Open questions first, most votes first, then oldest first."""
        rank = {QuestionStatus.OPEN: 0, QuestionStatus.ANSWERED: 1, QuestionStatus.HIDDEN: 2}
        return (rank[self.status], -self.votes, self.created_at)

    def to_wire(self, *, full: bool = True) -> dict[str, Any]:
        """``full=False`` for a hidden question shown to the audience: no author, no text."""
        if not full:
            return {"id": self.id, "talk_id": self.talk_id, "status": self.status.value,
                    "votes": self.votes, "created_at": self.created_at}
        return {
            "id": self.id, "talk_id": self.talk_id,
            "from": {"user_id": self.user_id, "display_name": self.display_name},
            "text": self.text, "status": self.status.value, "votes": self.votes,
            "created_at": self.created_at, "updated_at": self.updated_at,
        }
