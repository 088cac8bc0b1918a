"""The hall's errors. Each subclasses a protocol error, so the ack carries its wire ``code``."""

from __future__ import annotations

from rooms.errors import BadRequest, Conflict, Forbidden, NotFound

__all__ = [
    "UnknownService", "UnknownCounter", "UnknownTicket", "UnknownAppointment", "ServiceClosed",
    "NotYourTicket", "StaffOnly", "AdminOnly", "NotYourCounter", "ActiveTicketExists",
    "TicketStateChanged", "AlreadyRated", "CounterBusy", "CounterClosed", "SlotFull",
    "AlreadyBooked", "BadSlot", "CatalogueError",
]


# -- unknown things (not_found) ------------------------------------------------------------
class UnknownService(NotFound):
    """No such service."""


class UnknownCounter(NotFound):
    """No such counter."""


class UnknownTicket(NotFound):
    """No such ticket."""


class UnknownAppointment(NotFound):
    """No such appointment."""


# -- who may do it (forbidden) ---------------------------------------------------------------
class NotYourTicket(Forbidden):
    """That ticket belongs to someone else."""


class StaffOnly(Forbidden):
    """Only staff can do this."""


class AdminOnly(Forbidden):
    """Only the hall manager (admin) can do this."""


class NotYourCounter(Forbidden):
    """Another staff member holds that counter."""


# -- state (conflict) ------------------------------------------------------------------------
class ServiceClosed(Conflict):
    """That service takes no tickets now."""


class ActiveTicketExists(Conflict):
    """You already hold a ticket for that service."""


class TicketStateChanged(Conflict):
    """The ticket is no longer in a state that allows this."""


class AlreadyRated(Conflict):
    """You already rated this ticket."""


class CounterBusy(Conflict):
    """The counter is still serving a ticket; finish it first."""


class CounterClosed(Conflict):
    """The counter is closed."""


class SlotFull(Conflict):
    """That time slot is fully booked."""


class AlreadyBooked(Conflict):
    """You already hold an appointment for that service."""


# -- input (bad_request) -----------------------------------------------------------------------
class BadSlot(BadRequest):
    """That is not a bookable time slot."""


class CatalogueError(BadRequest):
    """The catalogue is invalid."""
