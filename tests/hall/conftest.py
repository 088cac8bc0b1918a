from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rooms.hall import HallService, hall_planner
from server.db.engine import Database
from server.hall_setup import SEED_FILE, load_catalogue_file
from server.hall_store import SqlHallStore
from tests.hall.fakes import Clock, FakeNotifier, Person, add_person

PLANNER = hall_planner()


@dataclass
class HallEnv:
    db: Database
    store: SqlHallStore
    hall: HallService
    notifier: FakeNotifier
    clock: Clock

    async def person(self, name: str, roles: str = "citizen") -> Person:
        return await add_person(self.db, name, roles)

    async def restart(self) -> HallService:
        """A fresh service on the same database, as after a server restart."""
        self.notifier = FakeNotifier()
        self.hall = HallService(self.store, self.notifier, planner=PLANNER, clock=self.clock)
        await self.hall.start()
        return self.hall


async def make_env(url: str) -> HallEnv:
    db = Database(url)
    await db.migrate()
    store = SqlHallStore(db)
    notifier = FakeNotifier()
    clock = Clock()
    hall = HallService(store, notifier, planner=PLANNER, clock=clock)
    await hall.start(seed=load_catalogue_file(SEED_FILE))
    return HallEnv(db, store, hall, notifier, clock)


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated and seeded database file, built once; each test gets a copy."""
    path = tmp_path_factory.mktemp("hall-template") / "hall.db"

    async def build() -> None:
        e = await make_env(f"sqlite+aiosqlite:///{path}")
        await e.store.close()
        async with e.db.engine.begin() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await e.db.close()

    asyncio.run(build())
    return path


@pytest.fixture
async def env(tmp_path: Path, seeded_sqlite: Path) -> AsyncIterator[HallEnv]:
    shutil.copyfile(seeded_sqlite, tmp_path / "hall.db")
    e = await make_env(f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}")
    try:
        yield e
    finally:
        await e.store.close()
        await e.db.close()
