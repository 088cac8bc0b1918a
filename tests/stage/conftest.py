"""Fixtures of the stage tests: a live server, users with roles, members of ``expo:demo``."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from server.db.models import User, new_id
from tests.helpers import LiveServer, RecordingClient, connect, start_server

ROOM = "expo:demo"
STAGE_SPOT = (0.0, -26.0)
"""In the stage area of the expo floor plan (the stage is at z = -40, the audience in front)."""


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Person:
    id: str
    token: str
    name: str


@dataclass
class StageEnv:
    server: LiveServer
    clients: list[RecordingClient]

    @property
    def app(self) -> Any:
        return self.server.app

    async def person(self, name: str, roles: str = "citizen") -> Person:
        async with self.app.db.session() as s, s.begin():
            row = User(id=new_id(), display_name=name, roles=roles, is_guest=True)
            s.add(row)
        return Person(row.id, self.app.signer.issue(row.id, 0), name)

    async def connect(self, who: Person, room: str | None = ROOM) -> RecordingClient:
        c = await connect(self.server.url, who.token)
        self.clients.append(c)
        if room is not None:
            ack = await c.call("join", {"room": room})
            assert ack["ok"], ack
        return c

    def teleport(self, who: Person, x: float, z: float) -> None:
        """Put a member's avatar at (x, z) at once (walking there would take seconds)."""
        for c in self.app.realtime.by_user[who.id]:
            room = c.room
            assert room is not None
            room.world.remove(c.eid)
            room.world.add(c.eid, x, 0.0, z, math.pi, time.time() * 1000)

    def to_stage(self, who: Person) -> None:
        self.teleport(who, *STAGE_SPOT)

    def configure(self, **changes: Any) -> None:
        desk = self.app.stage
        desk.config = replace(desk.config, **changes)

    async def talk(self, admin: RecordingClient, speaker_id: str, *, mode: str = "live",
                   start: int | None = None, minutes: int = 60, **extra: Any) -> dict[str, Any]:
        start = now_ms() - 60_000 if start is None else start
        ack = await admin.call("stage.create", {
            "room": ROOM, "title": {"zh-CN": "城市更新", "en": "City renewal"},
            "speaker_id": speaker_id, "start": start, "end": start + minutes * 60_000,
            "mode": mode, **extra})
        assert ack["ok"], ack
        return ack["talk"]  # type: ignore[no-any-return]


@pytest.fixture
async def stage(tmp_path: Path) -> AsyncIterator[StageEnv]:
    live = await start_server(tmp_path)
    env = StageEnv(live, [])
    try:
        yield env
    finally:
        for c in env.clients:
            try:
                await c.close()
            except Exception:  # already closed by the test
                pass
        await live.close()
