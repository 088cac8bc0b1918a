"""Queue order and ETA: FIFO with appointment priority, and an EWMA of service times.

Pure logic, no I/O: the mirror of the waiting tickets (``HallState``) and the tests use it.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from dataclasses import dataclass

from rooms.hall.models import Ticket

__all__ = ["ServiceQueue", "ServiceTimeEstimator", "Eta", "estimate_wait", "quantize_eta"]

OrderKey = tuple[int, int, int, str]


class ServiceQueue:
    """The waiting tickets of one service in call order: priority first, then ``sort_key``
    (issue time; slot start for appointments; the original issue time after a transfer)."""

    __slots__ = ("_keys", "_by_id")

    def __init__(self) -> None:
        self._keys: list[OrderKey] = []
        self._by_id: dict[str, OrderKey] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._by_id

    def add(self, ticket: Ticket) -> None:
        self.remove(ticket.id)
        key = ticket.order
        insort(self._keys, key)
        self._by_id[ticket.id] = key

    def remove(self, ticket_id: str) -> bool:
        key = self._by_id.pop(ticket_id, None)
        if key is None:
            return False
        i = bisect_left(self._keys, key)
        del self._keys[i]
        return True

    def position(self, ticket_id: str) -> int | None:
        """1 for the next to be called; None when not waiting here."""
        key = self._by_id.get(ticket_id)
        return None if key is None else bisect_left(self._keys, key) + 1

    def head(self) -> OrderKey | None:
        return self._keys[0] if self._keys else None

    def ids(self) -> list[str]:
        return [k[3] for k in self._keys]


class ServiceTimeEstimator:
    """Exponentially weighted mean and variance of recent service times (seconds)."""

    __slots__ = ("mean", "var", "alpha", "count")

    def __init__(self, initial_s: float, alpha: float = 0.2) -> None:
        self.mean = float(initial_s)
        self.var = (0.5 * initial_s) ** 2
        self.alpha = alpha
        self.count = 0

    @property
    def sd(self) -> float:
        return math.sqrt(max(self.var, 0.0))

    def observe(self, seconds: float) -> None:
        """Fold in one service time; outliers (a ticket left open over lunch) are clipped."""
        x = min(max(seconds, 1.0), 4 * self.mean + 600)
        d = x - self.mean
        self.mean += self.alpha * d
        self.var = (1 - self.alpha) * (self.var + self.alpha * d * d)
        self.count += 1


@dataclass(frozen=True, slots=True)
class Eta:
    eta_s: int
    lo_s: int
    hi_s: int


def estimate_wait(position: int, mean_s: float, sd_s: float, servers: float,
                  idle: int = 0) -> Eta:
    """Expected wait until called, with an ~80% range.

    ``position - 1`` people are ahead; ``servers`` is the counter capacity devoted to this
    service (a counter serving three services counts a third). The one in service right now
    has on average half a service left. With n services to wait for, shared by k counters, the
    wait is n·mean/k with standard deviation √n·sd/k (independent service times).
    """
    if position <= idle:
        return Eta(0, 0, 0)
    k = max(servers, 0.25)
    n = (position - 1 - idle) + 0.5
    m = n * mean_s / k
    s = math.sqrt(n) * sd_s / k
    return Eta(int(round(m)), int(max(0.0, m - 1.28 * s)), int(round(m + 1.28 * s)))


def quantize_eta(seconds: int) -> int:
    """ETAs change a little with every finished ticket; clients are told only about steps."""
    step = 10 if seconds < 600 else 60
    return int(round(seconds / step) * step)
