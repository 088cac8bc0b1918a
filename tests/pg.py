"""A throw-away PostgreSQL database per test (CI has PostgreSQL at 127.0.0.1:5432, user postgres)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

PG_HOST = os.environ.get("METAHALL_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("METAHALL_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("METAHALL_TEST_PG_USER", "postgres")


def postgres_available() -> bool:
    import asyncpg

    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER,
                                         database="postgres", timeout=3)
        except (TimeoutError, OSError, asyncpg.PostgresError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """Create a new empty database, yield its SQLAlchemy URL, drop it afterwards."""
    import asyncpg

    name = "metahall_test_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
