"""The foundation on PostgreSQL: migrations, accounts and a live join (never skipped in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import connect, guest, requires_service, start_server
from tests.pg import fresh_database, postgres_available

pytestmark = [pytest.mark.postgres, requires_service("PostgreSQL", postgres_available())]


async def test_server_runs_on_postgresql(tmp_path: Path) -> None:
    async with fresh_database() as url:
        live = await start_server(tmp_path, database_url=url)
        try:
            assert live.app.db.is_sqlite is False
            token, user = await guest(live.url, "pg-user")
            await live.app.accounts.register("pguser", "password1", "PG User")
            assert (await live.app.accounts.login("PGUSER", "password1")).display_name == "PG User"
            c = await connect(live.url, token)
            ack = await c.call("join", {"room": "hall:main"})
            assert ack["ok"] and ack["room"] == "hall:main"
            await c.close()
        finally:
            await live.close()
        # Migrations are idempotent: a second start on the same database works.
        again = await start_server(tmp_path, database_url=url)
        try:
            assert await again.app.accounts.count() == 2
        finally:
            await again.close()
