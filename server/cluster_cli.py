"""``metahall cluster --procs N``: N server processes and the front on one machine.

For development, demos and benchmarks; a real deployment runs the same pieces as systemd units
behind nginx (docs/deployment.md). The command

1. checks Redis and PostgreSQL (creating the database when it does not exist yet) and runs the
   Alembic migration once;
2. makes sure every node signs tokens with one key (``METAHALL_SECRET``, else the data dir's
   ``secret.key``, created here before any node starts);
3. starts ``metahall serve`` children on ports P+1..P+N (``METAHALL_NODE_ID=n1..nN``, advertising
   the front's URL and ``/node/nK/socket.io/``), one after another so only the first seeds the
   demo rooms, and restarts one that dies (after a growing delay, at most ``MAX_RESTARTS`` times
   in a row);
4. serves the front (server/front.py) on H:P in this process;
5. on Ctrl-C (or SIGTERM) stops the front, then the children, cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from server.settings import Settings, SettingsError

__all__ = ["ClusterError", "ClusterPlan", "add_command", "plan_cluster", "prepare_services"]

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/metahall"
MAX_PROCS = 32
RESTART_DELAYS_S = (1.0, 2.0, 4.0, 8.0, 15.0)
MAX_RESTARTS = len(RESTART_DELAYS_S)
STABLE_S = 60.0
"""A child that ran this long before dying starts its restart count afresh."""
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
_DB_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,62}$")


class ClusterError(Exception):
    """The cluster cannot start; the message says what to do."""


@dataclass(frozen=True, slots=True)
class NodePlan:
    id: str
    port: int
    env: dict[str, str]
    """The child's whole environment."""

    @property
    def internal(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True, slots=True)
class ClusterPlan:
    """What ``metahall cluster`` will run, worked out (and validated) before anything starts."""

    host: str
    port: int
    public_url: str
    redis_url: str
    redis_prefix: str
    database_url: str
    data_dir: Path
    nodes: tuple[NodePlan, ...] = field(default=())


def _safe(url: str) -> str:
    """A URL without its password, for messages."""
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", url)


def plan_cluster(procs: int, host: str, port: int, public_url: str | None,
                 env: Mapping[str, str]) -> ClusterPlan:
    """Validate the arguments and environment; raise :class:`ClusterError` with what is wrong."""
    if not 1 <= procs <= MAX_PROCS:
        raise ClusterError(f"--procs must be between 1 and {MAX_PROCS}, got {procs}")
    if not 1 <= port <= 65535 - procs:
        raise ClusterError(f"--port must leave room for {procs} node ports above it "
                           f"(1..{65535 - procs}), got {port}")
    redis_url = env.get("METAHALL_REDIS_URL") or DEFAULT_REDIS_URL
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ClusterError(f"METAHALL_REDIS_URL must be a redis:// URL, got {_safe(redis_url)!r}")
    database_url = env.get("METAHALL_DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith("postgresql"):
        raise ClusterError(
            "metahall cluster needs PostgreSQL: several processes share one database. Set "
            "METAHALL_DATABASE_URL=postgresql+asyncpg://USER@HOST:5432/DB (got "
            f"{_safe(database_url)!r}), or unset it for {DEFAULT_DATABASE_URL}")
    try:
        settings = Settings.from_env(dict(env))
    except SettingsError as exc:
        raise ClusterError(str(exc)) from exc
    if public_url is None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        public_url = f"http://{shown}:{port}"
    public_url = public_url.rstrip("/")
    if not public_url.startswith(("http://", "https://")):
        raise ClusterError(f"--public-url must start with http:// or https://, got {public_url!r}")
    data_dir = settings.data_dir.resolve()
    base = {k: v for k, v in env.items() if k not in (
        "METAHALL_NODE_ID", "METAHALL_PUBLIC_URL", "METAHALL_PUBLIC_SOCKET_PATH",
        "METAHALL_HOST", "METAHALL_PORT")}
    base.update({"METAHALL_REDIS_URL": redis_url, "METAHALL_DATABASE_URL": database_url,
                 "METAHALL_REDIS_PREFIX": settings.redis_prefix,
                 "METAHALL_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"})
    nodes = []
    for k in range(1, procs + 1):
        node_id = f"n{k}"
        node_env = {**base, "METAHALL_NODE_ID": node_id, "METAHALL_HOST": "127.0.0.1",
                    "METAHALL_PORT": str(port + k), "METAHALL_PUBLIC_URL": public_url,
                    "METAHALL_PUBLIC_SOCKET_PATH": f"/node/{node_id}/socket.io/"}
        nodes.append(NodePlan(node_id, port + k, node_env))
    return ClusterPlan(host=host, port=port, public_url=public_url, redis_url=redis_url,
                       redis_prefix=settings.redis_prefix, database_url=database_url,
                       data_dir=data_dir, nodes=tuple(nodes))


# -- services ----------------------------------------------------------------------------------
async def _check_redis(url: str) -> None:
    import redis.asyncio as aioredis

    r = aioredis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        await r.ping()
    except (aioredis.RedisError, OSError) as exc:
        raise ClusterError(f"Redis at {_safe(url)} is not reachable ({exc}). Start it (e.g. "
                           "`redis-server`) or point METAHALL_REDIS_URL at one.") from exc
    finally:
        await r.aclose()


async def _ensure_database(url: str) -> bool:
    """Connect to the database, creating it when it does not exist; True if it was created."""
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    where = f"{u.host or 'localhost'}:{u.port or 5432}"
    kw: dict[str, Any] = {"host": u.host, "port": u.port, "user": u.username,
                          "password": u.password, "timeout": 5}
    hint = ("Start PostgreSQL or point METAHALL_DATABASE_URL at one "
            "(postgresql+asyncpg://USER@HOST:5432/DB).")
    try:
        conn = await asyncpg.connect(database=u.database, **kw)
    except asyncpg.InvalidCatalogNameError:
        pass  # no such database yet: create it below
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise ClusterError(f"PostgreSQL at {where} is not reachable as {u.username!r} "
                           f"({exc}). {hint}") from exc
    else:
        await conn.close()
        return False
    name = u.database or ""
    if not _DB_NAME.match(name):
        raise ClusterError(f"database {name!r} does not exist and its name is not a plain "
                           "identifier; create it yourself")
    try:
        admin = await asyncpg.connect(database="postgres", **kw)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise ClusterError(f"database {name!r} does not exist and the 'postgres' database at "
                           f"{where} is not reachable to create it ({exc}). {hint}") from exc
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.DuplicateDatabaseError:
        return False  # someone else just made it
    except asyncpg.PostgresError as exc:
        raise ClusterError(f"could not create database {name!r} at {where} ({exc})") from exc
    finally:
        await admin.close()
    return True


async def prepare_services(plan: ClusterPlan, out: Callable[[str], None] = print) -> None:
    """Redis answers, the database exists and is migrated, the token key exists."""
    from server.db.engine import Database

    await _check_redis(plan.redis_url)
    if await _ensure_database(plan.database_url):
        out(f"created database {_safe(plan.database_url)}")
    db = Database(plan.database_url)
    try:
        await db.migrate()
    finally:
        await db.close()
    # Tokens are HMACs: every node must hold the same key. Create it once, before the nodes.
    try:
        Settings.from_env(plan.nodes[0].env).load_secret()
    except SettingsError as exc:
        raise ClusterError(str(exc)) from exc


def _ports_free(plan: ClusterPlan) -> None:
    for host, port in [(plan.host, plan.port)] + [("127.0.0.1", n.port) for n in plan.nodes]:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError as exc:
                raise ClusterError(f"cannot listen on {host}:{port} ({exc.strerror}); "
                                   "choose another --port") from exc


# -- children ----------------------------------------------------------------------------------
def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Linux: the child gets SIGTERM when this process dies, even by SIGKILL."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


_PRCTL: Callable[[int, int], int] | None = None
if sys.platform == "linux":
    try:
        import ctypes

        _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        _PRCTL = None


@dataclass
class Child:
    """One ``metahall serve`` process and its restart bookkeeping."""

    plan: NodePlan
    proc: asyncio.subprocess.Process | None = None
    started: float = 0.0
    restarts: int = 0
    gave_up: bool = False
    _log_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1",
            "--port", str(self.plan.port), env=self.plan.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # our Ctrl-C handling stops it once, in order
            preexec_fn=_die_with_parent if _PRCTL is not None else None)
        self.started = time.monotonic()
        self._log_task = asyncio.create_task(self._copy_log(self.proc))

    async def _copy_log(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            sys.stdout.write(f"[{self.plan.id}] {line.decode(errors='replace')}")
            sys.stdout.flush()

    async def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if self._log_task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._log_task, 2.0)


async def _wait_ready(child: Child, session: aiohttp.ClientSession) -> bool:
    """True once the child answers ``/healthz``; False if it exited or took too long."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.proc is None or child.proc.returncode is not None:
            return False
        try:
            async with session.get(f"{child.plan.internal}/healthz") as r:
                if r.status == 200:
                    return True
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.25)
    return False


class Supervisor:
    """Runs the children and the front until stopped."""

    def __init__(self, plan: ClusterPlan, out: Callable[[str], None] = print) -> None:
        self.plan = plan
        self.out = out
        self.children = [Child(n) for n in plan.nodes]
        self.stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def status(self, child: Child, state: str) -> None:
        """One line per node and change: id, pid, where it listens, its public path, state."""
        pid = child.proc.pid if child.proc is not None else "-"
        self.out(f"  {child.plan.id:<4} pid {pid!s:<7} {child.plan.internal}  "
                 f"/node/{child.plan.id}/socket.io/  {state}")

    async def run(self) -> int:
        from server.front import create_front_app

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self.stopping.set)
        p = self.plan
        self.out(f"metahall cluster: {len(self.children)} nodes behind {p.public_url}  "
                 f"database {_safe(p.database_url)}  redis {_safe(p.redis_url)} "
                 f"prefix {p.redis_prefix!r}  data {p.data_dir}")
        watchers: list[asyncio.Task[None]] = []
        try:
            timeout = aiohttp.ClientTimeout(total=2)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                for child in self.children:  # one by one: the first seeds the demo rooms
                    if self.stopping.is_set():
                        return 130
                    await child.start()
                    if not await _wait_ready(child, session):
                        self.status(child, "FAILED")
                        raise ClusterError(f"node {child.plan.id} did not start; see its log above")
                    self.status(child, "up")
            app = create_front_app(p.redis_url, prefix=p.redis_prefix)
            self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
            await self._runner.setup()
            await web.TCPSite(self._runner, p.host, p.port).start()
            self.out(f"open {p.public_url}  (front on {p.host}:{p.port}; Ctrl-C stops everything)")
            watchers = [asyncio.create_task(self._watch(c)) for c in self.children]
            await self.stopping.wait()
            return 0 if any(not c.gave_up for c in self.children) else 1
        finally:
            self.stopping.set()
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            await self.shutdown()

    async def _watch(self, child: Child) -> None:
        """Restart ``child`` when it dies, with growing delays; give up after MAX_RESTARTS."""
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not self.stopping.is_set():
                assert child.proc is not None
                code = await child.proc.wait()
                if self.stopping.is_set():
                    return
                if time.monotonic() - child.started >= STABLE_S:
                    child.restarts = 0
                if child.restarts >= MAX_RESTARTS:
                    child.gave_up = True
                    self.status(child, f"gave up (exit {code}, {MAX_RESTARTS} restarts)")
                    if all(c.gave_up for c in self.children):
                        self.stopping.set()
                    return
                delay = RESTART_DELAYS_S[child.restarts]
                child.restarts += 1
                self.status(child, f"exited {code}; restart {child.restarts}/{MAX_RESTARTS} "
                                   f"in {delay:g}s")
                try:
                    await asyncio.wait_for(self.stopping.wait(), delay)
                    return
                except TimeoutError:
                    pass
                await child.start()
                self.status(child, "up" if await _wait_ready(child, session) else "starting")

    async def shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        running = [c for c in self.children if c.proc is not None and c.proc.returncode is None]
        if running:
            self.out(f"stopping {', '.join(c.plan.id for c in running)}")
        await asyncio.gather(*(c.stop() for c in self.children))
        self.out("metahall cluster stopped")


def _run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        plan = plan_cluster(args.procs, args.host, args.port, args.public_url, os.environ)
        _ports_free(plan)
        asyncio.run(prepare_services(plan))
    except ClusterError as exc:
        print(f"metahall cluster: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(Supervisor(plan).run())
    except ClusterError as exc:
        print(f"metahall cluster: {exc}", file=sys.stderr)
        return 1


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the database to the newest schema (once per deployment, before new code starts)."""
    from server.db.engine import Database

    async def run() -> None:
        db = Database(settings.effective_database_url)
        try:
            await db.migrate()
        finally:
            await db.close()

    asyncio.run(run())
    print(f"database migrated: {_safe(settings.effective_database_url)}")
    return 0


def add_command(sub: Any) -> None:
    """Add ``cluster`` (and ``migrate``, which deployments run once) to the ``metahall``
    sub-commands."""
    m = sub.add_parser("migrate", help="migrate the database to the newest schema and exit")
    m.set_defaults(func=_migrate)
    c = sub.add_parser(
        "cluster", help="run N server processes behind one front on this machine",
        description="Run N `metahall serve` processes sharing Redis and PostgreSQL behind a "
                    "small front on one URL. Uses METAHALL_REDIS_URL (default "
                    f"{DEFAULT_REDIS_URL}) and METAHALL_DATABASE_URL (default "
                    f"{DEFAULT_DATABASE_URL}; created if missing).")
    c.add_argument("--procs", type=int, default=2, help="number of server processes (default 2)")
    c.add_argument("--host", default="127.0.0.1", help="where the front listens")
    c.add_argument("--port", type=int, default=8080,
                   help="the front's port; nodes use the next N ports (default 8080)")
    c.add_argument("--public-url", default=None,
                   help="the URL browsers use (default http://HOST:PORT)")
    c.set_defaults(func=_run)
