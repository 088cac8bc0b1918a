"""The expo's errors. Each subclasses a protocol error, so acks and HTTP bodies carry its code."""

from __future__ import annotations

from rooms.errors import BadRequest, Conflict, Forbidden, NotFound

__all__ = [
    "UnknownExpo", "UnknownHall", "UnknownBooth", "UnknownSlot", "UnknownMeeting", "UnknownFile",
    "UnknownLead", "OrganiserOnly", "NotYourBooth", "ExpoClosed", "NotYourMeeting",
    "ExpoExists", "SlotTaken", "SlotOccupied", "AlreadyBookedHere", "SlotPast", "MeetingOver",
    "BoothTaken", "ExhibitorElsewhere", "BadExpoSpec", "BadUpload", "UploadTooLarge",
    "TooManyFiles", "BadProfile", "ConsentRequired",
]


# -- unknown things (not_found) ------------------------------------------------------------
class UnknownExpo(NotFound):
    """No such expo."""


class UnknownHall(NotFound):
    """No such hall or booth slot in this expo."""


class UnknownBooth(NotFound):
    """No such booth."""


class UnknownSlot(NotFound):
    """No such meeting slot."""


class UnknownMeeting(NotFound):
    """No such meeting."""


class UnknownFile(NotFound):
    """No such file."""


class UnknownLead(NotFound):
    """You have not shared your contact with that booth."""


# -- who may do it (forbidden) ---------------------------------------------------------------
class OrganiserOnly(Forbidden):
    """Only the expo organiser (admin) can do this."""


class NotYourBooth(Forbidden):
    """Only the staff of this booth can do this."""


class NotYourMeeting(Forbidden):
    """That meeting is between other people."""


class ExpoClosed(Forbidden):
    """This expo is not open to visitors yet."""


# -- state (conflict) ------------------------------------------------------------------------
class ExpoExists(Conflict):
    """An expo (or a room) with that id already exists."""


class SlotTaken(Conflict):
    """That meeting slot has just been booked by someone else."""


class SlotOccupied(Conflict):
    """Another slot of this booth starts at that time or overlaps it."""


class AlreadyBookedHere(Conflict):
    """You already have a meeting booked with this booth."""


class SlotPast(Conflict):
    """That slot has already started."""


class MeetingOver(Conflict):
    """That meeting is cancelled or over."""


class BoothTaken(Conflict):
    """That booth slot is already assigned to another company."""


class ExhibitorElsewhere(Conflict):
    """That account already runs another booth."""


# -- input (bad_request) -----------------------------------------------------------------------
class BadExpoSpec(BadRequest):
    """The expo definition is invalid."""


class BadProfile(BadRequest):
    """The booth profile is invalid."""


class BadUpload(BadRequest):
    """The file was refused (its content, name or type)."""


class UploadTooLarge(BadRequest):
    """The file is too large."""


class TooManyFiles(BadRequest):
    """This booth holds as many files as it may."""


class ConsentRequired(BadRequest):
    """Sharing your contact needs your explicit consent."""
