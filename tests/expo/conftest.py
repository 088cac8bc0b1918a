from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.expo.fakes import Env, make_env


@pytest.fixture(scope="session")
def seeded_expo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with the demo expo, built once; each test gets a copy."""
    path = tmp_path_factory.mktemp("expo-template") / "expo.db"

    async def build() -> None:
        e = await make_env(f"sqlite+aiosqlite:///{path}")
        async with e.db.engine.begin() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await e.db.close()

    asyncio.run(build())
    return path


@pytest.fixture
async def env(tmp_path: Path, seeded_expo_db: Path) -> AsyncIterator[Env]:
    shutil.copyfile(seeded_expo_db, tmp_path / "expo.db")
    e = await make_env(f"sqlite+aiosqlite:///{tmp_path / 'expo.db'}")
    try:
        yield e
    finally:
        await e.db.close()
