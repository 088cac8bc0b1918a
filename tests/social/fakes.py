"""Fakes for the social room tests: a room with a recording outbox, a controllable clock, and a
way to put an avatar somewhere (by walking it there within the speed limit)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rooms.base import RoomContext, RoomOptions
from rooms.client import Client
from rooms.social.room import SocialRoom
from tests.rooms.fakes import Clock, FakeOutbox, FakeUser

__all__ = ["Hooks", "World", "make_world"]


@dataclass
class Hooks:
    """Stands in for the server's social service (``SocialHooks``)."""

    muted: set[tuple[str, str]] = field(default_factory=set)
    hosts: set[str] = field(default_factory=set)
    left: list[str] = field(default_factory=list)

    def space_muted(self, room_id: str, user_id: str) -> bool:
        return (room_id, user_id) in self.muted

    def is_host(self, room_id: str, user_id: str, roles: tuple[str, ...]) -> bool:
        return user_id in self.hosts

    def room_left(self, room: Any, client: Client) -> None:
        self.left.append(client.user.id)


@dataclass
class World:
    room: SocialRoom
    outbox: FakeOutbox
    clock: Clock
    hooks: Hooks
    tick: int = 0
    n: int = 0

    async def join(self, name: str, user_id: str | None = None,
                   roles: tuple[str, ...] = ("citizen",)) -> Client:
        self.n += 1
        uid = user_id or f"u{self.n:02d}"
        client = Client(sid=f"s-{name}-{self.n}", user=FakeUser(uid, name, roles))
        await self.room._join(client, {})
        client.ready = True
        return client

    async def step(self, ticks: int = 1) -> None:
        for _ in range(ticks):
            self.tick += 1
            await self.room._tick(self.tick)

    async def place(self, client: Client, x: float, z: float) -> None:
        """Walk ``client`` to (x, z) in 5 m hops a second apart (always within the speed clamp)."""
        for _ in range(60):
            cx, _, cz, *_ = self.room.world.position(client.eid)
            d = math.hypot(x - cx, z - cz)
            if d < 0.01:
                return
            k = min(1.0, 5.0 / d)
            self.clock.now += 1.0
            self.room.world.move(client.eid, [cx + (x - cx) * k, 0.0, cz + (z - cz) * k, 0.0, 0],
                                 self.clock.now * 1000)
            await self.step()
        raise AssertionError(f"could not reach {(x, z)}")

    async def voice(self) -> None:
        """Run ticks until the next voice update has happened."""
        await self.step(self.room.voice_every_ticks)

    def got(self, client: Client, event: str) -> list[Any]:
        return self.outbox.to(client.sid, event)

    def clear(self) -> None:
        self.outbox.sent.clear()


async def make_world(room_id: str = "social:test", capacity: int = 50) -> World:
    outbox, clock, hooks = FakeOutbox(), Clock(), Hooks()
    ctx = RoomContext(outbox=outbox, clock=clock, services={"social": hooks})
    room = SocialRoom(RoomOptions(room_id, "social", {"zh-CN": "测试", "en": "Test"}, capacity),
                      1, ctx)
    await room._create()
    return World(room, outbox, clock, hooks)
