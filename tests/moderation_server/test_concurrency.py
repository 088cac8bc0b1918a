"""Audit appends from two server processes at once stay one unbroken chain (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from server.moderation_audit import verify_audit
from tests.helpers import guest, requires_service, start_server
from tests.moderation_server.conftest import account, api
from tests.pg import fresh_database, postgres_available


@asynccontextmanager
async def _database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
        return
    async with fresh_database() as url:
        yield url


@pytest.mark.parametrize("kind", [
    "sqlite",
    pytest.param("postgres", marks=[pytest.mark.postgres,
                                    requires_service("PostgreSQL", postgres_available())]),
])
async def test_two_processes_append_one_chain(kind: str, tmp_path: Path) -> None:
    async with _database(kind, tmp_path) as url:
        a = await start_server(tmp_path, database_url=url)
        b = await start_server(tmp_path, database_url=url)
        try:
            at, _ = await account(a, "moderator")
            _, user = await guest(a.url, "Target")

            async def warn(server: object, i: int) -> int:
                code, _ = await api(server, "POST", "/api/mod/actions", at,  # type: ignore[arg-type]
                                    {"action": "warn", "user_id": user["id"], "note": f"n{i}"})
                return code

            codes = await asyncio.gather(*(warn(a if i % 2 else b, i) for i in range(16)))
            assert codes == [201] * 16
            result = await verify_audit(a.app.db, a.app.mod.mdb.key)
            assert result.ok and result.checked == 16, result
        finally:
            await b.close()
            await a.close()
