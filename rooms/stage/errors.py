"""The stage's errors. Each subclasses a protocol error, so the ack carries its wire ``code``."""

from __future__ import annotations

from rooms.errors import BadRequest, Conflict, Forbidden, NotFound, RoomFull

__all__ = [
    "UnknownTalk", "UnknownQuestion", "AdminOnly", "SpeakerOnly", "NotInRoom", "OutsideStageArea",
    "TalkNotOn", "TalkEnded", "TalkOverlaps", "AlreadyLive", "AlreadyVoted", "NotVoted",
    "TooManyQuestions", "StageFull", "BadTalk", "BadEmbedUrl", "BadSlide",
]


# -- unknown things (not_found) ------------------------------------------------------------
class UnknownTalk(NotFound):
    """No such talk."""


class UnknownQuestion(NotFound):
    """No such question."""


# -- who may do it (forbidden) ---------------------------------------------------------------
class AdminOnly(Forbidden):
    """Only the organiser (admin) can do this."""


class SpeakerOnly(Forbidden):
    """Only the talk's speaker (or an admin) can do this."""


class NotInRoom(Forbidden):
    """Enter the expo room of this talk first."""


class OutsideStageArea(Forbidden):
    """Walk to the stage area to watch."""


# -- state (conflict) ------------------------------------------------------------------------
class TalkNotOn(Conflict):
    """The talk is not on now; it can be broadcast only during its time slot."""


class TalkEnded(Conflict):
    """The talk has ended."""


class TalkOverlaps(Conflict):
    """Another talk is on this stage at that time."""


class AlreadyLive(Conflict):
    """Someone is already broadcasting this talk."""


class AlreadyVoted(Conflict):
    """You already upvoted this question."""


class NotVoted(Conflict):
    """You have not upvoted this question."""


class TooManyQuestions(Conflict):
    """You have asked enough questions for now; wait for answers."""


class StageFull(RoomFull):
    """The live stream has no place left and the talk has no other way to follow it."""


# -- input (bad_request) -----------------------------------------------------------------------
class BadTalk(BadRequest):
    """The talk is invalid."""


class BadEmbedUrl(BadRequest):
    """The embed URL is not an acceptable https address."""


class BadSlide(BadRequest):
    """That slide is not usable."""
