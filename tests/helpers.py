"""Shared test helpers: a live in-process server, guest sign-up and a recording Socket.IO client."""

from __future__ import annotations

import asyncio
import os
import socket
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from aiohttp import web

from server.app import App, create_app
from server.http_api import APP_KEY
from server.settings import Settings

__all__ = ["LiveServer", "start_server", "guest", "RecordingClient", "connect", "free_port",
           "requires_service", "wait_for", "drop_redis_prefix"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: App
    runner: web.AppRunner
    data_dir: Path

    async def close(self) -> None:
        await self.runner.cleanup()


PG_DATABASES: set[str] = set()
"""Databases made by :func:`postgres_for` in this test session (dropped at its end)."""


def _pg_name(data_dir: Path) -> str:
    import hashlib

    return "metahall_t_" + hashlib.sha1(str(data_dir).encode()).hexdigest()[:16]


def cli_env(data_dir: Path) -> dict[str, str]:
    """Environment for a ``metahall`` command on a test server's data: its data directory and,
    when the server runs on PostgreSQL (METAHALL_TEST_POSTGRES=1), its database."""
    from tests.pg import PG_HOST, PG_PORT, PG_USER

    env = {**os.environ, "METAHALL_DATA_DIR": str(data_dir), "METAHALL_LOG_LEVEL": "WARNING"}
    name = _pg_name(data_dir)
    if name in PG_DATABASES:
        env["METAHALL_DATABASE_URL"] = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    return env


async def postgres_for(data_dir: Path, template: str | None = None) -> str:
    """With ``METAHALL_TEST_POSTGRES=1`` every server runs on PostgreSQL: one database per data
    directory, so a restart on the same directory finds its data again, as with SQLite.
    ``template``: a database to copy (PostgreSQL's ``CREATE DATABASE … TEMPLATE``)."""
    import asyncpg

    from tests.pg import PG_HOST, PG_PORT, PG_USER

    name = _pg_name(data_dir)
    if name not in PG_DATABASES:
        admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            create = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
            for attempt in range(50):  # the template's last connections may still be closing
                try:
                    await admin.execute(create)
                    break
                except asyncpg.exceptions.ObjectInUseError:
                    if attempt == 49:
                        raise
                    await asyncio.sleep(0.1)
        finally:
            await admin.close()
        PG_DATABASES.add(name)
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


async def drop_postgres_databases() -> None:
    import asyncpg

    from tests.pg import PG_HOST, PG_PORT, PG_USER

    if not PG_DATABASES:
        return
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        for name in sorted(PG_DATABASES):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    PG_DATABASES.clear()


_TEMPLATE: list[Path] = []
"""A data directory one server has migrated and seeded, copied for the next ones."""


async def _from_template(data_dir: Path) -> None:
    """Most tests start a server on an empty data directory, and migrating and seeding a
    database costs about as much as the test: do it once, then copy the database (the SQLite
    file in the directory, or on PostgreSQL a ``CREATE DATABASE … TEMPLATE``) and the demo
    uploads — never ``secret.key``: each server keeps its own secret, as in production."""
    import shutil
    import tempfile

    if not _TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="metahall-template-"))
        live = await _start(template, {})
        await live.close()
        (template / "secret.key").unlink(missing_ok=True)  # noqa: ASYNC240 (tests)
        _TEMPLATE.append(template)
    if os.environ.get("METAHALL_TEST_POSTGRES") == "1":
        await postgres_for(data_dir, template=_pg_name(_TEMPLATE[0]))
    shutil.copytree(_TEMPLATE[0], data_dir, dirs_exist_ok=True)


def _is_empty(data_dir: Path) -> bool:
    return not (data_dir.exists() and any(data_dir.iterdir()))


async def start_server(data_dir: Path, **overrides: Any) -> LiveServer:
    """A real aiohttp server on a free loopback port, in this event loop. An empty data
    directory starts from a migrated, seeded copy (``METAHALL_TEST_FRESH_DB=1``: never)."""
    if (not os.environ.get("METAHALL_TEST_DATABASE_URL")
            and os.environ.get("METAHALL_TEST_FRESH_DB") != "1"
            and not {"database_url", "seed_demo"} & overrides.keys()
            and _is_empty(data_dir)):
        await _from_template(data_dir)
    return await _start(data_dir, overrides)


async def _start(data_dir: Path, overrides: dict[str, Any]) -> LiveServer:
    env = {"METAHALL_DATA_DIR": str(data_dir), "METAHALL_LOG_LEVEL": "WARNING"}
    db_url = os.environ.get("METAHALL_TEST_DATABASE_URL")
    if os.environ.get("METAHALL_TEST_POSTGRES") == "1" and "database_url" not in overrides:
        db_url = await postgres_for(data_dir)
    if db_url:
        env["METAHALL_DATABASE_URL"] = db_url
    settings = Settings.from_env(env)
    port = free_port()
    object.__setattr__(settings, "port", port)  # a cluster node advertises it
    for key, value in overrides.items():
        object.__setattr__(settings, key, value)
    web_app = create_app(settings)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return LiveServer(f"http://127.0.0.1:{port}", web_app[APP_KEY], runner, data_dir)


async def guest(url: str, name: str = "Tester") -> tuple[str, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/auth/guest", json={"display_name": name}) as resp:
            assert resp.status == 200, await resp.text()
            body = await resp.json()
    return body["token"], body["user"]


@dataclass
class RecordingClient:
    """A python-socketio client that records every event it receives."""

    sio: socketio.AsyncClient
    events: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def call(self, event: str, data: Any = None, timeout: float = 5.0) -> Any:
        return await self.sio.call(event, data, timeout=timeout)

    async def wait(self, event: str, pred: Any = None, timeout: float = 5.0) -> Any:
        """The first recorded ``event`` payload matching ``pred`` (waits for it)."""
        async def scan() -> Any:
            while True:
                for item in self.events[event]:
                    if pred is None or pred(item):
                        return item
                self._arrived.clear()
                await self._arrived.wait()
        return await asyncio.wait_for(scan(), timeout)

    async def close(self) -> None:
        await self.sio.disconnect()


async def connect(url: str, token: str | None, *, socketio_path: str = "socket.io",
                  **auth: Any) -> RecordingClient:
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    rec = RecordingClient(sio)

    def record(event: str, *args: Any) -> None:
        rec.events[event].append(args[0] if len(args) == 1 else list(args))
        rec._arrived.set()

    sio.on("*", record)
    sio.on("connect_error", lambda data: record("connect_error", data))
    payload = {"token": token, **auth} if token is not None else dict(auth)
    await sio.connect(url, auth=payload, transports=["websocket"], wait_timeout=5,
                      socketio_path=socketio_path)
    return rec


REDIS_URL = os.environ.get("METAHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def drop_redis_prefix(prefix: str) -> None:
    """Delete every key a test wrote under ``prefix:`` (its own namespace on the shared Redis)."""
    import redis.asyncio as aioredis

    r = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in r.scan_iter(f"{prefix}:*")]
        if keys:
            await r.delete(*keys)
    finally:
        await r.aclose()


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except (redis.RedisError, OSError):
        return False


def requires_service(name: str, available: bool) -> Any:
    """Skip outside CI when a service is missing; in CI a missing service is a failure."""
    import pytest

    if available:
        return pytest.mark.skipif(False, reason=f"{name} is reachable")
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"{name} is required in CI but is not reachable")
    return pytest.mark.skip(reason=f"{name} is not reachable on this machine (runs in CI)")


async def wait_for(pred: Any, timeout: float = 5.0, interval: float = 0.02) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
