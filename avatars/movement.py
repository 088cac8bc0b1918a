"""Validation of ``move`` payloads and the speed/bounds clamp (pure functions).

A payload is ``[x, y, z, yaw, anim]``: four int-or-float numbers (never bool)
and an int anim in 0..255. Anything else is answered with a dropping
:class:`MoveResult`; nothing here raises on client input.
"""

from __future__ import annotations

import math
from typing import Any

from .models import MAX_ABS_COORD, Bounds, MoveResult

__all__ = ["BURST_S", "TAU", "parse_move", "normalise_yaw", "clamp_move", "refill"]

TAU = 2.0 * math.pi
BURST_S = 0.5
"""Movement allowance is a budget of metres refilled at ``max_speed`` and capped at
``max_speed * BURST_S``: moves that arrive bunched (a busy network, a slow client) spend what the
quiet interval before them earned, instead of being clamped per message; a teleport still
moves at most the capped budget."""

_isfinite = math.isfinite
_MALFORMED = MoveResult.MALFORMED
_NON_FINITE = MoveResult.NON_FINITE
_OUT_OF_RANGE = MoveResult.OUT_OF_RANGE
_SEQUENCES = frozenset((list, tuple))
_NUMBERS = frozenset((int, float))
_LIM = MAX_ABS_COORD


def _number(v: object) -> float | MoveResult:
    if type(v) is float:
        f = v
    elif type(v) is int:
        if not -MAX_ABS_COORD <= v <= MAX_ABS_COORD:
            return _OUT_OF_RANGE  # also keeps float() from overflowing on 10**400
        f = float(v)
    else:
        return _MALFORMED  # bool, str, None, nested containers, numpy scalars...
    if not _isfinite(f):
        return _NON_FINITE
    if not -MAX_ABS_COORD <= f <= MAX_ABS_COORD:
        return _OUT_OF_RANGE
    return f


def parse_move(payload: object) -> tuple[float, float, float, float, int] | MoveResult:
    """Return ``(x, y, z, yaw, anim)`` from a decoded payload, or why it is dropped."""
    # Fast path for the common well-formed payload: NaN, ±inf and huge ints all fail
    # a chained comparison and fall through to the classifying slow path.
    x: Any
    y: Any
    z: Any
    yaw: Any
    anim: Any
    if type(payload) in _SEQUENCES and len(payload) == 5:  # type: ignore[arg-type]
        x, y, z, yaw, anim = payload  # type: ignore[misc]
        if (
            type(x) in _NUMBERS
            and type(y) in _NUMBERS
            and type(z) in _NUMBERS
            and type(yaw) in _NUMBERS
            and type(anim) is int
            and -_LIM <= x <= _LIM
            and -_LIM <= y <= _LIM
            and -_LIM <= z <= _LIM
            and -_LIM <= yaw <= _LIM
            and 0 <= anim <= 255
        ):
            return float(x), float(y), float(z), float(yaw), anim
    return _classify(payload)


def _classify(payload: object) -> tuple[float, float, float, float, int] | MoveResult:
    if type(payload) is not list and type(payload) is not tuple:
        return _MALFORMED
    if len(payload) != 5:
        return _MALFORMED
    x, y, z, yaw, anim = payload
    if type(anim) is not int:
        return _MALFORMED
    fx = _number(x)
    if isinstance(fx, MoveResult):
        return fx
    fy = _number(y)
    if isinstance(fy, MoveResult):
        return fy
    fz = _number(z)
    if isinstance(fz, MoveResult):
        return fz
    fyaw = _number(yaw)
    if isinstance(fyaw, MoveResult):
        return fyaw
    if not 0 <= anim <= 255:
        return _OUT_OF_RANGE
    return fx, fy, fz, fyaw, anim


def normalise_yaw(yaw: float) -> float:
    """Map any finite angle to [0, 2π)."""
    r = yaw % TAU
    return 0.0 if r >= TAU else r  # -1e-20 % TAU rounds up to TAU


def refill(budget: float, dt_s: float, max_speed: float) -> float:
    """The movement budget (metres) after ``dt_s`` seconds at ``max_speed``, capped."""
    cap = max_speed * BURST_S
    earned = budget + max_speed * (dt_s if dt_s > 0.0 else 0.0)
    return cap if earned > cap else earned


def clamp_move(
    old: tuple[float, float, float],
    new: tuple[float, float, float],
    limit: float,
    bounds: Bounds,
) -> tuple[float, float, float, bool]:
    """Limit ``old → new`` to ``limit`` metres, then into bounds.

    Returns the position to store and whether it differs from ``new``.
    """
    x0, y0, z0 = old
    x, y, z = new
    dx, dy, dz = x - x0, y - y0, z - z0
    d2 = dx * dx + dy * dy + dz * dz
    clamped = False
    if d2 > limit * limit:
        s = limit / math.sqrt(d2)
        x, y, z = x0 + dx * s, y0 + dy * s, z0 + dz * s
        clamped = True
    b = bounds
    cx = b.min_x if x < b.min_x else b.max_x if x > b.max_x else x
    cy = b.min_y if y < b.min_y else b.max_y if y > b.max_y else y
    cz = b.min_z if z < b.min_z else b.max_z if z > b.max_z else z
    return cx, cy, cz, clamped or cx != x or cy != y or cz != z
