"""The protocol's error tree. Each class carries its wire ``code``; server/errors.py maps codes to HTTP."""

from __future__ import annotations

from typing import Any

__all__ = [
    "MetahallError", "BadRequest", "AuthError", "Forbidden", "NotFound", "Conflict",
    "RoomFull", "RateLimited", "Blocked", "Muted", "Banned", "Unavailable",
]


class MetahallError(Exception):
    """Base of every error the protocol can report. ``code`` is the wire code."""

    code = "internal"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details = details

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        body.update(self.details)
        return body


# -- request shape ---------------------------------------------------------------
class BadRequest(MetahallError):
    """The request is malformed."""

    code = "bad_request"


# -- identity and access ---------------------------------------------------------
class AuthError(MetahallError):
    """Authentication failed or is missing."""

    code = "auth"


class Forbidden(MetahallError):
    """Your role does not allow this."""

    code = "forbidden"


class Banned(MetahallError):
    """You are banned."""

    code = "banned"


# -- state -----------------------------------------------------------------------
class NotFound(MetahallError):
    """No such thing."""

    code = "not_found"


class Conflict(MetahallError):
    """That conflicts with the current state."""

    code = "conflict"


class RoomFull(MetahallError):
    """The room is full."""

    code = "full"


class Unavailable(MetahallError):
    """The service is briefly unavailable; try again."""

    code = "unavailable"


# -- abuse -----------------------------------------------------------------------
class RateLimited(MetahallError):
    """Too many requests; slow down."""

    code = "rate_limited"


class Blocked(MetahallError):
    """Blocked by moderation."""

    code = "blocked"


class Muted(MetahallError):
    """You are muted."""

    code = "muted"


# -- room runtime ------------------------------------------------------------------
class RoomPhaseError(MetahallError):
    """The room is not in the phase this operation needs."""

    code = "conflict"


class RoomHookError(MetahallError):
    """A room hook raised something that is not a protocol error."""

    code = "internal"

    def __init__(self, hook: str, room_id: str, client_id: str | None = None) -> None:
        super().__init__(f"{hook} failed in {room_id}")
        self.hook, self.room_id, self.client_id = hook, room_id, client_id

    def to_wire(self) -> dict[str, object]:
        # Never leak internals to clients.
        return {"code": self.code, "message": "Internal error; the room is still running."}


class CreateHookError(RoomHookError):
    """on_create raised."""


class JoinHookError(RoomHookError):
    """on_join raised."""


class LeaveHookError(RoomHookError):
    """on_leave raised."""


class MessageHookError(RoomHookError):
    """on_message raised."""


class TickHookError(RoomHookError):
    """on_tick raised."""


class DisposeHookError(RoomHookError):
    """on_dispose raised."""
