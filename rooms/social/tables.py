"""Tables: private rooms inside a space. The people at a table hear only each other (voice) and
share a chat channel ``table:<id>``; people outside hear none of them.

One sits down with ``table.join`` standing within ``join_radius`` of the table, and is stood up
by ``table.leave`` or by walking more than ``keep_radius`` away. The first person at a table is
its host and may close it to newcomers (``table.lock``); so may the space's hosts. An emptied
table opens again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rooms.social.errors import NotHost, TableFull, TableLocked, TableUnknown, TooFar

__all__ = ["TableSpec", "Tables"]


@dataclass(frozen=True, slots=True)
class TableSpec:
    id: str
    """Short id, used in ``table:<id>`` and events."""
    label: dict[str, str]
    x: float
    z: float
    seats: int = 8
    join_radius: float = 4.0
    """Stand this close to the table's centre to sit down."""
    keep_radius: float = 7.0
    """Walking farther than this stands you up."""


class Tables:
    """Who sits where in one room instance (by eid)."""

    def __init__(self, specs: Iterable[TableSpec]) -> None:
        self.specs = {t.id: t for t in specs}
        self.members: dict[str, list[int]] = {t: [] for t in self.specs}
        """Table id → eids, in the order they sat down (the first is the table's host)."""
        self.locked: dict[str, bool] = dict.fromkeys(self.specs, False)
        self._zone: dict[int, str] = {}

    def zone_of(self, eid: int) -> str | None:
        """The table ``eid`` sits at, or None (the open floor)."""
        return self._zone.get(eid)

    def seated(self) -> list[int]:
        """Every eid sitting at some table."""
        return list(self._zone)

    def spec(self, table_id: object) -> TableSpec:
        if not isinstance(table_id, str) or table_id not in self.specs:
            raise TableUnknown()
        return self.specs[table_id]

    def join(self, eid: int, table_id: object, x: float, z: float, *,
             host: bool = False) -> tuple[str, str | None]:
        """Sit ``eid`` down at a table; returns (table, table left for it or None).

        ``host``: a space host may sit at a closed table."""
        t = self.spec(table_id)
        if math.hypot(x - t.x, z - t.z) > t.join_radius:
            raise TooFar(f"Walk within {t.join_radius:g} m of the table first.",
                         distance_m=round(math.hypot(x - t.x, z - t.z), 1))
        if self._zone.get(eid) == t.id:
            return t.id, None
        if self.locked[t.id] and not host:
            raise TableLocked()
        if len(self.members[t.id]) >= t.seats:
            raise TableFull()
        left = self.leave(eid)
        self.members[t.id].append(eid)
        self._zone[eid] = t.id
        return t.id, left

    def leave(self, eid: int) -> str | None:
        """Stand ``eid`` up; returns the table it left, if any."""
        table = self._zone.pop(eid, None)
        if table is not None:
            self.members[table].remove(eid)
            if not self.members[table]:
                self.locked[table] = False
        return table

    def lock(self, eid: int, locked: bool, *, host: bool = False) -> str:
        """Close or open the table ``eid`` sits at (its host, or a space host)."""
        table = self._zone.get(eid)
        if table is None:
            raise TableUnknown("Sit at a table first.")
        if not host and self.members[table][0] != eid:
            raise NotHost("Only the first person at the table (or a host) can close it.")
        self.locked[table] = locked
        return table

    def sweep(self, position: Callable[[int], tuple[float, float]]) -> set[str]:
        """Stand up everyone who walked away; returns the tables that changed."""
        changed: set[str] = set()
        for eid, table in list(self._zone.items()):
            t = self.specs[table]
            x, z = position(eid)
            if math.hypot(x - t.x, z - t.z) > t.keep_radius:
                self.leave(eid)
                changed.add(table)
        return changed

    def to_wire(self, table_id: str, who: Callable[[int], dict[str, Any] | None]) -> dict[str, Any]:
        t = self.specs[table_id]
        people = [p for p in (who(e) for e in self.members[table_id]) if p is not None]
        return {"id": t.id, "label": t.label, "x": t.x, "z": t.z, "seats": t.seats,
                "locked": self.locked[table_id], "members": people}
