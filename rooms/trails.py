"""Position trails: a small ring of avatar positions per room, frozen as evidence when flagged.

A room samples its avatars at ``hz`` (default 2 Hz) and keeps the last ``window_s`` seconds
(default 5 minutes). Each sample is three compact numpy arrays (eids as int32, x and z as
float32: 12 bytes per avatar), so a room of 100 avatars holds about 0.7 MB at most and a
sample costs one ``world.position`` call per avatar, twice a second. Who held an eid when is
kept beside the samples (eids are reused), so :meth:`TrailRecorder.freeze` can hand out
per-user tracks: the involved users' trails and those of everyone who came within
``radius`` metres of them during the window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["TrailRecorder", "Presence"]

Position = Callable[[int], tuple[float, float, float, float, int]]


@dataclass(slots=True)
class Presence:
    """One user holding one eid of the room from ``joined_ms`` until ``left_ms``."""

    eid: int
    user_id: str
    display_name: str
    joined_ms: int
    left_ms: int | None = None

    def covers(self, ts: int) -> bool:
        return self.joined_ms <= ts and (self.left_ms is None or ts < self.left_ms)


@dataclass(frozen=True, slots=True)
class _Sample:
    ts: int
    eids: npt.NDArray[np.int32]
    x: npt.NDArray[np.float32]
    z: npt.NDArray[np.float32]


class TrailRecorder:
    """The trail ring of one room instance (see the module docstring)."""

    def __init__(self, window_s: float = 300.0, hz: float = 2.0) -> None:
        self.window_ms = int(window_s * 1000)
        self.hz = hz
        self._period_ms = 1000.0 / hz
        self._samples: deque[_Sample] = deque(maxlen=int(window_s * hz) + 1)
        self._presences: dict[int, list[Presence]] = {}
        self._next_ms = 0.0

    def __len__(self) -> int:
        return len(self._samples)

    # -- recording (called by the room) ---------------------------------------------------
    def joined(self, eid: int, user_id: str, display_name: str, now_ms: float) -> None:
        self._presences.setdefault(eid, []).append(
            Presence(eid, user_id, display_name, int(now_ms)))

    def left(self, eid: int, now_ms: float) -> None:
        for p in self._presences.get(eid, ()):
            if p.left_ms is None:
                p.left_ms = int(now_ms)

    def due(self, now_ms: float) -> bool:
        """True when the next sample should be taken (one float compare per tick)."""
        return now_ms >= self._next_ms

    def sample(self, now_ms: float, eids: Collection[int], position: Position) -> None:
        """Record where every avatar in ``eids`` is now."""
        self._next_ms = now_ms + self._period_ms
        ts = int(now_ms)
        n = len(eids)
        if n:
            pos = [position(e) for e in eids]
            self._samples.append(_Sample(
                ts, np.fromiter(eids, np.int32, n),
                np.fromiter((p[0] for p in pos), np.float32, n),
                np.fromiter((p[2] for p in pos), np.float32, n)))
        self._prune(ts - self.window_ms)

    def _prune(self, cutoff: int) -> None:
        gone = []
        for eid, plist in self._presences.items():
            if any(p.left_ms is not None and p.left_ms < cutoff for p in plist):
                plist[:] = [p for p in plist if p.left_ms is None or p.left_ms >= cutoff]
                if not plist:
                    gone.append(eid)
        for eid in gone:
            del self._presences[eid]

    # -- evidence -------------------------------------------------------------------------
    def presences(self) -> list[Presence]:
        return [p for plist in self._presences.values() for p in plist]

    def snapshot(self, now_ms: float, window_ms: int | None = None) -> TrailSnapshot:
        """An immutable copy of the window (cheap); compute tracks from it off the loop."""
        start = int(now_ms) - (self.window_ms if window_ms is None else window_ms)
        samples = tuple(s for s in self._samples if s.ts >= start)
        people = tuple(Presence(p.eid, p.user_id, p.display_name, p.joined_ms, p.left_ms)
                       for p in self.presences() if p.user_id)
        return TrailSnapshot(int(now_ms), start, self.hz, samples, people)

    def freeze(self, user_ids: Iterable[str], now_ms: float, radius: float = 15.0,
               window_ms: int | None = None, max_tracks: int = 64) -> dict[str, Any]:
        """``snapshot(now_ms, window_ms).tracks(user_ids, radius, max_tracks)``."""
        return self.snapshot(now_ms, window_ms).tracks(user_ids, radius, max_tracks)

    def forget_user(self, user_id: str) -> None:
        """Erasure: drop the user's identity from the roster (their positions become anonymous)."""
        for plist in self._presences.values():
            for p in plist:
                if p.user_id == user_id:
                    p.user_id, p.display_name = "", ""


@dataclass(frozen=True, slots=True)
class TrailSnapshot:
    """The samples and roster of one window; :meth:`tracks` is pure (safe in a thread)."""

    now_ms: int
    start_ms: int
    hz: float
    samples: tuple[_Sample, ...]
    people: tuple[Presence, ...]

    def tracks(self, user_ids: Iterable[str], radius: float = 15.0,
               max_tracks: int = 64) -> dict[str, Any]:
        """Tracks of ``user_ids`` and of the people who came within ``radius`` m of them.

        ``{"t0", "hz", "window_ms", "radius", "tracks": [{"user_id", "display_name", "eid",
        "involved", "t": [ms after t0], "x": [cm], "z": [cm]}]}`` in plain JSON types; the
        involved first, then the others by how long they were near (at most ``max_tracks``).
        """
        wanted = set(user_ids)
        samples = self.samples
        t0 = samples[0].ts if samples else self.now_ms
        head = {"t0": t0, "hz": self.hz, "window_ms": self.now_ms - self.start_ms,
                "radius": radius}
        involved = [p for p in self.people if p.user_id in wanted]
        if not samples or not involved:
            return {**head, "tracks": []}
        sizes = [len(s.eids) for s in samples]
        ts = np.repeat(np.fromiter((s.ts for s in samples), np.int64, len(samples)), sizes)
        eids = np.concatenate([s.eids for s in samples]).astype(np.int64)
        xs = np.concatenate([s.x for s in samples])
        zs = np.concatenate([s.z for s in samples])
        bounds = np.cumsum([0, *sizes])
        order = np.lexsort((ts, eids))  # rows sorted by (eid, ts): a presence is one slice
        s_eids, s_ts = eids[order], ts[order]

        def rows(p: Presence) -> npt.NDArray[np.int64]:
            a, b = np.searchsorted(s_eids, np.array([p.eid, p.eid + 1], np.int64))
            seg = s_ts[a:b]
            lo = a + int(np.searchsorted(seg, p.joined_ms))
            hi = b if p.left_ms is None else a + int(np.searchsorted(seg, p.left_ms))
            return order[lo:hi]

        own = np.zeros(len(eids), np.bool_)
        for p in involved:
            own[rows(p)] = True
        near = np.zeros(len(eids), np.bool_)
        r2 = radius * radius
        for k in range(len(samples)):
            a, b = int(bounds[k]), int(bounds[k + 1])
            mine = np.flatnonzero(own[a:b])
            if mine.size == 0:
                continue
            dx = xs[a:b][None, :] - xs[a:b][mine][:, None]
            dz = zs[a:b][None, :] - zs[a:b][mine][:, None]
            near[a:b] |= ((dx * dx + dz * dz) <= r2).any(axis=0)
        near &= ~own
        near_eids = set(eids[near].tolist())
        others = []
        for p in self.people:
            if p.user_id in wanted or p.eid not in near_eids:
                continue
            hits = int(near[rows(p)].sum())
            if hits:
                others.append((hits, p))
        others.sort(key=lambda hp: (-hp[0], hp[1].joined_ms))
        chosen = involved + [p for _, p in others[: max(0, max_tracks - len(involved))]]
        tracks = []
        for p in chosen:
            sel = rows(p)
            tracks.append({
                "user_id": p.user_id, "display_name": p.display_name, "eid": p.eid,
                "involved": p.user_id in wanted,
                "t": (ts[sel] - t0).tolist(),
                "x": np.rint(xs[sel] * 100).astype(np.int64).tolist(),
                "z": np.rint(zs[sel] * 100).astype(np.int64).tolist(),
            })
        return {**head, "tracks": tracks}
