"""The room kinds. Each feature (hall queue, expo booths, social spaces) grows its own class here."""

from __future__ import annotations

from avatars import InterestConfig
from rooms.base import Room
from rooms.hall.room import HallRoom  # the service hall lives in rooms/hall
from rooms.layouts import EXPO_LAYOUT, SOCIAL_LAYOUT

__all__ = ["HallRoom", "ExpoRoom", "SocialRoom", "ROOM_KINDS"]


class ExpoRoom(Room):
    """An expo hall with rows of booths and a stage."""

    kind = "expo"
    layout = EXPO_LAYOUT


class SocialRoom(Room):
    """An open social space."""

    kind = "social"
    layout = SOCIAL_LAYOUT
    interest = InterestConfig(radius=30.0, max_visible=64)


ROOM_KINDS: dict[str, type[Room]] = {"hall": HallRoom, "expo": ExpoRoom, "social": SocialRoom}
