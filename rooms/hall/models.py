"""Value objects of the service hall: catalogue entries, tickets, appointments, ratings.

They are frozen: the store returns a fresh object after every change, and the in-memory mirror
keeps the one with the highest ``version``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = [
    "Localized", "Document", "ServiceDef", "CounterDef", "HallPolicy", "Catalogue",
    "TicketStatus", "Outcome", "Ticket", "IssueRequest", "CounterState", "Appointment",
    "AppointmentStatus", "Rating", "ACTIVE_STATUSES",
]

Localized = dict[str, str]
"""A text in both languages: ``{"zh-CN": ..., "en": ...}``."""


@dataclass(frozen=True, slots=True)
class Document:
    """A document a citizen should bring."""

    id: str
    name: Localized


@dataclass(frozen=True, slots=True)
class ServiceDef:
    """One service of the catalogue."""

    id: str
    prefix: str
    """Letters in front of the ticket number (``A`` → ``A012``)."""
    name: Localized
    description: Localized
    keywords: tuple[str, ...]
    """Words and phrases (Chinese and English) the guide desk matches."""
    documents: tuple[Document, ...]
    online: bool
    """True when the matter can be done fully online."""
    online_url: str | None = None
    avg_service_s: int = 300
    """Starting point of the ETA before any ticket of this service was served."""
    slot_minutes: int = 30
    appointable: bool = True
    active: bool = True
    sort: int = 0


@dataclass(frozen=True, slots=True)
class CounterDef:
    """A counter on the floor plan and the services it may serve."""

    id: str
    name: Localized
    x: float
    z: float
    service_ids: tuple[str, ...]
    appointments_per_slot: int = 1
    active: bool = True


@dataclass(frozen=True, slots=True)
class HallPolicy:
    """Hall-wide rules; the catalogue file's ``hall:`` section overrides the defaults."""

    timezone: str = "Asia/Shanghai"
    opens: str = "09:00"
    closes: str = "17:00"
    booking_days: int = 7
    no_show_s: float = 180.0
    """A called citizen who does not arrive within this time is a no-show."""
    grace_s: float = 300.0
    """A waiting citizen who is offline longer than this loses the ticket."""
    max_recalls: int = 3
    auto_next: bool = True
    """After a no-show timeout, call the next citizen for that counter."""
    arrive_radius_m: float = 4.0


@dataclass(frozen=True, slots=True)
class Catalogue:
    services: tuple[ServiceDef, ...]
    counters: tuple[CounterDef, ...]
    synonyms: tuple[tuple[str, ...], ...] = ()
    policy: HallPolicy = field(default_factory=HallPolicy)
    policy_given: bool = True
    """False when an import file has no ``hall:`` section: keep the stored policy."""


class TicketStatus(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    """Called to a counter; the citizen is on the way."""
    SERVING = "serving"
    """The citizen arrived at the counter."""
    DONE = "done"


class Outcome(enum.StrEnum):
    SERVED = "served"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    LEFT = "left"
    """The citizen left the queue."""
    EXPIRED = "expired"
    """The citizen was offline longer than the grace period."""


ACTIVE_STATUSES: tuple[str, ...] = (TicketStatus.WAITING, TicketStatus.CALLED,
                                    TicketStatus.SERVING)


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    number: str
    service_id: str
    user_id: str
    display_name: str
    status: str
    priority: int
    """1 for appointments: called before walk-ins."""
    sort_key: int
    """Unix ms that orders the queue (issue time; slot start for appointments; the original
    issue time after a transfer)."""
    seq: int
    day: str
    created_at: int
    version: int
    counter_id: str | None = None
    staff_id: str | None = None
    called_at: int | None = None
    recalls: int = 0
    recalled_at: int | None = None
    arrived_at: int | None = None
    finished_at: int | None = None
    outcome: str | None = None
    appointment_id: str | None = None
    transferred_from: str | None = None
    docs_checked: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.status != TicketStatus.DONE

    @property
    def order(self) -> tuple[int, int, int, str]:
        """Queue order: priority first, then FIFO."""
        return (-self.priority, self.sort_key, self.seq, self.id)


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """What the store needs to issue a ticket."""

    service_id: str
    prefix: str
    user_id: str
    display_name: str
    day: str
    now: int
    priority: int = 0
    sort_key: int | None = None
    appointment_id: str | None = None
    transferred_from: str | None = None


@dataclass(frozen=True, slots=True)
class CounterState:
    """The open/closed state of a counter (durable, survives restarts)."""

    open: bool = False
    staff_id: str | None = None
    service_ids: tuple[str, ...] = ()
    opened_at: int | None = None


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    ISSUED = "issued"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Appointment:
    id: str
    service_id: str
    user_id: str
    display_name: str
    start: int
    end: int
    status: str
    created_at: int
    ticket_id: str | None = None


@dataclass(frozen=True, slots=True)
class Rating:
    ticket_id: str
    user_id: str
    service_id: str
    counter_id: str | None
    staff_id: str | None
    score: int
    comment: str
    created_at: int
