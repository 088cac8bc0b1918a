"""Value objects of the avatars package: bounds, interest settings, results."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "MAX_ABS_COORD",
    "Bounds",
    "InterestConfig",
    "MoveResult",
    "ObserverOutput",
    "StepOutput",
]

MAX_ABS_COORD = 1_000_000.0
"""Largest |coordinate| in metres accepted anywhere (keeps centimetres in int32)."""


def _finite(name: str, value: float, limit: float = MAX_ABS_COORD) -> None:
    if not math.isfinite(value) or abs(value) > limit:
        raise ValueError(f"{name} must be finite and within ±{limit:g}, got {value!r}")


@dataclass(frozen=True, slots=True)
class Bounds:
    """Axis-aligned box an avatar is kept inside, in metres (y is up)."""

    min_x: float
    """Smallest allowed x."""
    max_x: float
    """Largest allowed x."""
    min_z: float
    """Smallest allowed z."""
    max_z: float
    """Largest allowed z."""
    min_y: float = 0.0
    """Lowest allowed y (floor)."""
    max_y: float = 20.0
    """Highest allowed y."""

    def __post_init__(self) -> None:
        for axis in ("x", "y", "z"):
            lo, hi = getattr(self, f"min_{axis}"), getattr(self, f"max_{axis}")
            _finite(f"min_{axis}", lo)
            _finite(f"max_{axis}", hi)
            if lo > hi:
                raise ValueError(f"min_{axis} ({lo}) > max_{axis} ({hi})")


@dataclass(frozen=True, slots=True)
class InterestConfig:
    """Area-of-interest and movement-validation settings of one world."""

    radius: float = 30.0
    """Metres (XZ distance) within which an observer can see another avatar."""
    max_visible: int = 64
    """At most this many nearest avatars are visible to one observer."""
    max_speed: float = 6.0
    """Metres per second; a faster displacement is clamped toward its target."""
    max_moves_per_s: int = 20
    """Accepted ``move`` messages per avatar in any one-second window."""
    grid_divisions: int = 8
    """Grid cells per ``radius`` (cell edge = radius / grid_divisions)."""
    far_every: int = 1
    """Send changes of the farther half of an observer's view (beyond 1/√2 of its
    farthest visible) only every this many ticks, staggered by observer; 1 = every
    tick. 2 cuts snap bytes ~25% when all move, for ≤ 1 tick more staleness of far
    avatars. Entering avatars and corrections are never delayed."""

    def __post_init__(self) -> None:
        _finite("radius", self.radius, 10_000.0)
        _finite("max_speed", self.max_speed)
        if self.radius <= 0 or self.max_speed < 0:
            raise ValueError("radius must be > 0 and max_speed >= 0")
        for name in ("max_visible", "max_moves_per_s", "grid_divisions", "far_every"):
            value = getattr(self, name)
            if type(value) is not int or not 1 <= value <= 65_535:
                raise ValueError(f"{name} must be an int in 1..65535, got {value!r}")


class MoveResult(enum.Enum):
    """What ``AvatarWorld.move`` did with one payload; the value is a metrics label."""

    ACCEPTED = "accepted"
    CLAMPED = "clamped"
    """Accepted, but the server changed the position (speed or bounds)."""
    MALFORMED = "malformed"
    """Not a list/tuple of x, y, z, yaw numbers and an int anim."""
    NON_FINITE = "non_finite"
    OUT_OF_RANGE = "out_of_range"
    """|coordinate| or |yaw| above MAX_ABS_COORD, or anim outside 0..255."""
    RATE_LIMITED = "rate_limited"
    UNKNOWN_EID = "unknown_eid"

    @property
    def ok(self) -> bool:
        """True when the move was applied (accepted or clamped)."""
        return self is MoveResult.ACCEPTED or self is MoveResult.CLAMPED

    @property
    def dropped(self) -> bool:
        """True when the move was ignored; the value is the reason code."""
        return not self.ok


class ObserverOutput(NamedTuple):
    """One observer's share of a tick (a NamedTuple: ~1,000 are built per tick)."""

    eid: int
    """The observer (every avatar is one)."""
    snap: bytes | None
    """msgpack ``[tick, [[eid, x, y, z, yaw, anim], ...], [gone, ...]]`` or None."""
    entered: list[int]
    """eids newly visible to it: send ``enter`` for them before ``snap``."""

    def __repr__(self) -> str:
        size = "None" if self.snap is None else f"<{len(self.snap)} bytes>"
        return f"ObserverOutput(eid={self.eid}, snap={size}, entered={self.entered})"


@dataclass(frozen=True, slots=True)
class StepOutput:
    """Everything one ``AvatarWorld.step`` produced, one entry per delivered observer."""

    tick: int
    """The tick passed to ``step``."""
    observers: list[ObserverOutput]
    """Observers not skipped, in slot order; ``snap`` may be None."""

    def __iter__(self) -> Iterator[ObserverOutput]:
        return iter(self.observers)

    def __len__(self) -> int:
        return len(self.observers)

    @property
    def snap_bytes(self) -> int:
        """Total size of this tick's snaps."""
        return sum(len(o.snap) for o in self.observers if o.snap is not None)

    def __repr__(self) -> str:
        snaps = sum(1 for o in self.observers if o.snap is not None)
        return f"StepOutput(tick={self.tick}, observers={len(self)}, snaps={snaps})"
