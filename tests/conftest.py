from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.helpers import LiveServer, drop_postgres_databases, start_server


@pytest.fixture(scope="session", autouse=True)
def _postgres_databases() -> Iterator[None]:
    """METAHALL_TEST_POSTGRES=1 runs the servers on PostgreSQL; their databases go at the end."""
    yield
    import asyncio

    asyncio.run(drop_postgres_databases())


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await start_server(tmp_path)
    try:
        yield live
    finally:
        await live.close()
