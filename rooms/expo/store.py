"""What the expo needs from storage. ``server/expo_store.py`` implements it with SQLAlchemy;
races (a slot booked twice, a booth slot assigned twice, one lead per visitor and booth) are
settled by the database's constraints, so they hold across server processes too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from rooms.expo.models import Booth, Expo, FileRef, Lead, Meeting, Slot, Visit

__all__ = ["ExpoStore", "Loaded", "VisitStats", "Heat"]


@dataclass(frozen=True, slots=True)
class Loaded:
    expos: list[Expo]
    booths: list[Booth]
    """With their live files."""
    exhibitors: dict[str, tuple[str, str]]
    """user id → (booth id, display name)"""


@dataclass(frozen=True, slots=True)
class VisitStats:
    visits: int
    unique_visitors: int
    dwell_ms_total: int


@dataclass(frozen=True, slots=True)
class Heat:
    cell: float
    min_x: float
    min_z: float
    counts: npt.NDArray[np.int64]
    """(nz, nx)"""
    samples: int


class ExpoStore(Protocol):
    async def load(self) -> Loaded: ...

    # -- organiser ----------------------------------------------------------------------
    async def create_expo(self, expo: Expo, *, existing_rooms_ok: bool = False) -> None:
        """Insert the expo and one public=False room per hall; ``ExpoExists`` when taken."""

    async def update_expo(self, expo: Expo) -> None: ...

    async def set_published(self, expo: Expo) -> None:
        """Store ``expo.published`` and make its rooms (un)listed."""

    async def create_booth(self, booth: Booth) -> None:
        """``BoothTaken`` when the hall's slot already has a booth."""

    async def add_exhibitor(self, user_id: str, booth_id: str, expo_id: str, by: str | None,
                            now: int) -> None:
        """``ExhibitorElsewhere`` when the account already runs another booth."""

    async def remove_exhibitor(self, user_id: str) -> bool: ...

    # -- booth profile and files ---------------------------------------------------------
    async def save_profile(self, booth: Booth) -> None: ...

    async def add_file(self, ref: FileRef, path: str, thumb_path: str | None) -> None: ...

    async def get_file(self, file_id: str) -> tuple[FileRef, str, str | None] | None:
        """A live file with its stored path (and thumbnail path), or None."""

    async def delete_file(self, file_id: str, now: int) -> tuple[str, str | None] | None:
        """Mark it deleted; returns its paths so the caller removes the bytes."""

    # -- visitors ---------------------------------------------------------------------------
    async def put_lead(self, lead: Lead) -> Lead:
        """Insert, or replace the contact and consent of the visitor's lead at that booth."""

    async def delete_lead(self, booth_id: str, user_id: str) -> bool: ...

    async def leads(self, booth_id: str) -> list[Lead]: ...

    async def leads_of(self, user_id: str) -> list[Lead]: ...

    async def set_favourite(self, user_id: str, booth_id: str, on: bool, now: int) -> None: ...

    async def favourites(self, user_id: str) -> list[str]: ...

    # -- meetings -------------------------------------------------------------------------
    async def add_slots(self, slots: Sequence[Slot]) -> None:
        """All or none; ``SlotOccupied`` when an open slot of the booth starts at the same time."""

    async def get_slot(self, slot_id: str) -> Slot | None: ...

    async def slots(self, booth_id: str, since: int) -> list[tuple[Slot, bool]]:
        """Open slots ending after ``since``, with whether each is booked."""

    async def cancel_slot(self, slot_id: str, by: str, now: int) -> Meeting | None:
        """Cancel the slot and its meeting (returned, cancelled) if it had one."""

    async def book(self, meeting: Meeting) -> None:
        """``SlotTaken`` when the slot has a booked meeting; ``AlreadyBookedHere`` when the
        visitor holds a booked meeting with the booth."""

    async def get_meeting(self, meeting_id: str) -> Meeting | None: ...

    async def cancel_meeting(self, meeting_id: str, by: str, now: int) -> Meeting | None:
        """Cancel a booked meeting; None when it was not booked any more."""

    async def meetings(self, *, booth_id: str | None = None, user_id: str | None = None,
                       since: int = 0) -> list[Meeting]:
        """Booked meetings ending after ``since`` of a booth, or where the user is the visitor
        or the staff member."""

    async def live_meetings(self, start_before: int, end_after: int) -> list[Meeting]:
        """Booked meetings starting before ``start_before`` and ending after ``end_after``."""

    async def mark_meeting(self, meeting_id: str, column: str, now: int) -> bool:
        """Set ``reminded_at`` or ``opened_at`` if still unset; True for the one caller that did."""

    # -- analytics ------------------------------------------------------------------------
    async def add_visits(self, visits: Sequence[Visit]) -> None: ...

    async def visit_stats(self, booth_id: str, since: int) -> VisitStats: ...

    async def counts(self, booth_id: str, since: int) -> tuple[int, int]:
        """(leads, booked meetings) created since ``since``."""

    async def add_heat(self, room_id: str, heat: Heat) -> None:
        """Add counts to the room's stored grid (same geometry)."""

    async def heat(self, room_id: str) -> Heat | None: ...
