"""``metahall cluster``: argument and environment checks, service preparation, and one real run
(two nodes behind the front, a join redirect followed, a killed node restarted, Ctrl-C)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from server.cli import main
from server.cluster_cli import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    ClusterError,
    plan_cluster,
    prepare_services,
)
from tests.cluster_front.conftest import REDIS_URL, redis_available
from tests.helpers import drop_redis_prefix, free_port, guest, requires_service
from tests.pg import PG_HOST, PG_PORT, PG_USER, postgres_available

REPO = Path(__file__).resolve().parents[2]
PG_URL = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}"
REDIS_UP = redis_available()
PG_UP = postgres_available()


def test_procs_and_port_are_checked() -> None:
    for procs in (0, 33):
        with pytest.raises(ClusterError, match="--procs must be between 1 and 32"):
            plan_cluster(procs, "127.0.0.1", 8080, None, {})
    with pytest.raises(ClusterError, match="room for 3 node ports"):
        plan_cluster(3, "127.0.0.1", 65534, None, {})
    with pytest.raises(ClusterError, match="--public-url"):
        plan_cluster(2, "127.0.0.1", 8080, "example.org", {})


def test_sqlite_and_bad_urls_are_refused_with_what_to_set() -> None:
    with pytest.raises(ClusterError, match="needs PostgreSQL.*METAHALL_DATABASE_URL"):
        plan_cluster(2, "127.0.0.1", 8080, None,
                     {"METAHALL_DATABASE_URL": "sqlite+aiosqlite:///var/x.db"})
    with pytest.raises(ClusterError, match="METAHALL_REDIS_URL must be a redis:// URL"):
        plan_cluster(2, "127.0.0.1", 8080, None, {"METAHALL_REDIS_URL": "http://x"})
    with pytest.raises(ClusterError, match="METAHALL_LEASE_TTL_S"):
        plan_cluster(2, "127.0.0.1", 8080, None, {"METAHALL_LEASE_TTL_S": "soon"})
    err = None
    try:
        plan_cluster(1, "127.0.0.1", 8080, None,
                     {"METAHALL_DATABASE_URL": "mysql://root:hunter2@db/x"})
    except ClusterError as exc:
        err = str(exc)
    assert err is not None and "hunter2" not in err and "root:***@" in err


def test_the_plan_gives_each_node_its_id_port_and_public_path(tmp_path: Path) -> None:
    env = {"METAHALL_DATA_DIR": str(tmp_path / "d"), "METAHALL_NODE_ID": "ignored",
           "METAHALL_REDIS_PREFIX": "mine", "METAHALL_TICK_HZ": "20"}
    plan = plan_cluster(3, "0.0.0.0", 9000, None, env)
    assert plan.redis_url == DEFAULT_REDIS_URL and plan.database_url == DEFAULT_DATABASE_URL
    assert plan.public_url == "http://127.0.0.1:9000"
    assert [(n.id, n.port) for n in plan.nodes] == [("n1", 9001), ("n2", 9002), ("n3", 9003)]
    for n in plan.nodes:
        assert n.env["METAHALL_NODE_ID"] == n.id
        assert n.env["METAHALL_PORT"] == str(n.port) and n.env["METAHALL_HOST"] == "127.0.0.1"
        assert n.env["METAHALL_PUBLIC_URL"] == "http://127.0.0.1:9000"
        assert n.env["METAHALL_PUBLIC_SOCKET_PATH"] == f"/node/{n.id}/socket.io/"
        assert n.env["METAHALL_DATA_DIR"] == str((tmp_path / "d").resolve())  # one, shared
        assert n.env["METAHALL_REDIS_PREFIX"] == "mine" and n.env["METAHALL_TICK_HZ"] == "20"
        assert n.env["METAHALL_DATABASE_URL"] == DEFAULT_DATABASE_URL
    custom = plan_cluster(1, "0.0.0.0", 80, "https://hall.example.org/", env)
    assert custom.nodes[0].env["METAHALL_PUBLIC_URL"] == "https://hall.example.org"


def test_unreachable_redis_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("METAHALL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("METAHALL_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    assert main(["cluster", "--procs", "2", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "Redis at redis://127.0.0.1:" in err and "is not reachable" in err


def test_a_busy_port_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setenv("METAHALL_DATA_DIR", str(tmp_path))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["cluster", "--procs", "1", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


@requires_service("Redis", REDIS_UP)  # it is checked first
def test_unreachable_postgresql_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("METAHALL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("METAHALL_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("METAHALL_DATABASE_URL",
                       f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/metahall")
    assert main(["cluster", "--procs", "2", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "PostgreSQL at 127.0.0.1:" in err and "is not reachable" in err


async def _drop(name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@requires_service("Redis", REDIS_UP)
@requires_service("PostgreSQL", PG_UP)
async def test_prepare_creates_and_migrates_a_missing_database(tmp_path: Path) -> None:
    import asyncpg

    name = "metahall_cli_" + uuid.uuid4().hex[:10]
    plan = plan_cluster(2, "127.0.0.1", 8080, None, {
        "METAHALL_DATA_DIR": str(tmp_path), "METAHALL_REDIS_URL": REDIS_URL,
        "METAHALL_DATABASE_URL": f"{PG_URL}/{name}"})
    said: list[str] = []
    try:
        await prepare_services(plan, said.append)
        assert said == [f"created database {PG_URL}/{name}"]
        conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=name)
        try:
            assert await conn.fetchval("SELECT version_num FROM alembic_version")
            assert await conn.fetchval("SELECT count(*) FROM users") == 0
        finally:
            await conn.close()
        key = (tmp_path / "secret.key").read_text()
        assert len(key) >= 32  # one key for every node, made before they start
        await prepare_services(plan, said.append)  # again: nothing to create, same key
        assert len(said) == 1 and (tmp_path / "secret.key").read_text() == key
    finally:
        await _drop(name)


async def _front_nodes(http: aiohttp.ClientSession, url: str) -> list[str]:
    try:
        async with http.get(f"{url}/healthz") as r:
            return [n["id"] for n in (await r.json())["nodes"]]
    except (aiohttp.ClientError, ValueError):
        return []


def _text(log: Path) -> str:
    return log.read_text()


def _tail(log: Path) -> str:
    return _text(log)[-4000:]


async def _until(pred: Any, within_s: float, what: str, log: Path) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + within_s
    while not await pred():
        if loop.time() > end:
            raise AssertionError(f"{what} not seen in {within_s:g} s:\n{_tail(log)}")
        await asyncio.sleep(0.3)


def _start(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as fh:
        return subprocess.Popen([sys.executable, "-m", "server.cli", "cluster", "--procs", "2",
                                 "--port", str(port)], env=env, stdout=fh,
                                stderr=subprocess.STDOUT, cwd=REPO)


async def _join_following(url: str, token: str, room: str) -> tuple[dict[str, Any], list[str]]:
    """Join like the browser: follow a redirect to the owner's url + path; return the ack and
    the paths used."""
    path, paths = "socket.io", []
    for _ in range(4):
        sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
        await sio.connect(url, auth={"token": token}, transports=["websocket"],
                          socketio_path=path, headers={"Origin": url}, wait_timeout=10)
        paths.append(path)
        try:
            ack = await sio.call("join", {"room": room}, timeout=10)
        finally:
            await sio.disconnect()
        if not (ack.get("ok") and "redirect" in ack):
            return ack, paths
        url, path = ack["redirect"]["url"], ack["redirect"]["path"].strip("/")
    raise AssertionError("more than 3 redirects")


@requires_service("Redis", REDIS_UP)
@requires_service("PostgreSQL", PG_UP)
async def _owner(prefix: str, room: str) -> str:
    import redis.asyncio as aioredis

    r = aioredis.Redis.from_url(REDIS_URL)
    try:
        raw = await r.get(f"{prefix}:room:{room}")
    finally:
        await r.aclose()
    assert raw is not None
    return raw.decode()


async def _join_at(url: str, token: str, room: str) -> dict[str, Any]:
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    try:
        ack: dict[str, Any] = await sio.call("join", {"room": room}, timeout=10)
    finally:
        await sio.disconnect()
    return ack


async def test_a_real_cluster_runs_redirects_restarts_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    name = "metahall_cluster_" + uuid.uuid4().hex[:10]
    prefix = "mhcli-" + uuid.uuid4().hex[:10]
    port = free_port()
    while any(_busy(port + k) for k in range(3)):
        port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("METAHALL_")}
    env.update({"METAHALL_DATA_DIR": str(tmp_path / "var"), "METAHALL_REDIS_URL": REDIS_URL,
                "METAHALL_REDIS_PREFIX": prefix, "METAHALL_DATABASE_URL": f"{PG_URL}/{name}",
                "METAHALL_UVLOOP": "0", "METAHALL_LEASE_TTL_S": "3", "METAHALL_LOG_LEVEL": "WARNING"})
    log = tmp_path / "cluster.log"
    url = f"http://127.0.0.1:{port}"
    proc = _start(port, env, log)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            async def both() -> bool:
                return await _front_nodes(http, url) == ["n1", "n2"]

            await _until(both, 120, "two nodes behind the front", log)
            token, _ = await guest(url, "Clustered")
            rooms: dict[str, list[str]] = {}
            for room in ("hall:main", "social:plaza", "expo:demo"):
                ack, paths = await _join_following(url, token, room)
                assert ack.get("ok") is True and ack["room"] == room, ack
                assert len(paths) <= 2 and all(
                    p in ("socket.io", "node/n1/socket.io", "node/n2/socket.io") for p in paths)
                rooms[room] = paths
            # Each room lives on one node: asked directly, its owner admits, the other redirects
            # to the owner through the front.
            owner = (await _owner(prefix, "hall:main"))
            for k, node in ((1, "n1"), (2, "n2")):
                ack = await _join_at(f"http://127.0.0.1:{port + k}", token, "hall:main")
                if node == owner:
                    assert ack["ok"] and "redirect" not in ack, ack
                else:
                    assert ack["redirect"] == {"node": owner, "url": url,
                                               "path": f"/node/{owner}/socket.io/"}, ack
            if len(rooms_paths := rooms["hall:main"]) > 1:
                assert rooms_paths[-1] == f"node/{owner}/socket.io"

            found = re.search(r"^  n2 +pid (\d+) .* up$", _text(log), re.M)
            assert found, _tail(log)
            os.kill(int(found[1]), signal.SIGKILL)

            async def restarted() -> bool:
                after = _text(log).split("exited -9; restart 1/5", 1)
                return len(after) == 2 and re.search(r"^  n2 +pid \d+ .* up$", after[1], re.M) is not None

            await _until(restarted, 120, "n2 restarted", log)
            await _until(both, 60, "n2 back behind the front", log)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, _tail(log)
        out = _text(log)
        assert "stopping n1, n2" in out and "metahall cluster stopped" in out
        assert not _busy(port + 1) and not _busy(port + 2)  # the children are gone too
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        await drop_redis_prefix(prefix)
        await _drop(name)


def _busy(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_migrate_brings_the_database_to_the_newest_schema(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import sqlite3

    monkeypatch.setenv("METAHALL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("METAHALL_DATABASE_URL", raising=False)
    assert main(["migrate"]) == 0
    assert "database migrated: sqlite" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "metahall.db") as db:
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert version and {"users", "rooms"} <= tables
