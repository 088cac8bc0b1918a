"""Who stands at which booth, from the avatars' positions: presence, visits and the heat grid.

One ``BoothPresence`` per expo room instance. The room calls :meth:`sample` about once a second
with every avatar's position; one vectorised zone lookup (``HallPlan.zone_of``: arithmetic on
the booth grid, not a test against every booth) gives each avatar's booth slot, and only avatars
whose slot changed cost any Python work. A stay in a zone becomes a :class:`SlotVisit` when it
ends (walked off, left the room, room closed); stays shorter than ``min_visit_ms`` are people
walking past and are not counted. The same positions feed a coarse heat grid (counts per cell)
for the hall's heatmap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rooms.expo.layout import HallPlan

__all__ = ["BoothPresence", "SlotVisit", "PresenceChange", "HeatGrid"]

MAX_EID = 65536


@dataclass(frozen=True, slots=True)
class SlotVisit:
    slot: int
    user_id: str
    started_at: int
    ended_at: int


@dataclass(slots=True)
class PresenceChange:
    """What one sample changed."""

    moved: dict[int, int] = field(default_factory=dict)
    """eid → its new slot (−1: at no booth) for avatars whose slot changed."""
    slots: set[int] = field(default_factory=set)
    """Slots whose set of people changed."""
    visits: list[SlotVisit] = field(default_factory=list)
    """Stays that ended and were long enough to count."""


class HeatGrid:
    """Position samples counted per ``cell`` × ``cell`` metres over a hall's bounds."""

    def __init__(self, min_x: float, max_x: float, min_z: float, max_z: float,
                 cell: float = 1.0) -> None:
        self.min_x, self.min_z, self.cell = min_x, min_z, cell
        self.nx = max(1, int(np.ceil((max_x - min_x) / cell)))
        self.nz = max(1, int(np.ceil((max_z - min_z) / cell)))
        self.counts = np.zeros((self.nz, self.nx), dtype=np.int64)
        self.samples = 0

    def add(self, x: npt.NDArray[np.float64], z: npt.NDArray[np.float64]) -> None:
        ix = np.clip(((x - self.min_x) / self.cell).astype(np.int64), 0, self.nx - 1)
        iz = np.clip(((z - self.min_z) / self.cell).astype(np.int64), 0, self.nz - 1)
        np.add.at(self.counts.reshape(-1), iz * self.nx + ix, 1)
        self.samples += 1

    def take(self) -> npt.NDArray[np.int64]:
        """The counts gathered since the last take (the grid starts again from zero)."""
        out = self.counts
        self.counts = np.zeros_like(out)
        self.samples = 0
        return out


class BoothPresence:
    def __init__(self, plan: HallPlan, *, min_visit_ms: int = 3000, heat_cell: float = 1.0) -> None:
        self.plan = plan
        self.min_visit_ms = min_visit_ms
        self._slot = np.full(MAX_EID, -1, dtype=np.int16)
        self._since: dict[int, int] = {}
        self._user: dict[int, str] = {}
        self.at: list[dict[int, int]] = [{} for _ in plan.slot_ids]
        """Per slot: eid → since (ms) of everyone in its zone now."""
        lay = plan.layout
        self.heat = HeatGrid(lay.min_x, lay.max_x, lay.min_z, lay.max_z, heat_cell)

    def slot_of(self, eid: int) -> int:
        return int(self._slot[eid]) if 0 <= eid < MAX_EID else -1

    def sample(self, now_ms: int, eids: npt.NDArray[np.int64], x: npt.NDArray[np.float64],
               z: npt.NDArray[np.float64], user_of: Callable[[int], str]) -> PresenceChange:
        """Positions of every avatar in the room now; ``user_of(eid)`` is its user id (asked
        only for avatars that entered a zone)."""
        change = PresenceChange()
        if eids.shape[0]:
            self.heat.add(x, z)
        new = self.plan.zone_of(x, z) if eids.shape[0] else np.zeros(0, np.int64)
        prev = self._slot[eids].astype(np.int64)
        diff = np.flatnonzero(prev != new)
        for i in diff.tolist():
            eid, before, after = int(eids[i]), int(prev[i]), int(new[i])
            self._end(eid, before, now_ms, change)
            if after >= 0:
                self.at[after][eid] = now_ms
                self._since[eid] = now_ms
                self._user[eid] = user_of(eid)
                change.slots.add(after)
            self._slot[eid] = after
            change.moved[eid] = after
        return change

    def _end(self, eid: int, slot: int, now_ms: int, change: PresenceChange) -> None:
        if slot < 0:
            return
        self.at[slot].pop(eid, None)
        change.slots.add(slot)
        since = self._since.pop(eid, now_ms)
        user = self._user.pop(eid, "")
        if user and now_ms - since >= self.min_visit_ms:
            change.visits.append(SlotVisit(slot, user, since, now_ms))

    def leave(self, eid: int, now_ms: int) -> PresenceChange:
        """The avatar left the room: its stay (if any) ends now."""
        change = PresenceChange()
        if 0 <= eid < MAX_EID and self._slot[eid] >= 0:
            self._end(eid, int(self._slot[eid]), now_ms, change)
            self._slot[eid] = -1
            change.moved[eid] = -1
        return change

    def close(self, now_ms: int) -> PresenceChange:
        """End every stay (the room is closing)."""
        change = PresenceChange()
        for eid in [e for slot in self.at for e in slot]:
            part = self.leave(eid, now_ms)
            change.visits += part.visits
            change.slots |= part.slots
        return change

    def present(self, slot: int) -> dict[int, int]:
        return self.at[slot] if 0 <= slot < len(self.at) else {}
