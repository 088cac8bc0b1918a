"""The floor plan of a social space: the plaza (benches, plants) plus four tables.

Tables are drawn by the client as labelled desks and appear in its *Places* list, so one can
walk to them; ``rooms.social.tables`` makes them private rooms.
"""

from __future__ import annotations

import math
from typing import Any

from rooms.layouts import SOCIAL_LAYOUT, Layout
from rooms.social.tables import TableSpec

__all__ = ["TABLES", "SOCIAL_SPACE_LAYOUT"]

_TABLE_COLORS = ("#c0392b", "#16a085", "#8e44ad", "#d35400")
# Between the benches (which stand every 45° on a 12 m circle), so the way from the middle of
# the plaza to each table is clear.
TABLES: tuple[TableSpec, ...] = tuple(
    TableSpec(id=tid, label={"zh-CN": f"{tid} 桌", "en": f"Table {tid}"},
              x=round(21 * math.cos(a), 2), z=round(21 * math.sin(a), 2))
    for tid, a in zip("ABCD", (math.radians(202.5 + 90 * i) for i in range(4)), strict=True)
)


def _table_features() -> tuple[dict[str, Any], ...]:
    out: list[dict[str, Any]] = []
    for t, color in zip(TABLES, _TABLE_COLORS, strict=True):
        yaw = round(math.atan2(-t.x, -t.z), 3)  # the front faces the plaza's centre
        out.append({"type": "desk", "id": f"table-{t.id}", "table": t.id, "x": t.x, "z": t.z,
                    "w": 3.2, "d": 1.6, "h": 0.8, "yaw": yaw, "color": color,
                    "label": t.label})
    return tuple(out)


SOCIAL_SPACE_LAYOUT = Layout(
    SOCIAL_LAYOUT.min_x, SOCIAL_LAYOUT.max_x, SOCIAL_LAYOUT.min_z, SOCIAL_LAYOUT.max_z,
    spawn_area=SOCIAL_LAYOUT.spawn_area, spawn_yaw=SOCIAL_LAYOUT.spawn_yaw,
    features=SOCIAL_LAYOUT.features + _table_features(),
)
