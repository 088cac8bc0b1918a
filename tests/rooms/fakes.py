"""Fakes for room tests: a recording outbox and an in-memory directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rooms.base import RoomContext, RoomOptions
from rooms.client import Client
from rooms.registry import RoomRegistry
from rooms.relay import RelayRoom


class FakeOutbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.stalled: set[str] = set()

    def emit(self, sid: str, event: str, data: Any) -> None:
        self.sent.append((sid, event, data))

    def send_snap(self, sid: str, snap: bytes) -> None:
        self.sent.append((sid, "snap", snap))

    def backlogged(self, sid: str) -> bool:
        return sid in self.stalled

    def disconnect(self, sid: str) -> None:
        self.sent.append((sid, "_disconnect", None))

    def to(self, sid: str, event: str) -> list[Any]:
        return [d for s, e, d in self.sent if s == sid and e == event]


class FakeDirectory:
    def __init__(self, *options: RoomOptions) -> None:
        self.rooms = {o.room_id: o for o in options}

    async def get(self, room_id: str) -> RoomOptions | None:
        return self.rooms.get(room_id)


@dataclass(frozen=True)
class FakeUser:
    id: str
    display_name: str
    roles: tuple[str, ...] = ("citizen",)


@dataclass
class Clock:
    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now


def make_registry(*options: RoomOptions, clock: Clock | None = None) -> tuple[RoomRegistry, FakeOutbox]:
    outbox = FakeOutbox()
    ctx = RoomContext(outbox=outbox, clock=clock or Clock())
    reg = RoomRegistry(FakeDirectory(*options), ctx)
    reg.define("social", RelayRoom)
    return reg, outbox


def relay_options(room_id: str = "social:test", capacity: int = 10, **extra: Any) -> RoomOptions:
    return RoomOptions(room_id, "social", {"zh-CN": "测试", "en": "Test"}, capacity, extra=extra)


_n = 0


def make_client(name: str = "u") -> Client:
    global _n
    _n += 1
    return Client(sid=f"sid{_n}", user=FakeUser(f"user{_n}", name))


@dataclass
class Joined:
    clients: list[Client] = field(default_factory=list)
