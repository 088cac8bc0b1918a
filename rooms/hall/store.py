"""What the hall needs from durable storage. The server implements it with SQLAlchemy
(``server/hall_store.py``); every method commits before it returns, so an acked change survives a
crash, and the methods that race (issuing, claiming, booking) are atomic in the database itself,
so several server processes may share one database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol

from rooms.hall.models import (
    Appointment,
    Catalogue,
    CounterDef,
    CounterState,
    HallPolicy,
    IssueRequest,
    Rating,
    ServiceDef,
    Ticket,
)

__all__ = ["HallStore"]


class HallStore(Protocol):
    # -- catalogue -----------------------------------------------------------------------
    async def load_catalogue(self) -> Catalogue | None:
        """The stored catalogue (inactive entries included); None before the first import."""

    async def save_catalogue(self, catalogue: Catalogue, *, replace: bool) -> None:
        """Upsert every service, counter, synonym group and the policy; with ``replace``,
        deactivate services and counters the catalogue does not list."""

    async def put_service(self, service: ServiceDef) -> None: ...

    async def put_counter(self, counter: CounterDef) -> None: ...

    async def put_policy(self, policy: HallPolicy) -> None: ...

    async def counter_states(self) -> dict[str, CounterState]: ...

    async def set_counter_state(self, counter_id: str, state: CounterState) -> None: ...

    # -- tickets -------------------------------------------------------------------------
    async def active_tickets(self) -> list[Ticket]:
        """Every ticket that is waiting, called or being served."""

    async def get_ticket(self, ticket_id: str) -> Ticket | None: ...

    async def issue(self, req: IssueRequest) -> Ticket:
        """Allocate the next number of the service for ``req.day`` and store a waiting ticket.
        Raises ``ActiveTicketExists`` when the user already holds an active one for the service."""

    async def claim_next(self, counter_id: str, service_ids: Sequence[str], staff_id: str,
                         now: int) -> Ticket | None:
        """Atomically move the first waiting ticket (priority, then FIFO) of ``service_ids`` to
        ``called`` at the counter. Two callers never get the same ticket. Raises ``CounterBusy``
        when the counter already has a called or serving ticket."""

    async def update_ticket(self, ticket_id: str, expect: Collection[str],
                            values: dict[str, Any]) -> Ticket:
        """Set ``values`` (column → value) and bump ``version`` if the status is in ``expect``;
        raises ``UnknownTicket`` or ``TicketStateChanged``."""

    async def transfer(self, ticket_id: str, expect: Collection[str], now: int,
                       req: IssueRequest) -> tuple[Ticket, Ticket]:
        """In one transaction: finish the ticket as transferred and issue ``req`` (which keeps
        the old ``sort_key`` and ``priority``). If the user already holds an active ticket for
        the new service, that one is moved up instead. Returns (old, new)."""

    async def recent_service_times(self, service_id: str, limit: int) -> list[float]:
        """Seconds from arrival (or call) to finish of the last ``limit`` served tickets, oldest
        first."""

    async def tickets_since(self, since: int) -> list[Ticket]: ...

    # -- ratings -------------------------------------------------------------------------
    async def rate(self, rating: Rating) -> None:
        """Store a rating; raises ``AlreadyRated`` on a second one for the ticket."""

    async def ratings_since(self, since: int) -> list[Rating]: ...

    # -- appointments --------------------------------------------------------------------
    async def book(self, appointment: Appointment, capacity: int) -> Appointment:
        """Take one place of the slot if fewer than ``capacity`` are taken. Raises ``SlotFull``,
        or ``AlreadyBooked`` when the user holds a booked appointment for the service."""

    async def slot_usage(self, service_id: str, start: int, end: int) -> dict[int, int]:
        """Booked places per slot start in [start, end)."""

    async def get_appointment(self, appointment_id: str) -> Appointment | None: ...

    async def cancel_appointment(self, appointment_id: str, now: int) -> Appointment:
        """Cancel a booked appointment and free its place; ``TicketStateChanged`` otherwise."""

    async def appointments_of(self, user_id: str) -> list[Appointment]:
        """The user's booked appointments, soonest first."""

    async def due_appointments(self, now: int) -> list[Appointment]:
        """Booked appointments whose slot has started."""

    async def issue_for_appointment(self, appointment_id: str, req: IssueRequest) -> Ticket | None:
        """Mark the appointment issued and issue its priority ticket (or move the user's active
        ticket of the service up) in one transaction; None if it was no longer booked."""
