"""Deterministic bot trajectories: any process can replay any bot's walk.

A bot's walk is fixed by ``(seed, bot index, spawn, start_ms, region, period)``: from
the spawn it walks straight lines to waypoints drawn from ``random.Random`` seeded
with ``(seed, index)``, at a per-segment speed between ``MIN_SPEED`` and
``MAX_SPEED``, never pausing (the server sends only entities that changed, so a
standing bot would look stale while being accurate). It sends its position at the
grid times ``start_ms + k * period_ms`` only, so:

* :meth:`Walk.at` gives the true position at any wall-clock time, and
* :meth:`Walk.send_time_of` inverts a position seen in a ``snap`` (centimetres) back to
  the grid time at which the bot sent it: project the point on the segments walked
  shortly before it was received, turn the distance along the segment into time,
  and round to the grid. Successive sends are ~10-15 cm apart and snaps are exact to
  1 cm, so the rounding is unambiguous; a point farther than ``MATCH_TOLERANCE_M``
  from the path (e.g. clamped by the server) is reported as unmatched.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass

__all__ = ["MATCH_TOLERANCE_M", "MAX_SPEED", "MIN_SPEED", "Region", "Walk"]

MIN_SPEED = 1.0
"""Slowest walking speed in m/s."""
MAX_SPEED = 1.5
"""Fastest walking speed in m/s (the server clamps at 6 m/s)."""
MATCH_TOLERANCE_M = 0.25
"""A seen position farther than this from the walked path does not match it."""
_MIN_LEG_M = 1.0
_LOOKBACK_MS = 10_000.0


@dataclass(frozen=True, slots=True)
class Region:
    """An axis-aligned rectangle on the floor (x, z in metres)."""

    min_x: float
    max_x: float
    min_z: float
    max_z: float

    @classmethod
    def around(cls, x: float, z: float, side: float, bounds: Region | None = None) -> Region:
        """A ``side``-metre square centred on (x, z), clipped to ``bounds`` if given."""
        h = side / 2.0
        r = cls(x - h, x + h, z - h, z + h)
        if bounds is None:
            return r
        clipped = cls(
            max(r.min_x, bounds.min_x),
            min(r.max_x, bounds.max_x),
            max(r.min_z, bounds.min_z),
            min(r.max_z, bounds.max_z),
        )
        if clipped.max_x - clipped.min_x < 2.0 or clipped.max_z - clipped.min_z < 2.0:
            return bounds
        return clipped

    def shrink(self, margin: float) -> Region:
        """The same rectangle with ``margin`` metres taken off every side (if it fits)."""
        if self.max_x - self.min_x <= 2 * margin or self.max_z - self.min_z <= 2 * margin:
            return self
        return Region(
            self.min_x + margin, self.max_x - margin, self.min_z + margin, self.max_z - margin
        )

    def to_tuple(self) -> tuple[float, float, float, float]:
        return (self.min_x, self.max_x, self.min_z, self.max_z)


class Walk:
    """One bot's piecewise-linear walk; waypoints are generated lazily and cached."""

    __slots__ = ("_pts", "_rng", "_times", "period_ms", "region", "start_ms", "y")

    def __init__(
        self,
        seed: int,
        index: int,
        spawn: tuple[float, float, float],
        start_ms: float,
        region: Region,
        period_ms: float,
    ) -> None:
        self._rng = random.Random(seed * 1_000_003 + index)
        self.start_ms = float(start_ms)
        self.period_ms = float(period_ms)
        self.region = region
        x, y, z = spawn
        self.y = float(y)
        # waypoint k is reached at _times[k]; the walk starts at spawn at start_ms
        self._pts: list[tuple[float, float]] = [(float(x), float(z))]
        self._times: list[float] = [self.start_ms]

    def _extend_to(self, t_ms: float) -> None:
        rng, r = self._rng, self.region
        while self._times[-1] <= t_ms:
            px, pz = self._pts[-1]
            while True:
                nx, nz = rng.uniform(r.min_x, r.max_x), rng.uniform(r.min_z, r.max_z)
                leg = math.hypot(nx - px, nz - pz)
                if leg >= _MIN_LEG_M:
                    break
            speed = rng.uniform(MIN_SPEED, MAX_SPEED)
            self._pts.append((nx, nz))
            self._times.append(self._times[-1] + leg / speed * 1000.0)

    def at(self, t_ms: float) -> tuple[float, float, float]:
        """True (x, z, yaw) at wall-clock ``t_ms``; yaw faces the walking direction."""
        if t_ms <= self.start_ms:
            t_ms = self.start_ms
        self._extend_to(t_ms)
        k = bisect_right(self._times, t_ms) - 1
        (ax, az), (bx, bz) = self._pts[k], self._pts[k + 1]
        ta, tb = self._times[k], self._times[k + 1]
        f = (t_ms - ta) / (tb - ta)
        return ax + (bx - ax) * f, az + (bz - az) * f, math.atan2(bx - ax, bz - az)

    def grid_index(self, t_ms: float) -> int:
        """Index of the last send-grid time at or before ``t_ms`` (-1 before the start)."""
        return math.floor((t_ms - self.start_ms) / self.period_ms)

    def grid_time(self, k: int) -> float:
        """Wall-clock ms of send-grid point ``k``."""
        return self.start_ms + k * self.period_ms

    def send_time_of(self, x: float, z: float, seen_ms: float) -> float | None:
        """Grid time at which the bot sent position (x, z), seen at ``seen_ms``; None if no match.

        Only the path walked in the ``_LOOKBACK_MS`` before ``seen_ms`` is searched.
        """
        hi_t = seen_ms
        self._extend_to(hi_t)
        k = max(bisect_right(self._times, hi_t - _LOOKBACK_MS) - 1, 0)
        best_d2, best_t = math.inf, 0.0
        times, pts = self._times, self._pts
        while k + 1 < len(times) and times[k] <= hi_t:
            (ax, az), (bx, bz) = pts[k], pts[k + 1]
            dx, dz = bx - ax, bz - az
            f = ((x - ax) * dx + (z - az) * dz) / (dx * dx + dz * dz)
            f = 0.0 if f < 0.0 else 1.0 if f > 1.0 else f
            ex, ez = ax + dx * f - x, az + dz * f - z
            d2 = ex * ex + ez * ez
            if d2 < best_d2:
                best_d2, best_t = d2, times[k] + (times[k + 1] - times[k]) * f
            k += 1
        if best_d2 > MATCH_TOLERANCE_M * MATCH_TOLERANCE_M:
            return None
        g = max(round((best_t - self.start_ms) / self.period_ms), 0)
        return self.start_ms + g * self.period_ms
