"""Fakes and builders for expo tests: a settable clock, a recording notifier, a service on a
real SQLite (or PostgreSQL) database, rooms without sockets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rooms.base import RoomContext, RoomOptions
from rooms.client import Client
from rooms.expo import ExpoPolicy, ExpoRoom, ExpoService
from server.db.engine import Database
from server.expo_store import SqlExpoStore
from tests.hall.fakes import Clock, Person, add_person

__all__ = ["Clock", "Person", "add_person", "Notifier", "Outbox", "Env", "make_env", "room_of",
           "seat"]


@dataclass
class Notifier:
    sent: list[tuple[str, str, Any]] = field(default_factory=list)
    emitted: list[tuple[str, str, Any]] = field(default_factory=list)
    online: dict[str, list[Client]] = field(default_factory=dict)

    def to_user(self, user_id: str, event: str, data: Any) -> int:
        self.sent.append((user_id, event, data))
        return len(self.online.get(user_id, [])) or 1

    def clients(self, user_id: str) -> list[Client]:
        return list(self.online.get(user_id, []))

    def emit(self, sid: str, event: str, data: Any) -> None:
        self.emitted.append((sid, event, data))

    def of(self, user_id: str, event: str) -> list[Any]:
        return [d for u, e, d in self.sent if u == user_id and e == event]


@dataclass
class Outbox:
    sent: list[tuple[str, str, Any]] = field(default_factory=list)

    def emit(self, sid: str, event: str, data: Any) -> None:
        self.sent.append((sid, event, data))

    def send_snap(self, sid: str, snap: bytes) -> None:
        pass

    def backlogged(self, sid: str) -> bool:
        return False

    def disconnect(self, sid: str) -> None:
        pass


@dataclass
class Env:
    db: Database
    svc: ExpoService
    notifier: Notifier
    clock: Clock

    async def person(self, name: str, roles: str = "citizen") -> Person:
        return await add_person(self.db, name, roles)

    async def admin(self) -> Person:
        return await self.person("Organiser", "admin")

    async def exhibitor(self, name: str, slot: str, company: str | None = None) -> tuple[Person, str]:
        """An exhibitor account tied to the booth in ``slot`` of the demo hall: (person, booth)."""
        p = await self.person(name, "exhibitor")
        booth = await self.svc.assign(_ADMIN, "demo", None, slot, company or f"{name} Ltd", p)
        return p, booth.id


_ADMIN = Person("system-admin", "Admin", ("admin",))


async def make_env(url: str, policy: ExpoPolicy | None = None, seed: bool = True) -> Env:
    db = Database(url)
    await db.migrate()
    from server.directory import seed_rooms

    await seed_rooms(db, True)
    clock = Clock()
    notifier = Notifier()
    svc = ExpoService(SqlExpoStore(db), notifier, clock=clock, policy=policy)
    await svc.start(seed_demo=seed)
    return Env(db, svc, notifier, clock)


async def room_of(env: Env, room_id: str = "expo:demo") -> ExpoRoom:
    ctx = RoomContext(outbox=Outbox(), clock=env.clock, services={"expo": env.svc})
    opts = RoomOptions(room_id, "expo", {"zh-CN": "x", "en": "x"}, 2000)
    room = ExpoRoom(opts, 1, ctx)
    await room._create()
    return room


async def seat(room: ExpoRoom, person: Person, sid: str | None = None) -> Client:
    """A connected client of ``person`` inside ``room``."""
    c = Client(sid=sid or f"sid-{person.id[:8]}", user=person, lang="en")
    await room._join(c, {})
    c.ready = True
    return c
