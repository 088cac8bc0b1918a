"""Floor plans of expo halls: a grid of booth slots and an optional stage, built from a
``HallSpec``. The demo hall's spec reproduces ``rooms.layouts.EXPO_LAYOUT`` exactly.

Plan (north is −z, where the stage is; people arrive at the south end)::

    ┌──────────── STAGE_MARGIN ────────────┐
    │             [   stage   ]            │  stage (w 30, d 12), its front STAGE_GAP from row 1
    │   b1   b2   b3 …                     │  row 1 (booths open to +z, toward the entrance)
    │   b13  b14  …                        │
    │                                      │  ENTRY_DEPTH beyond the last row's front
    │               (spawn)                │
    └──────────────────────────────────────┘

The *zone* of a booth is where a visitor counts as "at the booth": its footprint grown by
``ZONE_SIDE`` to each side and ``ZONE_FRONT`` in front (its open side). Specs are checked so
that zones never overlap and aisles stay walkable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rooms.expo.errors import BadExpoSpec
from rooms.expo.models import Booth, HallSpec
from rooms.layouts import Layout

__all__ = ["HallPlan", "plan_hall", "DEMO_HALL", "BOOTH_COLORS", "check_spec", "ZONE_FRONT",
           "ZONE_SIDE"]

BOOTH_COLORS = ("#d9534f", "#5cb85c", "#5bc0de", "#f0ad4e", "#8e6bbf", "#3fb5a3")
BOOTH_H = 3.0
STAGE_W, STAGE_D, STAGE_H = 30.0, 12.0, 1.0
STAGE_MARGIN = 4.0
"""Between the back wall and the stage."""
STAGE_GAP = 15.0
"""Between the stage's front and the back walls of the first row: the audience area."""
NORTH_MARGIN = 10.0
"""Between the back wall and the first row when there is no stage."""
SIDE_MARGIN = 10.0
ENTRY_DEPTH = 15.0
ZONE_FRONT = 3.0
ZONE_SIDE = 1.0
MIN_AISLE_X = 2.0
"""Free space between booths of a row, beyond their zones' side margins."""
MIN_AISLE_Z = 2.5
"""Free space between a row's zones and the back walls of the next row."""

DEMO_HALL = HallSpec(id="main", room_id="expo:demo", name={"zh-CN": "主展厅", "en": "Main hall"},
                     rows=5, cols=12)


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def check_spec(spec: HallSpec) -> None:
    """Raise ``BadExpoSpec`` unless the grid makes a walkable hall."""
    if not 1 <= spec.rows <= 10 or not 1 <= spec.cols <= 20:
        raise BadExpoSpec("a hall has 1..10 rows and 1..20 columns of booths", field="halls")
    for name, value, lo, hi in (("booth_w", spec.booth_w, 4, 12), ("booth_d", spec.booth_d, 4, 10),
                                ("pitch_x", spec.pitch_x, 6, 30), ("pitch_z", spec.pitch_z, 8, 30)):
        if not math.isfinite(value) or not lo <= value <= hi:
            raise BadExpoSpec(f"{name} must be in {lo}..{hi} metres", field="halls")
    if spec.pitch_x < spec.booth_w + 2 * ZONE_SIDE + MIN_AISLE_X:
        raise BadExpoSpec("pitch_x leaves no aisle between booths: make it at least "
                          f"booth_w + {2 * ZONE_SIDE + MIN_AISLE_X:g}", field="halls")
    if spec.pitch_z < spec.booth_d + ZONE_FRONT + MIN_AISLE_Z:
        raise BadExpoSpec("pitch_z leaves no aisle between rows: make it at least "
                          f"booth_d + {ZONE_FRONT + MIN_AISLE_Z:g}", field="halls")


@dataclass(frozen=True, slots=True)
class HallPlan:
    """The geometry of one hall: its ``Layout`` (bounds, spawn, base features) and the booth
    slots with their zones as arrays (slot i ↔ feature ``b<i+1>``)."""

    spec: HallSpec
    layout: Layout
    slot_ids: tuple[str, ...]
    centres: npt.NDArray[np.float64]
    """(n, 2) x, z of each slot's centre."""
    zones: npt.NDArray[np.float64]
    """(n, 4) x0, x1, z0, z1 of each slot's zone."""
    stage: dict[str, Any] | None

    def slot_index(self, slot: str) -> int:
        try:
            return self.slot_ids.index(slot)
        except ValueError:
            return -1

    def zone_of(self, x: npt.NDArray[np.float64], z: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """For each point: the index of the slot whose zone holds it, or −1. Zones are disjoint,
        so the slot is found by arithmetic on the grid (column and row), not by testing all."""
        s = self.spec
        col = np.floor((x - (self.centres[0, 0] - s.pitch_x / 2)) / s.pitch_x).astype(np.int64)
        # Rows of cells are centred on the zones (which reach ZONE_FRONT beyond the booth front).
        oz = self.centres[0, 1] - s.booth_d / 2 - (s.pitch_z - s.booth_d - ZONE_FRONT) / 2
        row = np.floor((z - oz) / s.pitch_z).astype(np.int64)
        ok = (col >= 0) & (col < s.cols) & (row >= 0) & (row < s.rows)
        idx = np.where(ok, row * s.cols + col, 0)
        zn = self.zones[idx]
        inside = ok & (zn[:, 0] <= x) & (x <= zn[:, 1]) & (zn[:, 2] <= z) & (z <= zn[:, 3])
        return np.where(inside, idx, -1)

    def zone_of_point(self, x: float, z: float) -> int:
        return int(self.zone_of(np.array([x]), np.array([z]))[0])

    def approach(self, slot: str) -> tuple[float, float]:
        """Where to stand to visit a booth: in the middle of its open front."""
        i = self.slot_index(slot)
        x, z = self.centres[i]
        return (round(float(x), 2), round(float(z + self.spec.booth_d / 2 + 1.5), 2))

    def audience_spot(self) -> tuple[float, float] | None:
        """Where to stand to watch the stage: mid-way across the audience area, facing it."""
        if self.stage is None:
            return None
        front = float(self.stage["z"]) + float(self.stage["d"]) / 2
        return (round(float(self.stage["x"]), 2), round(front + STAGE_GAP / 2, 2))

    def features(self, booths: dict[str, Booth]) -> list[dict[str, Any]]:
        """The floor plan's features with the booths' names, colours and banners filled in."""
        out: list[dict[str, Any]] = []
        for f in self.layout.features:
            b = booths.get(f.get("id", "")) if f["type"] == "booth" else None
            if b is None:
                out.append(f)
                continue
            g = dict(f, booth_id=b.id, color=b.color, label=dict(b.name), category=b.category)
            out.append(g)
            if b.banner.get("zh-CN") or b.banner.get("en"):
                g["banner"] = dict(b.banner)
                # The banner stands at the booth's open front, as a two-sided sign.
                out.append({"type": "sign", "id": f"{f['id']}-banner", "booth_id": b.id,
                            "x": _tidy(f["x"] - f["w"] / 2 + 1.7),
                            "z": _tidy(f["z"] + f["d"] / 2 - 0.35), "w": 2.4, "d": 0.1,
                            "h": 2.3, "label": dict(b.banner), "color": b.color})
        return out

    def to_wire(self, booths: dict[str, Booth]) -> dict[str, Any]:
        wire = self.layout.to_wire(self.spec.room_id, "expo")
        wire["features"] = self.features(booths)
        wire["expo"] = {"hall": self.spec.id, "zone": {"front": ZONE_FRONT, "side": ZONE_SIDE}}
        return wire


def plan_hall(spec: HallSpec) -> HallPlan:
    """Build the geometry of a hall from its spec (checked first)."""
    check_spec(spec)
    s = spec
    north = STAGE_MARGIN + STAGE_D + STAGE_GAP if s.stage else NORTH_MARGIN
    depth = north + s.booth_d + (s.rows - 1) * s.pitch_z + ENTRY_DEPTH
    min_z = -depth / 2
    max_z = depth / 2
    z0 = min_z + north + s.booth_d / 2
    x0 = -(s.cols - 1) * s.pitch_x / 2
    half_w = max(-x0 + s.booth_w / 2 + SIDE_MARGIN, STAGE_W / 2 + SIDE_MARGIN if s.stage else 0)
    features: list[dict[str, Any]] = []
    stage: dict[str, Any] | None = None
    if s.stage:
        stage = {"type": "stage", "id": "stage", "x": 0, "z": min_z + STAGE_MARGIN + STAGE_D / 2,
                 "w": STAGE_W, "d": STAGE_D, "h": STAGE_H,
                 "label": _label("主舞台", "Main stage"), "color": "#3a3f6b"}
        features.append(stage)
    centres, zones, ids = [], [], []
    n = 0
    for row in range(s.rows):
        for col in range(s.cols):
            n += 1
            x, z = x0 + col * s.pitch_x, z0 + row * s.pitch_z
            x, z = _tidy(x), _tidy(z)
            features.append({"type": "booth", "id": f"b{n}", "x": x, "z": z, "w": s.booth_w,
                             "d": s.booth_d, "h": BOOTH_H, "color": BOOTH_COLORS[n % len(BOOTH_COLORS)],
                             "label": _label(f"展位 {n}", f"Booth {n}")})
            ids.append(f"b{n}")
            centres.append((x, z))
            zones.append((x - s.booth_w / 2 - ZONE_SIDE, x + s.booth_w / 2 + ZONE_SIDE,
                          z - s.booth_d / 2, z + s.booth_d / 2 + ZONE_FRONT))
    spawn_z0 = max_z - 10.0
    layout = Layout(_tidy(-half_w), _tidy(half_w), _tidy(min_z), _tidy(max_z),
                    spawn_area=(-8.0, 8.0, _tidy(spawn_z0), _tidy(spawn_z0 + 6.0)),
                    spawn_yaw=math.pi, features=tuple(features))
    return HallPlan(spec, layout, tuple(ids), np.array(centres, dtype=np.float64).reshape(-1, 2),
                    np.array(zones, dtype=np.float64).reshape(-1, 4), stage)


def _tidy(v: float) -> float:
    """Integers stay integers on the wire (``-66`` not ``-66.0``)."""
    r = round(v, 3)
    return int(r) if r == int(r) else r
