"""Group commit for the hall's writes.

Every acknowledged hall change must be on disk first. On SQLite (``synchronous=FULL``) each
commit costs an fsync and there is one writer at a time. Two things would then cap the hall:
one transaction per change (one fsync each), and, with the async driver, one event-loop
round trip per SQL statement, which on a loop busy with thousands of sockets costs
milliseconds each. So on SQLite the writes run in one writer thread with a plain (sync)
connection: whatever is queued when the previous commit ends goes into the next transaction
(``BEGIN IMMEDIATE``), each operation inside its own SAVEPOINT so that one operation's failure
(a unique index saying "you already hold a ticket") rolls back only that operation, and one
fsync covers the batch. The event loop is woken once per batch.

On PostgreSQL each operation runs in its own transaction (``run_sync`` on the async engine):
the server commits concurrent transactions together by itself and row locks settle races.

An operation is a plain function ``(Connection) -> T`` that only raises protocol errors
(``MetahallError``) or integrity errors, which become the caller's ``conflict()``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.exc import IntegrityError

from rooms.errors import MetahallError
from server.db.engine import Database, _sqlite_pragmas

__all__ = ["WriteRunner", "Op"]

log = logging.getLogger("metahall.hall")

T = TypeVar("T")
Op = Callable[[Connection], T]
Conflict = Callable[[], MetahallError]
MAX_BATCH = 512
_Outcome = tuple[Any, BaseException | None]


class WriteRunner:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[tuple[Op[Any], Conflict, asyncio.Future[Any]]] = []
        self._drain: asyncio.Task[None] | None = None
        self.batches = 0
        self.ops = 0
        self._thread: ThreadPoolExecutor | None = None
        if db.is_sqlite:
            self._engine = create_engine(db.url.replace("+aiosqlite", ""), pool_size=1)
            event.listen(self._engine, "connect", _sqlite_pragmas)
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hall-writer")

    async def write(self, op: Op[T], conflict: Conflict) -> T:
        """Run ``op`` in a committed transaction; an integrity error becomes ``conflict()``."""
        if self._thread is None:
            try:
                async with self.db.engine.begin() as conn:
                    return await conn.run_sync(op)
            except IntegrityError as exc:
                raise conflict() from exc
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((op, conflict, fut))
        if self._drain is None:
            self._drain = asyncio.create_task(self._run(), name="hall-group-commit")
        return await asyncio.shield(fut)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                work = [(op, conflict) for op, conflict, _ in batch]
                try:
                    outcomes = await loop.run_in_executor(self._thread, self._commit, work)
                except Exception as exc:  # the commit failed: nothing of this batch is stored
                    log.exception("hall group commit failed ops=%d", len(batch))
                    for _, _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                self.batches += 1
                self.ops += len(batch)
                for (_, _, fut), (result, err) in zip(batch, outcomes, strict=True):
                    if fut.done():
                        continue
                    if err is None:
                        fut.set_result(result)
                    else:
                        fut.set_exception(err)
        finally:
            self._drain = None

    def _commit(self, work: list[tuple[Op[Any], Conflict]]) -> list[_Outcome]:
        """In the writer thread: one transaction, one SAVEPOINT per operation."""
        out: list[_Outcome] = []
        with self._engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            for op, conflict in work:
                try:
                    with conn.begin_nested():
                        out.append((op(conn), None))
                except IntegrityError as exc:
                    mapped = conflict()
                    mapped.__cause__ = exc
                    out.append((None, mapped))
                except MetahallError as exc:
                    out.append((None, exc))
            conn.commit()
        return out

    async def close(self) -> None:
        """Wait for queued writes to commit, then stop the writer thread."""
        if self._drain is not None:
            await asyncio.gather(self._drain, return_exceptions=True)
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._engine.dispose()
            self._thread = None
