"""Fakes and builders for hall tests: a recording notifier, a settable clock, users in the db."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rooms.client import Client
from server.db.engine import Database
from server.db.models import User, new_id


@dataclass(frozen=True)
class Person:
    id: str
    display_name: str
    roles: tuple[str, ...] = ("citizen",)


@dataclass
class Clock:
    now: float = 1_780_000_000.0  # a Tuesday, 2026-05-28 ~04:26 Asia/Shanghai

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeNotifier:
    sent: list[tuple[str, str, Any]] = field(default_factory=list)
    offline: set[str] = field(default_factory=set)
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    board: list[tuple[str, Any]] = field(default_factory=list)

    def to_user(self, user_id: str, event: str, data: Any) -> int:
        if user_id in self.offline:
            return 0
        self.sent.append((user_id, event, data))
        return 1

    def to_user_here(self, user_id: str, event: str, data: Any) -> int:
        return self.to_user(user_id, event, data)

    def online(self, user_id: str) -> bool:
        return user_id not in self.offline

    def where(self, user_id: str) -> tuple[float, float] | None:
        return self.positions.get(user_id)

    def to_hall(self, event: str, data: Any) -> None:
        self.board.append((event, data))

    def clients(self, user_id: str) -> list[Client]:
        return []

    def of(self, user_id: str, event: str) -> list[Any]:
        return [d for u, e, d in self.sent if u == user_id and e == event]


async def add_person(db: Database, name: str, roles: str = "citizen") -> Person:
    """A user row (tickets reference users) and the matching domain user."""
    async with db.session() as s, s.begin():
        row = User(id=new_id(), display_name=name, roles=roles, is_guest=True)
        s.add(row)
    return Person(row.id, name, tuple(roles.split(",")))


async def add_people(db: Database, n: int, prefix: str = "p",
                     roles: str = "citizen") -> list[Person]:
    """``n`` users in one transaction (one disk flush instead of ``n``)."""
    rows = [User(id=new_id(), display_name=f"{prefix}{i}", roles=roles, is_guest=True)
            for i in range(n)]
    async with db.session() as s, s.begin():
        s.add_all(rows)
    return [Person(r.id, r.display_name, tuple(roles.split(","))) for r in rows]


async def live_token(app: Any, name: str, roles: str = "citizen") -> tuple[str, str]:
    """A signed-in user of a live server with the given roles: (token, user id)."""
    person = await add_person(app.db, name, roles)
    return app.signer.issue(person.id, 0), person.id
