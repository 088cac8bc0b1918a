"""The database briefly unavailable: clear errors, nothing half-written, recovery without restart.

PostgreSQL: a loopback TCP proxy sits between the server and 127.0.0.1:5432; cutting it closes
every connection and refuses new ones for a few seconds while clients keep acting. SQLite:
another connection holds an exclusive lock longer than the server's busy timeout. Either way
clients get ``unavailable`` (HTTP 503, zh/en texts), the failed writes leave no trace (no
ticket, no number used up, no report), and once the database is back the same server process
serves again.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from sqlalchemy import func, select

from server.db.models import HallTicketRow, Report, User
from tests.hall.fakes import live_token
from tests.helpers import LiveServer, RecordingClient, connect, requires_service, start_server
from tests.pg import PG_HOST, PG_PORT, PG_USER, fresh_database, postgres_available

OUTAGE_S = 3.0
SERVICE = "housing_fund"


class TcpProxy:
    """127.0.0.1:<port> → the database. ``cut()`` closes everything and refuses new
    connections; ``restore()`` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port,
                                                 reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers.update((writer, up_w))
        for coro in (self._pipe(reader, up_w), self._pipe(up_r, writer)):
            task = asyncio.create_task(coro)
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in list(self.writers):
            w.close()
        self.writers.clear()
        await self.server.wait_closed()
        self.server = None

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        if self.server is not None:
            await self.cut()
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def _assert_unavailable(ack: dict[str, Any]) -> None:
    assert ack["ok"] is False, ack
    err = ack["error"]
    assert err["code"] == "unavailable", err
    assert err["texts"]["zh-CN"] and err["texts"]["en"], err


async def _http_guest(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/auth/guest", json={"display_name": "Visitor"},
                             timeout=aiohttp.ClientTimeout(total=30)) as r:
            return r.status, await r.json()


async def _refused_connect(url: str, token: str) -> dict[str, Any]:
    """What a new Socket.IO connection is told when the server cannot check its account."""
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    got: list[Any] = []
    sio.on("connect_error", got.append)
    try:
        await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
    except socketio.exceptions.ConnectionError:
        pass
    else:
        await sio.disconnect()
        raise AssertionError("connected while the database was down")
    assert got, "no connect_error"
    return dict(got[0])


async def _counts(live: LiveServer) -> tuple[int, int, int]:
    async with live.app.db.session() as s:
        tickets = (await s.execute(select(func.count()).select_from(HallTicketRow))).scalar_one()
        reports = (await s.execute(select(func.count()).select_from(Report))).scalar_one()
        users = (await s.execute(select(func.count()).select_from(User))).scalar_one()
    return int(tickets), int(reports), int(users)


async def outage_scenario(live: LiveServer, down: Callable[[], Awaitable[None]],
                          up: Callable[[], Awaitable[None]], *,
                          reads_down: bool) -> dict[str, float]:
    app = live.app
    tokens = [await live_token(app, f"citizen{i}") for i in range(3)]
    clients: list[RecordingClient] = [await connect(live.url, tok) for tok, _ in tokens]
    try:
        first = await clients[0].call("queue.take", {"service_id": SERVICE})
        assert first["ok"], first
        waiting_before = len(app.hall.state.queues[SERVICE])
        before = await _counts(live)

        await down()
        t_down = time.perf_counter()
        # While it is down: socket events and HTTP both say "unavailable", quickly and clearly.
        take = await clients[1].call("queue.take", {"service_id": SERVICE}, timeout=30)
        _assert_unavailable(take)
        report = await clients[2].call("report", {"user_id": tokens[0][1],
                                                  "reason": "during the outage"}, timeout=30)
        _assert_unavailable(report)
        status, body = await _http_guest(live.url)
        assert status == 503 and body["error"]["code"] == "unavailable", (status, body)
        if reads_down:  # (a locked SQLite still serves reads: signing in works there)
            refused = await _refused_connect(live.url, tokens[2][0])
            refused = refused.get("data", refused)
            assert refused.get("code") == "unavailable" and refused["texts"]["zh-CN"], refused
        # Nothing half-done in memory either: no ticket for the failed take.
        assert all(t.user_id != tokens[1][1] for t in app.hall.state.tickets.values())
        mine = await clients[1].call("queue.mine", {}, timeout=30)  # reads appointments too
        assert mine.get("tickets") == [] or mine["error"]["code"] == "unavailable", mine
        assert len(app.hall.state.queues[SERVICE]) == waiting_before
        left = OUTAGE_S - (time.perf_counter() - t_down)
        if left > 0:
            await asyncio.sleep(left)

        await up()
        t_up = time.perf_counter()
        outage_s = t_up - t_down
        # The same process serves again, without a restart.
        ack: dict[str, Any] = {}
        for _ in range(300):  # bounded: at most ~30 s
            ack = await clients[1].call("queue.take", {"service_id": SERVICE}, timeout=30)
            if ack.get("ok"):
                break
            _assert_unavailable(ack)
            await asyncio.sleep(0.1)
        recovery_s = time.perf_counter() - t_up
        assert ack.get("ok"), ack
        # The failed take used no number: numbering continues right after the first ticket.
        assert int(ack["ticket"]["number"][1:]) == int(first["ticket"]["number"][1:]) + 1
        assert ack["ticket"]["position"] == waiting_before + 1
        report = await clients[2].call("report", {"user_id": tokens[0][1],
                                                  "reason": "after the outage"})
        assert report["ok"], report
        status, body = await _http_guest(live.url)
        assert status == 200 and body["token"], body
        assert (await clients[0].call("queue.mine", {}))["tickets"][0]["id"] == \
            first["ticket"]["id"]
        # Exactly the acknowledged writes are stored: one ticket, one report, one guest more.
        after = await _counts(live)
        assert after == (before[0] + 1, before[1] + 1, before[2] + 1)
        fresh = await connect(live.url, (await live_token(app, "late"))[0])
        assert (await fresh.call("queue.take", {"service_id": SERVICE}))["ok"]
        await fresh.close()
        return {"outage_s": round(outage_s, 2), "recovery_s": round(recovery_s, 3)}
    finally:
        for c in clients:
            with contextlib.suppress(Exception):
                await c.close()


@pytest.mark.postgres
@requires_service("PostgreSQL", postgres_available())
async def test_postgresql_cut_off_and_back_without_restart(tmp_path: Path) -> None:
    proxy = TcpProxy(PG_HOST, PG_PORT)
    await proxy.start()
    try:
        async with fresh_database() as url:
            via_proxy = url.replace(f"@{PG_HOST}:{PG_PORT}/", f"@127.0.0.1:{proxy.port}/")
            assert via_proxy != url and PG_USER in via_proxy
            live = await start_server(tmp_path, database_url=via_proxy)
            try:
                figures = await outage_scenario(live, proxy.cut, proxy.restore, reads_down=True)
            finally:
                await live.close()
    finally:
        await proxy.close()
    print(f"postgresql outage {figures}")


async def test_sqlite_locked_database_and_back_without_restart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METAHALL_SQLITE_BUSY_MS", "400")
    live = await start_server(tmp_path)
    holder: list[sqlite3.Connection] = []

    async def lock() -> None:
        path = live.app.settings.effective_database_url.split("///", 1)[1]
        conn = sqlite3.connect(path, timeout=10, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")  # every writer now waits, then gives up
        holder.append(conn)

    async def unlock() -> None:
        conn = holder.pop()
        conn.execute("COMMIT")
        conn.close()

    try:
        figures = await outage_scenario(live, lock, unlock, reads_down=False)
    finally:
        for conn in holder:
            conn.close()
        await live.close()
    print(f"sqlite lock {figures}")


def test_outages_map_to_unavailable_and_bugs_do_not() -> None:
    import redis.exceptions
    from sqlalchemy import exc as sa

    from server.errors import http_status, unavailable_from

    locked = sa.OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
    refused = redis.exceptions.ConnectionError("Error 111 connecting")
    refused.__context__ = ConnectionRefusedError(111, "Connection refused")
    for exc in (locked, refused, ConnectionResetError(), OSError("Multiple exceptions: ..."),
                sa.InterfaceError("SELECT 1", {}, Exception("connection is closed"))):
        mapped = unavailable_from(exc)
        assert mapped is not None and mapped.code == "unavailable", exc
        assert http_status(mapped) == 503
        assert set(mapped.to_wire()["texts"]) == {"zh-CN", "en"}
    for exc in (sa.IntegrityError("INSERT ...", {}, Exception("UNIQUE")), ValueError("x"),
                KeyError("k"), FileNotFoundError("f"), sa.ProgrammingError("x", {}, Exception())):
        assert unavailable_from(exc) is None, exc
