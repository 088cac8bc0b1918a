"""Engine and session factory, with the SQLite pragmas that make a file database safe under load."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine

__all__ = ["Database", "MIGRATIONS_DIR"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def busy_timeout_ms() -> int:
    """How long a SQLite statement waits for a lock before failing as ``unavailable``
    (``METAHALL_SQLITE_BUSY_MS``, default 10 s)."""
    try:
        return max(50, min(600_000, int(os.environ.get("METAHALL_SQLITE_BUSY_MS", "10000"))))
    except ValueError:
        return 10_000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers run beside the one writer; synchronous=FULL keeps every acked write on disk.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms()}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Database:
    """Owns the async engine and hands out sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("postgresql+asyncpg"):
            # A database that is down answers within seconds (then ``unavailable``), not after
            # asyncpg's default minute; pre-ping replaces connections the outage broke.
            kwargs["connect_args"] = {"timeout": 10}
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)

    async def startup_lock(self) -> AsyncConnection | None:
        """On PostgreSQL, wait for and hold the start-up lock (release with
        :meth:`startup_unlock`) so processes starting together migrate and seed one at a time."""
        if self.is_sqlite:
            return None
        conn = await self.engine.connect()
        await conn.execute(text("SELECT pg_advisory_lock(7243101)"))
        await conn.commit()
        return conn

    @staticmethod
    async def startup_unlock(conn: AsyncConnection | None) -> None:
        if conn is None or conn.closed:
            return
        await conn.execute(text("SELECT pg_advisory_unlock(7243101)"))
        await conn.commit()
        await conn.close()

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade, self.url)

    async def close(self) -> None:
        await self.engine.dispose()


def _upgrade(connection: Connection, url: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
