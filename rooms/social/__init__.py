"""Social spaces: spaces and their rules, invites, tables, the waiting line, proximity voice.

Domain code only: the server's social service stores spaces (``server/social_store.py``) and
wires the events (``server/social_service.py``); this package decides.
"""

from __future__ import annotations

from rooms.social.layout import SOCIAL_SPACE_LAYOUT, TABLES
from rooms.social.models import EMOTES, OVERFLOW, PRIVACY, STATUSES, Invite, Member, Space
from rooms.social.room import SocialHooks, SocialRoom
from rooms.social.tables import Tables, TableSpec
from rooms.social.voice import VoiceConfig, VoiceDiff, VoiceSelector, select_pairs
from rooms.social.waitline import WaitLine

__all__ = [
    "SocialRoom", "SocialHooks", "Space", "Member", "Invite", "PRIVACY", "OVERFLOW", "STATUSES",
    "EMOTES", "Tables", "TableSpec", "TABLES", "SOCIAL_SPACE_LAYOUT", "VoiceConfig", "VoiceDiff",
    "VoiceSelector", "select_pairs", "WaitLine",
]
