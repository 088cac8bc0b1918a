"""Independent reference implementations for the avatars tests: brute-force AoI and a client."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import msgpack
import numpy as np

from avatars import AvatarWorld

__all__ = ["brute_visible", "quantised", "Client", "decode_snap"]

TAU = 2.0 * math.pi


def quantised(world: AvatarWorld, eid: int) -> tuple[int, int, int, int, int]:
    """What a client should hold for ``eid``: cm positions, yaw 0..65535, anim."""
    x, y, z, yaw, anim = world.position(eid)
    cm = [int(np.rint(v * 100.0)) for v in (x, y, z)]
    return cm[0], cm[1], cm[2], int(np.rint(yaw * 65536.0 / TAU)) & 0xFFFF, anim


def brute_visible(world: AvatarWorld, eids: list[int]) -> dict[int, list[int]]:
    """For each observer: the K nearest others within R (XZ, cm), ties by lower eid."""
    r2 = math.floor((world.config.radius * 100.0) ** 2)
    q = {e: quantised(world, e) for e in eids}
    out = {}
    for o in eids:
        ox, _, oz, _, _ = q[o]
        near = sorted(((q[c][0] - ox) ** 2 + (q[c][2] - oz) ** 2, c) for c in eids if c != o)
        out[o] = [c for d2, c in near if d2 <= r2][: world.config.max_visible]
    return out


def decode_snap(snap: bytes) -> tuple[int, list[list[int]], list[int]]:
    """Decode one snap strictly: three items, ints only."""
    tick, rows, gone = msgpack.unpackb(snap, raw=False, strict_map_key=True)
    assert type(tick) is int and isinstance(rows, list) and isinstance(gone, list)
    for row in rows:
        assert len(row) == 6 and all(type(v) is int for v in row), row
    assert all(type(g) is int for g in gone)
    return tick, rows, gone


@dataclass
class Client:
    """What one observer's browser would hold, built only from enter/snap traffic."""

    eid: int
    known: dict[int, tuple[int, int, int, int, int]] = field(default_factory=dict)
    announced: set[int] = field(default_factory=set)
    last_tick: int = -1
    corrections: list[tuple[int, int, int, int, int]] = field(default_factory=list)

    def receive(self, snap: bytes | None, entered: list[int]) -> None:
        assert not set(entered) & set(self.known), "entered an eid already visible"
        self.announced |= set(entered)
        if snap is None:
            assert not entered, "entered without a snap holding them"
            return
        tick, rows, gone = decode_snap(snap)
        assert tick > self.last_tick
        self.last_tick = tick
        eids_in_rows = [r[0] for r in rows]
        assert len(eids_in_rows) == len(set(eids_in_rows)), "duplicate rows"
        assert set(entered) <= set(eids_in_rows), "entered entity missing from the snap"
        for g in gone:
            assert g in self.known, f"gone {g} was never visible"
            del self.known[g]
            self.announced.discard(g)
        for eid, *state in rows:
            if eid == self.eid:
                self.corrections.append(tuple(state))  # type: ignore[arg-type]
                continue
            assert eid in self.announced, f"row for {eid} before its enter"
            self.known[eid] = tuple(state)  # type: ignore[assignment]
        assert not set(gone) & set(self.known)
