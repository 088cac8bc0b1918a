"""``AvatarWorld``: the avatars of one room instance, their moves, and the per-tick snaps.

Flow (DESIGN.md "Flow of one avatar update"): the room calls ``move`` for every
inbound payload (validated and clamped into the state arrays, nothing sent),
then once per tick ``out = world.step(tick, skip=backlogged)`` and, for each
``obs`` in ``out``, sends ``enter`` for ``obs.entered`` and then ``obs.snap``.

Area of interest (recomputed every tick anyone moved, so never stale): an
observer sees the ``max_visible`` nearest others within ``radius``, measured in
the XZ plane on the quantised (centimetre) positions, distance ties broken by
the lower eid. Every avatar is an observer; it never receives itself except as
a *correction*: after a clamped move its own row is in its next snap.

Delta semantics: a snap holds the visible entities whose quantised state
(cm, yaw_u16, anim) changed since the last snap *delivered* to that observer,
plus the newly visible ones in full; ``gone`` lists eids that left its view or
the world. ``snap`` is None when there is nothing to say.

With ``far_every = k > 1`` an observer's baseline advances only on its far turn
(every k-th tick, staggered by eid); in between, changes of the farther half of
its view wait, while nearer changes since the last turn are (re)sent every tick.

Backpressure: ``step(tick, skip=eids)`` produces no output for the skipped
observers and does not advance their baseline, so their next delivered snap
carries everything that changed (and every enter/gone) since the last one they
got. ``resync(eid)`` makes the next snap carry the full state of everything it
sees (e.g. after snaps were lost on an unreliable channel).

eids are ints in 0..2³²-1. An eid may be reused after ``remove``: an observer
still owed the old holder's ``gone`` gets that first, and the new holder's
``enter`` in a later snap (never both for one eid in one snap).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from .errors import AvatarNotFound, DuplicateAvatar, InvalidAvatar, TickOrderError
from .interest import Grid, k_nearest
from .models import (
    MAX_ABS_COORD,
    Bounds,
    InterestConfig,
    MoveResult,
    StepOutput,
)
from .movement import TAU, clamp_move, normalise_yaw, parse_move, refill
from .snapshot import assemble, encode_rows
from .store import AvatarStore
from .views import ViewTracker

__all__ = ["AvatarWorld"]

I64 = npt.NDArray[np.int64]
_YAW_SCALE = 65536.0 / TAU
_RATE_LIMITED, _CLAMPED, _ACCEPTED = (
    MoveResult.RATE_LIMITED,
    MoveResult.CLAMPED,
    MoveResult.ACCEPTED,
)
_UNKNOWN = MoveResult.UNKNOWN_EID


def _near(obs: I64, d2: I64) -> npt.NDArray[np.bool_]:
    """Per pair (grouped by observer): within 1/√2 of the observer's farthest visible."""
    starts = np.flatnonzero(np.diff(obs, prepend=-1))
    farthest = np.maximum.reduceat(d2, starts)
    return d2 * 2 <= np.repeat(farthest, np.diff(starts, append=obs.shape[0]))


class AvatarWorld:
    """Avatar state of one room instance (see the module docstring)."""

    def __init__(self, bounds: Bounds, config: InterestConfig | None = None) -> None:
        self.bounds = bounds
        self.config = config = config or InterestConfig()
        self._store = AvatarStore(config.max_moves_per_s)
        self._views = ViewTracker(self._store.capacity)
        self._grid = Grid.over(bounds, config.radius, config.grid_divisions)
        self._r2 = math.floor((config.radius * 100.0) ** 2)
        self._removed: set[int] = set()
        self._tick = -1
        self._aoi: tuple[I64, I64, I64, I64] | None = None

    # -- membership -----------------------------------------------------------

    def add(self, eid: int, x: float, y: float, z: float, yaw: float, now_ms: float) -> None:
        """Place a new avatar (clamped into bounds); it is visible from the next step."""
        if type(eid) is not int or not 0 <= eid <= 0xFFFFFFFF:
            raise InvalidAvatar(f"eid must be an int in 0..2**32-1, got {eid!r}")
        if eid in self._store.slot_of:
            raise DuplicateAvatar(f"avatar {eid} is already in the world")
        state = (x, y, z, yaw)
        if not all(
            isinstance(v, int | float)
            and not isinstance(v, bool)
            and math.isfinite(v)
            and abs(v) <= MAX_ABS_COORD
            for v in state
        ):
            raise InvalidAvatar(f"spawn of avatar {eid} is not finite or out of range: {state}")
        st = self._store
        slot = st.alloc(eid)
        if st.capacity != self._views.capacity:
            self._views.resize(st.capacity)
        b = self.bounds
        st.x[slot] = min(max(x, b.min_x), b.max_x)
        st.y[slot] = min(max(y, b.min_y), b.max_y)
        st.z[slot] = min(max(z, b.min_z), b.max_z)
        st.yaw[slot] = normalise_yaw(yaw)
        st.anim[slot] = 0
        st.last_ms[slot] = now_ms
        st.budget[slot] = 0.0  # a reused slot must not inherit the previous avatar's allowance

    def remove(self, eid: int) -> None:
        """Take an avatar out; observers that saw it get it in ``gone``."""
        if eid not in self._store.slot_of:
            raise AvatarNotFound(eid)
        self._removed.add(self._store.free(eid))

    def __len__(self) -> int:
        return len(self._store.slot_of)

    def __contains__(self, eid: object) -> bool:
        return eid in self._store.slot_of

    def _slot(self, eid: int) -> int:
        try:
            return self._store.slot_of[eid]
        except KeyError:
            raise AvatarNotFound(eid) from None

    # -- moves ------------------------------------------------------------------

    def move(self, eid: int, payload: object, now_ms: float) -> MoveResult:
        """Validate, rate-limit and clamp one ``move`` payload; never raises on bad input."""
        st = self._store
        slot = st.slot_of.get(eid)
        if slot is None:
            return _UNKNOWN
        parsed = parse_move(payload)
        if type(parsed) is not tuple:
            return parsed  # type: ignore[return-value]
        x, y, z, yaw, anim = parsed
        # sliding window: the accepted move `window` moves ago must be >= 1 s old
        window, head = st.rate_window, st.mv_head[slot]
        i = slot * window + head
        if now_ms - st.mv_ring[i] < 1000.0:
            return _RATE_LIMITED
        st.mv_ring[i] = now_ms
        st.mv_head[slot] = head + 1 if head + 1 < window else 0
        mx, my, mz = st.mv_x, st.mv_y, st.mv_z
        dt = (now_ms - st.mv_last[slot]) * 0.001
        budget = refill(st.mv_budget[slot], dt, self.config.max_speed)
        x0, y0, z0 = mx[slot], my[slot], mz[slot]
        x, y, z, clamped = clamp_move((x0, y0, z0), (x, y, z), budget, self.bounds)
        spent = math.sqrt((x - x0) ** 2 + (y - y0) ** 2 + (z - z0) ** 2)
        st.mv_budget[slot] = budget - spent if spent < budget else 0.0
        mx[slot], my[slot], mz[slot] = x, y, z
        st.mv_yaw[slot] = normalise_yaw(yaw)
        st.mv_anim[slot] = anim
        st.mv_last[slot] = now_ms
        if clamped:
            st.mv_correct[slot] = True
            return _CLAMPED
        return _ACCEPTED

    def position(self, eid: int) -> tuple[float, float, float, float, int]:
        """Current ``(x, y, z, yaw, anim)`` of an avatar."""
        s, st = self._slot(eid), self._store
        return (float(st.x[s]), float(st.y[s]), float(st.z[s]), float(st.yaw[s]), int(st.anim[s]))

    def resync(self, eid: int) -> None:
        """Make the observer's next snap carry the full state of everything it sees."""
        self._store.base[self._slot(eid)] = -1

    # -- interest (inspection) --------------------------------------------------

    def visible(self, eid: int) -> list[int]:
        """eids this observer has been told about (entered, not yet gone), ascending."""
        return self._views.held_by(self._slot(eid))

    def nearest(self, eid: int) -> list[int]:
        """Brute-force AoI on the current positions, nearest first (for tests and tools)."""
        st, me = self._store, self._slot(eid)
        slots = st.alive_slots()
        qx, qz = np.rint(st.x[slots] * 100.0), np.rint(st.z[slots] * 100.0)
        mx, mz = np.rint(st.x[me] * 100.0), np.rint(st.z[me] * 100.0)
        d2 = ((qx - mx) ** 2 + (qz - mz) ** 2).astype(np.int64)
        eids = st.eid[slots]
        ok = (d2 <= self._r2) & (slots != me)
        order = np.lexsort((eids[ok], d2[ok]))
        return eids[ok][order][: self.config.max_visible].tolist()  # type: ignore[no-any-return]

    # -- the tick -----------------------------------------------------------------

    def _quantise(self, slots: I64, tick: int) -> tuple[list[I64], bool]:
        """``[eid, x, y, z, yaw, anim]`` in integer wire units, and whether any x/z changed.

        Stamps ``version = tick`` on every slot whose quantised state changed.
        """
        st = self._store
        cols = [
            st.eid[slots],
            np.rint(st.x[slots] * 100.0).astype(np.int64),
            np.rint(st.y[slots] * 100.0).astype(np.int64),
            np.rint(st.z[slots] * 100.0).astype(np.int64),
            np.rint(st.yaw[slots] * _YAW_SCALE).astype(np.int64) & 0xFFFF,
            st.anim[slots].astype(np.int64),
        ]
        last = (st.qx, st.qy, st.qz, st.qyaw, st.qanim)
        changed = (cols[1] != st.qx[slots]) | (cols[3] != st.qz[slots])
        moved = bool(changed.any())
        for col, prev in ((cols[2], st.qy), (cols[4], st.qyaw), (cols[5], st.qanim)):
            changed |= col != prev[slots]
        if moved or changed.any():
            hit = slots[changed]
            st.version[hit] = tick
            for col, prev in zip(cols[1:], last, strict=True):
                prev[hit] = col[changed]
        return cols, moved

    def step(self, tick: int, skip: Iterable[int] = ()) -> StepOutput:
        """Compute every observer's view and snap for ``tick`` (strictly increasing).

        Observers whose eid is in ``skip`` get no output and keep their baseline.
        """
        if tick <= self._tick:
            raise TickOrderError(f"tick {tick} is not after {self._tick}")
        self._tick = tick
        st = self._store
        if self._removed:
            self._views.remove(np.fromiter(self._removed, np.int64, len(self._removed)))
            self._removed.clear()
        slots = st.alive_slots()
        n = slots.shape[0]
        if n == 0:
            return StepOutput(tick, [])
        cols, moved = self._quantise(slots, tick)
        eids = cols[0]
        skipped = np.zeros(st.capacity, np.bool_)
        any_skipped = False
        for e in skip:
            s = st.slot_of.get(e)
            if s is not None:
                skipped[s] = any_skipped = True
        if moved or self._aoi is None or self._aoi[0] is not slots:
            rank = np.empty(n, np.int64)
            rank[np.argsort(eids, kind="stable")] = np.arange(n)
            aoi = k_nearest(cols[1], cols[3], rank, self._grid, self._r2, self.config.max_visible)
            self._aoi = (slots, *aoi)  # reused while nobody moves, joins or leaves
        _, oi, ci, d2 = self._aoi
        os_, cs_ = slots[oi], slots[ci]
        shown, entered, gone_obs, gone_eid = self._views.diff(
            os_, cs_, eids[ci], skipped if any_skipped else None
        )
        deliver = ~skipped[slots]
        changed = shown & (st.version[cs_] > st.base[os_])
        turn = deliver  # observers whose baseline advances
        if self.config.far_every > 1:
            turn = deliver & ((eids + tick) % self.config.far_every == 0)
            if oi.shape[0]:
                changed &= turn[oi] | _near(oi, d2)
        rows = entered | changed
        ro, rc = oi[rows], ci[rows]
        fix = np.flatnonzero(st.correct[slots] & deliver)
        if fix.shape[0]:
            at = np.searchsorted(ro, fix)
            ro, rc = np.insert(ro, at, fix), np.insert(rc, at, fix)
            st.correct[slots[fix]] = False
        st.base[slots[turn]] = tick
        idx_of_slot = np.empty(st.capacity, np.int64)
        idx_of_slot[slots] = np.arange(n)
        return StepOutput(
            tick,
            assemble(
                tick,
                eids,
                np.flatnonzero(deliver),
                encode_rows(cols),
                (ro, rc),
                (oi[entered], eids[ci[entered]]),
                (idx_of_slot[gone_obs], gone_eid),
            ),
        )
