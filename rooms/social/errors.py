"""Errors of social spaces. Each subclasses a protocol error (its wire ``code``) and adds a
precise ``reason`` to the error body, e.g. ``{"code": "forbidden", "reason": "invite_expired"}``,
so old clients keep working on the code and new ones can say exactly what happened."""

from __future__ import annotations

from typing import Any, ClassVar

from rooms.errors import BadRequest, Conflict, Forbidden, MetahallError, NotFound, RoomFull

__all__ = [
    "SocialError", "SpaceNotFound", "SpacePrivate", "SpaceLocked", "SpaceKicked", "SpaceFull",
    "NotHost", "NotOwner", "CannotActOn", "InviteUnknown", "InviteExpired", "InviteRevoked",
    "InviteUsedUp", "NotInRoom", "NotVoicePeer", "TableUnknown", "TableLocked", "TableFull", "TooFar",
    "TooManySpaces", "FriendUnknown", "LocationHidden", "BadSpaceSetting", "NotInSocialRoom",
]


class SocialError(MetahallError):
    """Base of the social errors: adds ``reason`` to the wire body."""

    reason: ClassVar[str] = "social"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message, **details)
        self.details.setdefault("reason", self.reason)


# -- spaces and joining --------------------------------------------------------------------
class SpaceNotFound(SocialError, NotFound):
    """No such social space."""

    reason = "space_unknown"


class SpacePrivate(SocialError, Forbidden):
    """This space is private: you need an invite or to be on its allow list."""

    reason = "space_private"


class SpaceLocked(SocialError, Forbidden):
    """The host has locked this space; nobody new can come in."""

    reason = "space_locked"


class SpaceKicked(SocialError, Forbidden):
    """You were removed from this space and cannot come back yet."""

    reason = "space_kicked"


class SpaceFull(SocialError, RoomFull):
    """This space is full; wait in line for a place."""

    reason = "space_full"


class TooManySpaces(SocialError, Conflict):
    """You already own the most spaces one person may own."""

    reason = "too_many_spaces"


class BadSpaceSetting(SocialError, BadRequest):
    """A space setting is out of range."""

    reason = "bad_setting"


class NotInSocialRoom(SocialError, NotFound):
    """You are not in a social space."""

    reason = "not_in_space"


# -- who may do it -------------------------------------------------------------------------
class NotHost(SocialError, Forbidden):
    """Only the space's owner or a co-host can do this."""

    reason = "not_host"


class NotOwner(SocialError, Forbidden):
    """Only the space's owner can do this."""

    reason = "not_owner"


class CannotActOn(SocialError, Forbidden):
    """You cannot act on that person (yourself, the owner, a co-host or a site moderator)."""

    reason = "protected_user"


# -- invites -------------------------------------------------------------------------------
class InviteUnknown(SocialError, NotFound):
    """That invite link is not valid."""

    reason = "invite_unknown"


class InviteExpired(SocialError, Forbidden):
    """That invite link has expired."""

    reason = "invite_expired"


class InviteRevoked(SocialError, Forbidden):
    """That invite link was revoked by the host."""

    reason = "invite_revoked"


class InviteUsedUp(SocialError, Forbidden):
    """That invite link has been used as often as the host allowed."""

    reason = "invite_used_up"


# -- voice signalling ----------------------------------------------------------------------
class NotInRoom(SocialError, Forbidden):
    """That user is not in the same room as you."""

    reason = "not_in_room"


class NotVoicePeer(SocialError, Forbidden):
    """You are not within hearing range of that user."""

    reason = "not_voice_peer"


# -- tables (private rooms inside a space) -------------------------------------------------
class TableUnknown(SocialError, NotFound):
    """No such table here."""

    reason = "table_unknown"


class TableLocked(SocialError, Forbidden):
    """That table is closed to newcomers."""

    reason = "table_locked"


class TableFull(SocialError, Conflict):
    """Every seat at that table is taken."""

    reason = "table_full"


class TooFar(SocialError, Conflict):
    """Walk closer first."""

    reason = "too_far"


# -- friends -------------------------------------------------------------------------------
class FriendUnknown(SocialError, NotFound):
    """That person is not on your friends list."""

    reason = "not_friends"


class LocationHidden(SocialError, Forbidden):
    """Your friend does not share where they are right now."""

    reason = "location_hidden"
