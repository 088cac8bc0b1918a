"""Floor plans: bounds, spawn area and the features the client draws. The server owns them."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Layout", "HALL_LAYOUT", "EXPO_LAYOUT", "SOCIAL_LAYOUT"]


@dataclass(frozen=True, slots=True)
class Layout:
    min_x: float
    max_x: float
    min_z: float
    max_z: float
    spawn_area: tuple[float, float, float, float]
    """x0, x1, z0, z1: joins are placed at a random point inside, to avoid stacking."""
    spawn_yaw: float = 0.0
    features: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def spawn(self, rng: random.Random) -> list[float]:
        x0, x1, z0, z1 = self.spawn_area
        return [round(rng.uniform(x0, x1), 2), 0.0, round(rng.uniform(z0, z1), 2), self.spawn_yaw]

    def to_wire(self, room_id: str, kind: str) -> dict[str, Any]:
        cx = (self.spawn_area[0] + self.spawn_area[1]) / 2
        cz = (self.spawn_area[2] + self.spawn_area[3]) / 2
        return {
            "id": room_id,
            "kind": kind,
            "bounds": {"min_x": self.min_x, "max_x": self.max_x,
                       "min_z": self.min_z, "max_z": self.max_z},
            "spawn": [cx, 0.0, cz, self.spawn_yaw],
            "features": list(self.features),
        }


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def _hall_features() -> tuple[dict[str, Any], ...]:
    f: list[dict[str, Any]] = []
    # Counters along the north wall, each with a numbered sign above it.
    for i in range(12):
        x = -49.5 + i * 9
        f.append({"type": "counter", "id": f"c{i + 1}", "x": x, "z": -33, "w": 6, "d": 1.2, "h": 1.1,
                  "label": _label(f"{i + 1}号窗口", f"Counter {i + 1}"), "color": "#2f6f9f"})
        f.append({"type": "sign", "id": f"s{i + 1}", "x": x, "z": -35.5, "w": 4, "d": 0.2, "h": 4,
                  "label": _label(f"{i + 1}", f"{i + 1}")})
    f.append({"type": "desk", "id": "guide", "x": 0, "z": 18, "w": 8, "d": 2, "h": 1.1,
              "label": _label("咨询引导台", "Guide desk"), "color": "#c8843a"})
    f.append({"type": "sign", "id": "welcome", "x": 0, "z": 38.5, "w": 20, "d": 0.3, "h": 5,
              "label": _label("市民服务中心", "Citizen Service Hall")})
    # Waiting area: rows of seats in the middle of the hall.
    for row in range(4):
        for block in (-1, 1):
            f.append({"type": "seating", "x": block * 18, "z": -8 + row * 5, "w": 22, "d": 1.2,
                      "h": 0.5, "color": "#5b7c99"})
    f.append({"type": "sign", "id": "waiting", "x": 0, "z": -12, "w": 10, "d": 0.2, "h": 3,
              "label": _label("等候区", "Waiting area")})
    for x, z in ((-55, 35), (55, 35), (-55, -20), (55, -20), (-30, 25), (30, 25)):
        f.append({"type": "plant", "x": x, "z": z, "w": 1.5, "d": 1.5, "h": 2})
    return tuple(f)


def _expo_features() -> tuple[dict[str, Any], ...]:
    f: list[dict[str, Any]] = [
        {"type": "stage", "id": "stage", "x": 0, "z": -40, "w": 30, "d": 12, "h": 1,
         "label": _label("主舞台", "Main stage"), "color": "#3a3f6b"},
    ]
    colors = ("#d9534f", "#5cb85c", "#5bc0de", "#f0ad4e", "#8e6bbf", "#3fb5a3")
    n = 0
    for row in range(5):
        for col in range(12):
            n += 1
            f.append({"type": "booth", "id": f"b{n}", "x": -66 + col * 12, "z": -16 + row * 12,
                      "w": 8, "d": 6, "h": 3, "color": colors[n % len(colors)],
                      "label": _label(f"展位 {n}", f"Booth {n}")})
    return tuple(f)


def _social_features() -> tuple[dict[str, Any], ...]:
    f: list[dict[str, Any]] = []
    for i in range(8):
        a = i * math.pi / 4
        x, z = 12 * math.cos(a), 12 * math.sin(a)
        # benches face the centre of the plaza
        f.append({"type": "seating", "x": round(x, 2), "z": round(z, 2), "w": 3, "d": 1, "h": 0.5,
                  "yaw": round(math.atan2(-x, -z), 3), "color": "#8a6f5a"})
    for x, z in ((-25, -25), (25, -25), (-25, 25), (25, 25), (0, -28), (0, 28)):
        f.append({"type": "plant", "x": x, "z": z, "w": 2, "d": 2, "h": 2.5})
    return tuple(f)


# yaw 0 faces +z (three.js); pi faces -z, toward the counters and the stage.
HALL_LAYOUT = Layout(-60, 60, -40, 40, spawn_area=(-8, 8, 26, 34), spawn_yaw=math.pi,
                     features=_hall_features())
EXPO_LAYOUT = Layout(-80, 80, -50, 50, spawn_area=(-8, 8, 40, 46), spawn_yaw=math.pi,
                     features=_expo_features())
SOCIAL_LAYOUT = Layout(-35, 35, -35, 35, spawn_area=(-6, 6, -6, 6), features=_social_features())
