"""The room kinds. Each feature (hall queue, expo booths, social spaces) grows its own class here."""

from __future__ import annotations

from rooms.base import Room
from rooms.expo.room import ExpoRoom  # the expo lives in rooms/expo
from rooms.hall.room import HallRoom  # the service hall lives in rooms/hall
from rooms.social.room import SocialRoom  # social spaces live in rooms/social

__all__ = ["HallRoom", "ExpoRoom", "SocialRoom", "ROOM_KINDS"]


ROOM_KINDS: dict[str, type[Room]] = {"hall": HallRoom, "expo": ExpoRoom, "social": SocialRoom}
