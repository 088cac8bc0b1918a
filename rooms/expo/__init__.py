"""The cloud expo: expos with halls of booth slots, booth profiles, presence at booths, leads,
meetings and analytics (the stage lives in ``rooms/stage``).

Domain code only: storage is the ``ExpoStore`` protocol (``server/expo_store.py``), people are
reached through ``ExpoNotifier``, texts pass a ``TextGate`` (moderation), and uploads are checked
and stored by the server (``server/expo_uploads.py``) before the service records them.
"""

from __future__ import annotations

from rooms.expo.events import EVENTS, expo_handlers
from rooms.expo.layout import DEMO_HALL, HallPlan, plan_hall
from rooms.expo.models import Booth, Expo, FileRef, HallSpec, Lead, Meeting, Slot, Visit
from rooms.expo.presence import BoothPresence, PresenceChange
from rooms.expo.room import ExpoRoom
from rooms.expo.service import ExpoNotifier, ExpoPolicy, ExpoService, TextGate
from rooms.expo.store import ExpoStore, Heat, Loaded, VisitStats

__all__ = [
    "ExpoRoom", "ExpoService", "ExpoPolicy", "ExpoNotifier", "ExpoStore", "TextGate", "EVENTS",
    "expo_handlers", "HallPlan", "plan_hall", "DEMO_HALL", "Booth", "Expo", "FileRef",
    "HallSpec", "Lead", "Meeting", "Slot", "Visit", "BoothPresence", "PresenceChange", "Heat",
    "Loaded", "VisitStats",
]
