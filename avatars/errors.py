"""The avatars package's exception tree.

Bad ``move`` payloads are *not* errors: they are answered with a dropping
:class:`~avatars.models.MoveResult`. These exceptions are for programming
errors at the room/world boundary (unknown or duplicate eids, bad spawns,
ticks out of order).
"""

from __future__ import annotations

__all__ = [
    "AvatarError",
    "AvatarNotFound",
    "DuplicateAvatar",
    "InvalidAvatar",
    "TickOrderError",
]


class AvatarError(Exception):
    """Base class of every error raised by the avatars package."""


# -- membership --------------------------------------------------------------


class AvatarNotFound(AvatarError, KeyError):
    """No avatar with that eid is in the world."""


class DuplicateAvatar(AvatarError, ValueError):
    """An avatar with that eid is already in the world."""


class InvalidAvatar(AvatarError, ValueError):
    """The eid or the spawn state given to ``add`` is not acceptable."""


# -- ticking -----------------------------------------------------------------


class TickOrderError(AvatarError, ValueError):
    """``step`` was called with a tick that is not greater than the previous one."""
