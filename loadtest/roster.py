"""Who is walking where: every bot of the run, shared by all generator processes.

When a bot has joined, its process announces a :class:`BotJoined` (index, eid,
room instance, spawn, start time, walking region); the coordinator relays it to
every other process. With the run's seed that is enough for any process to replay
the bot's :class:`~loadtest.walk.Walk`, i.e. to know its true position at any time
and when it sent any position an observer saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .walk import Region, Walk

__all__ = ["BotJoined", "Present", "Roster"]

Present = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]
"""(bot indices, eids, true x/z positions as an (n, 2) array)."""


@dataclass(frozen=True, slots=True)
class BotJoined:
    """A bot that joined a room instance and starts walking at ``start_ms``."""

    index: int
    eid: int
    instance: str
    spawn: tuple[float, float, float]
    start_ms: float
    region: tuple[float, float, float, float]
    """min_x, max_x, min_z, max_z of its walking area."""

    def to_wire(self) -> tuple[object, ...]:
        return ("bot", self.index, self.eid, self.instance, self.spawn, self.start_ms, self.region)

    @classmethod
    def from_wire(cls, msg: tuple[object, ...]) -> BotJoined:
        _, index, eid, instance, spawn, start_ms, region = msg
        return cls(int(index), int(eid), str(instance), spawn, float(start_ms), region)  # type: ignore[arg-type, call-overload]


@dataclass(slots=True)
class _Entry:
    info: BotJoined
    walk: Walk
    gone_ms: float | None = None


class Roster:
    """All joined bots, with their walks; lookups by bot index or by (instance, eid)."""

    def __init__(self, seed: int, period_ms: float) -> None:
        self.seed = seed
        self.period_ms = period_ms
        self._by_index: dict[int, _Entry] = {}
        self._by_eid: dict[tuple[str, int], _Entry] = {}

    def __len__(self) -> int:
        return len(self._by_index)

    def add(self, info: BotJoined) -> Walk:
        """Register a joined bot and return its walk."""
        walk = Walk(
            self.seed, info.index, info.spawn, info.start_ms, Region(*info.region), self.period_ms
        )
        e = _Entry(info, walk)
        self._by_index[info.index] = e
        self._by_eid[(info.instance, info.eid)] = e
        return walk

    def mark_gone(self, index: int, t_ms: float) -> None:
        """The bot left (or lost) its connection at ``t_ms``."""
        e = self._by_index.get(index)
        if e is not None and e.gone_ms is None:
            e.gone_ms = t_ms

    def walk_by_eid(self, instance: str, eid: int) -> Walk | None:
        e = self._by_eid.get((instance, eid))
        return None if e is None else e.walk

    def present(self, now_ms: float, instance: str, min_walk_ms: float) -> Present:
        """Bots in ``instance`` walking for at least ``min_walk_ms`` and still connected."""
        idx: list[int] = []
        eids: list[int] = []
        xz: list[tuple[float, float]] = []
        latest_start = now_ms - min_walk_ms
        for e in self._by_index.values():
            inf = e.info
            if inf.instance != instance or inf.start_ms > latest_start:
                continue
            if e.gone_ms is not None and e.gone_ms <= now_ms:
                continue
            x, z, _ = e.walk.at(now_ms)
            idx.append(inf.index)
            eids.append(inf.eid)
            xz.append((x, z))
        return (
            np.asarray(idx, dtype=np.int64),
            np.asarray(eids, dtype=np.int64),
            np.asarray(xz, dtype=np.float64).reshape(-1, 2),
        )
