"""The service hall: catalogue, guide desk, queues and counters, appointments, ratings, stats.

Domain code only: storage is the ``HallStore`` protocol (implemented in ``server/hall_store.py``)
and people are reached through the ``Notifier`` protocol.
"""

from __future__ import annotations

from rooms.hall.catalogue import parse_catalogue
from rooms.hall.events import EVENTS, hall_handlers
from rooms.hall.models import Catalogue, HallPolicy
from rooms.hall.notifier import Notifier, PresenceNotifier
from rooms.hall.path import FloorPlanner, rects_from_features
from rooms.hall.room import HallRoom
from rooms.hall.service import HallService
from rooms.hall.store import HallStore

__all__ = ["HallRoom", "HallService", "HallStore", "Notifier", "PresenceNotifier", "Catalogue",
           "HallPolicy", "FloorPlanner", "rects_from_features", "parse_catalogue",
           "hall_handlers", "EVENTS", "hall_planner"]


def hall_planner() -> FloorPlanner:
    """The path planner for the hall floor plan."""
    lay = HallRoom.layout
    return FloorPlanner((lay.min_x, lay.max_x, lay.min_z, lay.max_z),
                        rects_from_features(lay.features))
