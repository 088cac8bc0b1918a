"""Soak: hundreds of bots walk, chat and queue for a long time; is the server still the same after?

Usage::

    python -m loadtest.soak --bots 500 --minutes 30 --out bench/results/soak
    python -m loadtest.soak --url http://127.0.0.1:8080 --server-pid PID ...   # a running server

Without ``--url`` it starts its own ``metahall serve`` (``python -m server.cli serve``) on a fresh
data directory, pinned with ``taskset`` to CPU 0, and pins itself to CPU 1 (``--no-pin`` to
leave both alone); staff accounts are made before the server starts.

What the bots do, all in one generator process (lean Engine.IO/Socket.IO frames, ``conn.py``):

* every bot logs in as a guest, connects, joins ``--room`` (default ``hall:main``) and walks
  towards random waypoints at 1.0-1.5 m/s, sending ``move`` at 10 Hz (one sender task for all);
* every bot chats (``near``, one in ten ``room``) once every 30-60 s and checks the ack;
* ``--citizens`` (share of the bots) loop in the service hall: take a number for a service an
  open counter serves, sometimes leave the queue again, otherwise wait for ``queue.done`` and
  rate the ticket (``ticket.rate``) when it was served; ``--staff`` staff bots open counters
  and loop ``counter.next`` -> service time -> ``counter.finish`` (one in ten a no-show);
* ``--rtc-bots`` of the walkers also open a WebRTC ``state`` channel after joining (an aiortc
  peer on the server; their moves go on it), so the peer count has something to give back;
* ``--churn`` % of the walking bots per minute disconnect and reconnect (and join again); a
  WebRTC bot closes its peer first half of the time and otherwise just drops the connection;
* a bot the server disconnects counts an error and reconnects a few seconds later.

Every ``--sample-s`` seconds it scrapes ``/metrics`` (tick p50/p99/max of the last 30 s,
asyncio tasks, open file descriptors, aiortc peers, Socket.IO sessions, room instances) and
samples the server's RSS and CPU with psutil, printing one progress line.

At the end it stops the bots, waits (up to ``--settle-s``) for the server to give everything
back and compares tasks, fds, sessions, peers and rooms with the counts taken before the bots
came (leak = above baseline + slack). Then the graceful-shutdown check: ``--shutdown-bots``
fresh bots connect and join, the server gets SIGTERM (``--signal``), and the report says how
many bots got the ``system`` notice with code ``shutdown`` and how long the process took to exit
(only on a server this command started, or with ``--shutdown-check`` on ``--server-pid``).

Writes ``<out>.json`` (config, samples, summary), ``<out>.md`` (tables and verdict),
``<out>.png`` (RSS, tick p50/p99, CPU, tasks and fds over time) and ``<out>.server.log``.
Exit status: 0 pass, 3 fail, 4 inconclusive (a flatness or error miss while other processes
took more than 20 % of the server's core), 1 could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from .bench_hall import PASSWORD, _accounts, histogram_quantile
from .bench_hall import server_env as hall_server_env
from .conn import SioConnection, SioError, connect
from .frames import MoveEncoder, decode_packet
from .metrics import parse_prometheus, summarize
from .rtcbot import RtcLink, RtcRefused, encode_move, open_link
from .sysmon import HostSampler, ProcSampler, cores_of, free_port, raise_fd_limit

__all__ = ["build_parser", "leak_check", "main", "rss_slope_mb_per_10min", "run_soak", "verdict"]

ROOT = Path(__file__).resolve().parent.parent

RATE_HZ = 10.0
AREA_M = 40.0
CHAT_EVERY_S = (30.0, 60.0)
SLACK = {"tasks": 5, "fds_non_db": 5, "db_fds": 45, "sio_sessions": 0, "eio_sockets": 0,
         "peers_open": 0, "rooms": 0}
"""What may stay above the pre-load baseline after the bots left. Tasks: aiohttp and the hall
keep a few around depending on timing. File descriptors are split (from /proc/<pid>/fd): the
database's own files (SQLite keeps up to 15 pooled connections with 2-3 files each, how many
depends on past concurrency) and everything else (sockets, pipes, files), which must come
back within 5. Sessions, peers and room instances must be back exactly."""
BUSY_PERCENT = 20.0
"""Other processes using more than this much of the server's core make a flatness or error
miss *inconclusive* (the server was starved, not slow)."""
RSS_FLAT_MB_PER_10MIN = 5.0
TICK_FLAT_FACTOR, TICK_FLAT_MS = 1.5, 2.0

_SYSTEM = b"\xa6system"
_QUEUE_DONE = b"\xaaqueue.done"
_CHAT = b"\xa4chat"
_TEXTS = (
    "hello from the soak", "anyone at counter 3?", "大家好，测试一下", "the queue moves fast today",
    "where is the stage?", "排队的人真多", "nice booth over there", "see you at the talk",
    "how long is the wait?", "谢谢窗口的工作人员",
)


# -- bookkeeping ------------------------------------------------------------------------------
@dataclass
class Tally:
    errors: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    chat_ms: list[float] = field(default_factory=list)
    take_ms: list[float] = field(default_factory=list)
    tickets: dict[str, tuple[str, str]] = field(default_factory=dict)
    """ticket id -> (service id, number) for every ticket a citizen was issued."""
    called: set[str] = field(default_factory=set)
    """ticket ids staff called."""
    finished: dict[str, str] = field(default_factory=dict)
    """ticket id -> outcome staff finished it with."""
    done_seen: dict[str, str] = field(default_factory=dict)
    """ticket id -> outcome a citizen was told in queue.done."""

    def err(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def inc(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n


@dataclass(eq=False)
class Bot:
    i: int
    name: str
    token: str = ""
    conn: SioConnection | None = None
    reader: asyncio.Task[None] | None = None
    closing: bool = False
    dropped: bool = False
    walking: bool = False
    citizen: bool = False
    rtc: bool = False
    link: RtcLink | None = None
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    yaw: float = 0.0
    home: tuple[float, float] = (0.0, 0.0)
    target: tuple[float, float] = (0.0, 0.0)
    speed: float = 1.2
    next_chat: float = 0.0
    shutdown_notice: bool = False
    done: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    rng: random.Random = field(default_factory=random.Random)

    def on_frame(self, frame: bytes, now_ms: float) -> None:
        head = frame[:32]
        if _SYSTEM in head:
            data = _event_data(frame)
            if isinstance(data, dict) and data.get("code") == "shutdown":
                self.shutdown_notice = True
        elif self.citizen and _QUEUE_DONE in head:
            data = _event_data(frame)
            if isinstance(data, dict):
                self.done.put_nowait(data)

    def step(self, dt: float) -> None:
        dx, dz = self.target[0] - self.x, self.target[1] - self.z
        d = math.hypot(dx, dz)
        if d < 0.5:
            h = AREA_M / 2
            self.target = (self.home[0] + self.rng.uniform(-h, h),
                           self.home[1] + self.rng.uniform(-h, h))
            self.speed = self.rng.uniform(1.0, 1.5)
            return
        s = min(d, self.speed * dt)
        self.x += dx / d * s
        self.z += dz / d * s
        self.yaw = math.atan2(dx, dz)


def _event_data(frame: bytes) -> Any:
    try:
        pkt = decode_packet(frame)
    except ValueError:
        return None
    if isinstance(pkt.data, list) and len(pkt.data) > 1:
        return pkt.data[1]
    return None


# -- the server -------------------------------------------------------------------------------
def server_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The hall benchmark's server environment, with empty rooms disposed after 5 s (the leak
    check waits for the room to go)."""
    return {**hall_server_env(data_dir, database_url), "METAHALL_EMPTY_ROOM_GRACE_S": "5"}


async def start_server(env: dict[str, str], port: int, log_path: Path, pin: bool
                       ) -> asyncio.subprocess.Process:
    cmd = [sys.executable, "-m", "server.cli", "serve", "--port", str(port)]
    if pin and shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        cmd = ["taskset", "-c", "0", *cmd]  # taskset execs the server: same pid
    log = log_path.open("wb")  # noqa: ASYNC230 - once, before the server exists
    proc = await asyncio.create_subprocess_exec(*cmd, env=env, cwd=str(ROOT), stdout=log,
                                                stderr=log, stdin=asyncio.subprocess.DEVNULL)
    log.close()
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        for _ in range(600):
            if proc.returncode is not None:
                break
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with http.get(f"{url}/healthz") as resp:
                    if resp.status == 200:
                        return proc
            await asyncio.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    raise RuntimeError(f"server did not start; see {log_path}")


# -- /metrics -------------------------------------------------------------------------------
def _sum(m: dict[str, float], prefix: str) -> float:
    return sum(v for k, v in m.items() if k.startswith(prefix))


def fd_kinds(pid: int | None) -> dict[str, int] | None:
    """Open file descriptors of a local process by kind: ``db`` (SQLite files), ``socket``,
    ``other``; None when /proc is not readable."""
    if not pid:
        return None
    out = {"db": 0, "socket": 0, "other": 0}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            out["socket"] += 1
        elif ".db" in Path(target).name or target.endswith((".sqlite", "-wal", "-shm")):
            out["db"] += 1
        else:
            out["other"] += 1
    return out


def counts_of(m: dict[str, float], pid: int | None = None) -> dict[str, float]:
    """The leak counters from one scrape (and /proc/<pid>/fd when the server is local)."""
    kinds = fd_kinds(pid)
    fds = m.get("process_open_fds", 0.0)
    return {
        "fds_non_db": float(fds - kinds["db"]) if kinds else fds,
        "db_fds": float(kinds["db"]) if kinds else 0.0,
        "tasks": m.get("metahall_asyncio_tasks", 0.0),
        "fds": m.get("process_open_fds", 0.0),
        "sio_sessions": m.get('metahall_sio_sessions{layer="socketio"}', 0.0),
        "eio_sockets": m.get('metahall_sio_sessions{layer="engineio"}', 0.0),
        "peers_open": m.get('metahall_rtc_peers{kind="open"}', 0.0),
        "peers_owned": sum(m.get(f'metahall_rtc_peers{{kind="{k}"}}', 0.0)
                           for k in ("state", "stage_broadcast", "stage_viewer")),
        "rooms": _sum(m, "metahall_rooms{"),
    }


async def scrape(http: aiohttp.ClientSession, url: str) -> dict[str, float]:
    async with http.get(f"{url}/metrics") as resp:
        return parse_prometheus(await resp.text())


def leak_check(baseline: dict[str, float], after: dict[str, float],
               slack: dict[str, int] | None = None) -> dict[str, Any]:
    """Per counter: baseline, after, delta and whether it leaked (after > baseline + slack).
    Rooms must be back to zero instances whatever the baseline."""
    slack = SLACK if slack is None else slack
    out: dict[str, Any] = {}
    for key, allowed in slack.items():
        b, a = baseline.get(key, 0.0), after.get(key, 0.0)
        limit = allowed if key == "rooms" else b + allowed
        out[key] = {"baseline": b, "after": a, "delta": a - b, "slack": allowed,
                    "leak": a > limit}
    return out


def rss_slope_mb_per_10min(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) points, in MB per 10 minutes."""
    if len(points) < 3:
        return None
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var <= 0:
        return None
    cov = sum((t - mt) * (v - mv) for t, v in points)
    return round(cov / var * 600.0, 2)


# -- bots ---------------------------------------------------------------------------------------
class Soak:
    def __init__(self, args: argparse.Namespace, url: str) -> None:
        self.args = args
        self.url = url
        self.tally = Tally()
        self.bots: list[Bot] = []
        self.staff_conns: list[SioConnection] = []
        self.stop = asyncio.Event()
        self.rng = random.Random(args.seed)
        self.services: list[str] = []
        self.loop_lag_ms: list[float] = []
        self.move = MoveEncoder()
        self.tasks: list[asyncio.Task[Any]] = []
        self.host = HostSampler()
        self.server_cores: list[int] | None = None

    # connection life ----------------------------------------------------------------------
    async def login(self, http: aiohttp.ClientSession, bot: Bot) -> None:
        for attempt in range(20):
            async with http.post(f"{self.url}/api/auth/guest",
                                 json={"display_name": bot.name}) as resp:
                if resp.status == 200:
                    bot.token = str((await resp.json())["token"])
                    return
                if resp.status != 429:
                    raise SioError(f"guest login {resp.status}")
            await asyncio.sleep(0.5 * (attempt + 1))
        raise SioError("guest login throttled")

    async def attach(self, http: aiohttp.ClientSession, bot: Bot, join: bool = True) -> bool:
        """Connect (logging in first if needed) and join; False (and an error counted) if not."""
        try:
            if not bot.token:
                await self.login(http, bot)
            conn = await connect(http, self.url, bot.token)
        except (SioError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.tally.err("connect" if bot.token else "login")
            if self.args.verbose:
                print(f"bot {bot.i}: {exc!r}", file=sys.stderr)
            return False
        conn.on_frame = bot.on_frame
        bot.conn, bot.closing = conn, False
        bot.reader = asyncio.create_task(self._read(bot, conn))
        if not join:
            return True
        try:
            ack = await conn.call("join", {"room": self.args.room}, 30.0)
        except (SioError, TimeoutError, ConnectionError):
            self.tally.err("join")
            return False
        if not (isinstance(ack, dict) and ack.get("ok")):
            self.tally.err(f"join_{_code(ack)}")
            return False
        spawn = ack.get("spawn") or [0.0, 0.0, 0.0, 0.0]
        bot.x, bot.y, bot.z = float(spawn[0]), float(spawn[1]), float(spawn[2])
        if bot.home == (0.0, 0.0):
            bot.home = (bot.x, bot.z)
        bot.target = (bot.x, bot.z)
        if bot.rtc:
            try:
                bot.link = await open_link(conn, None, wait_s=20.0)
                self.tally.inc("rtc_links")
            except RtcRefused as exc:
                self.tally.err(f"rtc_{exc.code}")
        bot.walking = True
        return True

    async def _read(self, bot: Bot, conn: SioConnection) -> None:
        try:
            reason = await conn.run()
        except Exception as exc:  # noqa: BLE001 - a reader must never die silently
            reason = f"reader_{type(exc).__name__}"
        if bot.conn is conn:
            bot.walking = False
        if not bot.closing and not self.stop.is_set():
            self.tally.err(f"disconnect_{reason or 'closed'}")
            bot.dropped = True  # the reviver brings it back, as a real client would

    async def detach(self, bot: Bot) -> None:
        bot.closing, bot.walking = True, False
        conn, reader, link = bot.conn, bot.reader, bot.link
        bot.conn = bot.reader = bot.link = None
        if link is not None and bot.rng.random() < 0.5:
            # half close the peer first, half just drop the Socket.IO connection under it
            await link.close()
            link = None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5.0)
        if reader is not None:
            try:
                await asyncio.wait_for(reader, 5.0)
            except (TimeoutError, asyncio.CancelledError):
                reader.cancel()
        if link is not None:
            await link.close()

    # behaviours ---------------------------------------------------------------------------
    async def mover(self) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.args.rate
        nxt = loop.time()
        encode = self.move.encode
        while not self.stop.is_set():
            nxt += period
            delay = nxt - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif -delay > period:
                nxt = loop.time()  # fell behind: no catch-up burst (a client sends <= 10 Hz)
            for bot in self.bots:
                conn = bot.conn
                if not bot.walking or conn is None or conn.closed:
                    continue
                bot.step(period)
                link = bot.link
                if link is not None and link.send(encode_move(bot.x, bot.y, bot.z, bot.yaw, 1)):
                    continue
                try:
                    await conn.send(encode(bot.x, bot.y, bot.z, bot.yaw, 1))
                except (ConnectionError, aiohttp.ClientError, RuntimeError):
                    pass  # the reader notices and counts it
            self.tally.inc("move_rounds")

    async def chatter(self) -> None:
        now = time.monotonic()
        for bot in self.bots:
            bot.next_chat = now + bot.rng.uniform(0, CHAT_EVERY_S[1])
        pending: set[asyncio.Task[None]] = set()
        while not self.stop.is_set():
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for bot in self.bots:
                if bot.walking and now >= bot.next_chat:
                    bot.next_chat = now + bot.rng.uniform(*CHAT_EVERY_S)
                    t = asyncio.create_task(self._chat(bot))
                    pending.add(t)
                    t.add_done_callback(pending.discard)
        await asyncio.gather(*pending, return_exceptions=True)

    async def _chat(self, bot: Bot) -> None:
        conn = bot.conn
        if conn is None:
            return
        channel = "room" if bot.rng.random() < 0.1 else "near"
        text = f"{bot.rng.choice(_TEXTS)} #{bot.i}-{self.tally.counts.get('chat_sent', 0)}"
        self.tally.inc("chat_sent")
        t0 = time.perf_counter()
        try:
            ack = await conn.call("chat", {"channel": channel, "text": text}, 15.0)
        except (SioError, TimeoutError, ConnectionError):
            if not bot.closing and not self.stop.is_set():
                self.tally.err("chat_no_ack")
            return
        if isinstance(ack, dict) and ack.get("ok"):
            self.tally.inc("chat_ok")
            self.tally.chat_ms.append((time.perf_counter() - t0) * 1000)
        else:
            self.tally.err(f"chat_{_code(ack)}")

    async def citizen(self, bot: Bot) -> None:
        rng = bot.rng
        while not self.stop.is_set():
            await _sleep_unless(self.stop, rng.uniform(2.0, 20.0))
            conn = bot.conn
            if self.stop.is_set() or conn is None or conn.closed or not self.services:
                continue
            service = rng.choice(self.services)
            try:
                t0 = time.perf_counter()
                ack = await conn.call("queue.take", {"service_id": service}, 30.0)
                self.tally.take_ms.append((time.perf_counter() - t0) * 1000)
            except (SioError, TimeoutError, ConnectionError):
                self.tally.err("take_no_ack")
                continue
            if not (isinstance(ack, dict) and ack.get("ok")):
                self.tally.err(f"take_{_code(ack)}")
                continue
            ticket = ack["ticket"]
            tid = str(ticket["id"])
            self.tally.tickets[tid] = (str(ticket.get("service_id", service)),
                                       str(ticket.get("number")))
            self.tally.inc("tickets_taken")
            if rng.random() < 0.15:  # changes their mind and leaves the queue
                await _sleep_unless(self.stop, rng.uniform(1.0, 8.0))
                if self.stop.is_set():
                    return
                await self._leave(bot, tid)
                continue
            done = await self._wait_done(bot, tid, self.args.queue_wait_s)
            if done is None:
                self.tally.inc("waits_given_up")
                await self._leave(bot, tid)
                continue
            outcome = str(done.get("outcome"))
            self.tally.done_seen[tid] = outcome
            if done.get("can_rate") and bot.conn is not None:
                try:
                    r = await bot.conn.call("ticket.rate",
                                            {"ticket_id": tid, "score": rng.randint(1, 5)}, 30.0)
                except (SioError, TimeoutError, ConnectionError):
                    self.tally.err("rate_no_ack")
                    continue
                if isinstance(r, dict) and r.get("ok"):
                    self.tally.inc("ratings")
                else:
                    self.tally.err(f"rate_{_code(r)}")

    async def _wait_done(self, bot: Bot, tid: str, wait_s: float) -> dict[str, Any] | None:
        end = time.monotonic() + wait_s
        while not self.stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                data = await asyncio.wait_for(bot.done.get(), min(left, 1.0))
            except TimeoutError:
                continue
            if str(data.get("ticket_id")) == tid:
                return data
        return None

    async def _leave(self, bot: Bot, tid: str) -> None:
        if bot.conn is None:
            return
        try:
            ack = await bot.conn.call("queue.leave", {"ticket_id": tid}, 30.0)
        except (SioError, TimeoutError, ConnectionError):
            self.tally.err("leave_no_ack")
            return
        if isinstance(ack, dict) and ack.get("ok"):
            self.tally.inc("tickets_left")
        elif _code(ack) not in ("conflict", "not_found"):  # called/finished meanwhile: fine
            self.tally.err(f"leave_{_code(ack)}")

    async def staff(self, conn: SioConnection, counter_id: str, rng: random.Random) -> None:
        while not self.stop.is_set():
            try:
                ack = await conn.call("counter.next", {"counter_id": counter_id}, 30.0)
            except (SioError, TimeoutError, ConnectionError):
                self.tally.err("next_no_ack")
                await _sleep_unless(self.stop, 1.0)
                continue
            ticket = ack.get("ticket") if isinstance(ack, dict) and ack.get("ok") else None
            if not (isinstance(ack, dict) and ack.get("ok")):
                self.tally.err(f"next_{_code(ack)}")
            if ticket is None:
                await _sleep_unless(self.stop, 0.5)
                continue
            tid = str(ticket["id"])
            self.tally.called.add(tid)
            await asyncio.sleep(rng.expovariate(1.0 / self.args.serve_s))
            outcome = "no_show" if rng.random() < 0.1 else "served"
            try:
                done = await conn.call("counter.finish", {"ticket_id": tid, "outcome": outcome},
                                       30.0)
            except (SioError, TimeoutError, ConnectionError):
                self.tally.err("finish_no_ack")
                continue
            if isinstance(done, dict) and done.get("ok"):
                self.tally.finished[tid] = outcome
            elif _code(done) not in ("conflict", "not_found"):  # citizen left meanwhile
                self.tally.err(f"finish_{_code(done)}")

    async def churner(self) -> None:
        """``--churn`` % of the walking non-citizen bots per minute reconnect, spread evenly."""
        walkers = [b for b in self.bots if not b.citizen]
        per_min = len(walkers) * self.args.churn / 100.0
        if per_min <= 0 or not walkers:
            return
        gap = 60.0 / per_min
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout,
                                         connector=aiohttp.TCPConnector(limit=0)) as http:
            while not self.stop.is_set():
                await _sleep_unless(self.stop, gap)
                if self.stop.is_set():
                    break
                bot = self.rng.choice(walkers)
                if bot.conn is None:
                    continue
                await self.detach(bot)
                await asyncio.sleep(self.rng.uniform(0.1, 1.0))
                if await self.attach(http, bot):
                    self.tally.inc("churn_reconnects")

    async def reviver(self) -> None:
        """Bots the server dropped reconnect after a pause (a few at a time), as clients do."""
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout,
                                         connector=aiohttp.TCPConnector(limit=0)) as http:
            while not self.stop.is_set():
                await _sleep_unless(self.stop, 2.0)
                dropped = [b for b in self.bots if b.dropped and not b.closing][:20]
                for bot in dropped:
                    if self.stop.is_set():
                        break
                    bot.dropped = False
                    await self.detach(bot)
                    if await self.attach(http, bot):
                        self.tally.inc("reconnects_after_drop")

    async def lag(self) -> None:
        while not self.stop.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.05)
            self.loop_lag_ms.append(max(0.0, (time.perf_counter() - t0 - 0.05) * 1000))
            if len(self.loop_lag_ms) > 4000:
                del self.loop_lag_ms[:2000]


def _code(ack: Any) -> str:
    if isinstance(ack, dict) and isinstance(ack.get("error"), dict):
        return str(ack["error"].get("code", "error"))
    return "bad_ack"


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max(0.0, seconds))


async def _bounded(items: list[Any], limit: int, fn: Any) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(x: Any) -> Any:
        async with gate:
            return await fn(x)

    return list(await asyncio.gather(*(one(x) for x in items)))


# -- the run ------------------------------------------------------------------------------
async def run_soak(args: argparse.Namespace, keep: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """One soak run; ``keep["soak"]`` gets the :class:`Soak` (bots, tally) for a caller (tests)."""
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    own = args.url is None
    proc: asyncio.subprocess.Process | None = None
    staff_n = args.staff
    if own:
        data_dir = Path(tempfile.mkdtemp(prefix="soak-"))
        env = server_env(data_dir, args.database_url)
        if staff_n:
            print(f"accounts for {staff_n} staff in {data_dir} ...", flush=True)
            await _accounts(env, staff_n)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = Path(f"{args.out}.server.log")
        proc = await start_server(env, port, log_path, pin=not args.no_pin)
        pid = proc.pid
        if not args.no_pin and (os.cpu_count() or 1) >= 2:
            with contextlib.suppress(OSError, AttributeError):
                os.sched_setaffinity(0, {1})
        print(f"server pid={pid} url={url} log={log_path}", flush=True)
    else:
        url = args.url.rstrip("/")
        pid = args.server_pid
    soak = Soak(args, url)

    def loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # aiortc's own tasks on the bots' side fail noisily when the server closes a peer;
        # count them instead of printing a traceback per peer
        exc = context.get("exception")
        soak.tally.inc(f"generator_exception_{type(exc).__name__ if exc else 'other'}")

    asyncio.get_running_loop().set_exception_handler(loop_exception)
    if keep is not None:
        keep["soak"] = soak
    sampler = ProcSampler(pid) if pid else None
    soak.server_cores = cores_of(pid) if pid and own else None
    me = ProcSampler(os.getpid(), children=False)
    samples: list[dict[str, Any]] = []
    result: dict[str, Any] = {
        "config": {k: v for k, v in vars(args).items()},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "server": {"own": own, "pid": pid, "url": url},
    }
    t_run = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=60)
    # Bots and scrapes use separate HTTP sessions: the bots' one is closed before the counts
    # are taken again, so no keep-alive connection of ours is counted as the server's.
    http = aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0))
    try:
        async with aiohttp.ClientSession(timeout=timeout,
                                         connector=aiohttp.TCPConnector(limit=1)) as mon:
            # warm-up: one of everything the bots will do, and a burst of logins so that the
            # database pool holds what it will hold under load, before the baseline is taken
            async with aiohttp.ClientSession(timeout=timeout) as warm_http:
                warm = [Bot(-1 - i, f"soak-warmup-{i}") for i in range(16)]
                await _bounded(warm, 16, lambda b: soak.login(warm_http, b))
                if await soak.attach(warm_http, warm[0]):
                    assert warm[0].conn is not None
                    with contextlib.suppress(SioError, TimeoutError, ConnectionError):
                        await warm[0].conn.call("chat", {"channel": "room", "text": "warm-up"},
                                                10.0)
                    await soak.detach(warm[0])
            soak.tally.errors.clear()
            await asyncio.sleep(args.settle_start_s)
            for _ in range(30):  # the warm-up's room instance goes after the empty-room grace
                if counts_of(await scrape(mon, url))["rooms"] == 0:
                    break
                await asyncio.sleep(1.0)
            base_metrics = await scrape(mon, url)
            baseline = counts_of(base_metrics, pid)
            base_proc = sampler.sample() if sampler else None
            result["baseline"] = {**baseline,
                                  "rss_mb": base_proc.rss_mb if base_proc else None}
            print(f"baseline: {_fmt_counts(baseline)}", flush=True)

            # staff and services
            counters: list[dict[str, Any]] = []
            async with http.get(f"{url}/api/hall/counters") as resp:
                if resp.status == 200:
                    counters = await resp.json()
            served: set[str] = set()
            staff_tasks = []
            for i in range(min(staff_n, len(counters))):
                async with http.post(f"{url}/api/auth/login",
                                     json={"username": f"bench-staff{i:02d}",
                                           "password": PASSWORD}) as resp:
                    if resp.status != 200:
                        print(f"staff login bench-staff{i:02d} failed ({resp.status}); "
                              "queue traffic without staff", flush=True)
                        break
                    token = str((await resp.json())["token"])
                conn = await connect(http, url, token)
                sbot = Bot(10_000 + i, f"staff{i}")
                sbot.conn = conn
                sbot.reader = asyncio.create_task(soak._read(sbot, conn))
                soak.staff_conns.append(conn)
                cid = str(counters[i]["id"])
                ack = await conn.call("counter.open", {"counter_id": cid}, 30.0)
                if not (isinstance(ack, dict) and ack.get("ok")):
                    soak.tally.err(f"counter_open_{_code(ack)}")
                    continue
                served.update(counters[i].get("services") or [])
                staff_tasks.append((conn, cid, random.Random(args.seed * 1000 + i), sbot))
            soak.services = sorted(served)
            result["queue_setup"] = {"staff": len(staff_tasks), "services": soak.services}

            # bots
            n_cit = round(args.bots * args.citizens / 100.0)
            soak.bots = [Bot(i, f"soak-{i}", citizen=i < n_cit,
                             rtc=n_cit <= i < n_cit + args.rtc_bots,
                             rng=random.Random(args.seed * 7919 + i)) for i in range(args.bots)]
            print(f"connecting {args.bots} bots ({n_cit} citizens, {len(staff_tasks)} staff) "
                  f"to {args.room} ...", flush=True)
            lag_task = asyncio.create_task(soak.lag())
            t_ramp = time.monotonic()
            ok = await _bounded(soak.bots, 32, lambda b: soak.attach(http, b))
            result["ramp"] = {"seconds": round(time.monotonic() - t_ramp, 1),
                              "joined": sum(ok), "errors": dict(soak.tally.errors)}
            print(f"{sum(ok)}/{args.bots} joined in {result['ramp']['seconds']} s", flush=True)
            if sum(ok) == 0:
                raise RuntimeError("no bot could join")

            soak.tasks = [asyncio.create_task(soak.mover()), asyncio.create_task(soak.chatter()),
                          asyncio.create_task(soak.churner()), asyncio.create_task(soak.reviver())]
            soak.tasks += [asyncio.create_task(soak.staff(c, cid, r)) for c, cid, r, _ in
                           staff_tasks]
            soak.tasks += [asyncio.create_task(soak.citizen(b)) for b in soak.bots if b.citizen]

            t0 = time.monotonic()
            duration = args.minutes * 60.0
            prev = base_metrics
            me.sample()
            while True:
                await asyncio.sleep(args.sample_s)
                now = time.monotonic() - t0
                try:
                    m = await scrape(mon, url)
                except (aiohttp.ClientError, OSError, TimeoutError):
                    soak.tally.err("scrape")
                    continue
                samples.append(_sample(now, m, prev, sampler, me, soak))
                prev = m
                print(_progress(samples[-1], duration), flush=True)
                if now >= duration:
                    break

            # stop the load, then count what the server gives back
            soak.stop.set()
            await asyncio.gather(*soak.tasks, return_exceptions=True)
            for conn in soak.staff_conns:
                with contextlib.suppress(Exception):
                    await conn.close()
            await _bounded(soak.bots, 64, soak.detach)
            await http.close()
            lag_task.cancel()
            t_stop = time.monotonic()
            after: dict[str, float] = {}
            leaks: dict[str, Any] = {}
            while True:
                await asyncio.sleep(1.0)
                after = counts_of(await scrape(mon, url), pid)
                leaks = leak_check(baseline, after)
                if not any(v["leak"] for v in leaks.values()) or \
                        time.monotonic() - t_stop > args.settle_s:
                    break
            result["settle_s"] = round(time.monotonic() - t_stop, 1)
            end_proc = sampler.sample() if sampler else None
            result["after"] = {**after, "rss_mb": end_proc.rss_mb if end_proc else None}
            result["leaks"] = leaks
            print(f"after {result['settle_s']} s: {_fmt_counts(after)}", flush=True)

            # graceful shutdown with bots connected
            if (own or args.shutdown_check) and pid and args.shutdown_bots > 0:
                async with aiohttp.ClientSession(timeout=timeout) as sd_http:
                    result["shutdown"] = await _shutdown_check(soak, sd_http, pid, proc, args)
                print(f"shutdown: {result['shutdown']}", flush=True)
    finally:
        soak.stop.set()
        if not http.closed:
            await http.close()
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
    result["samples"] = samples
    result["tally"] = {"errors": soak.tally.errors, "counts": soak.tally.counts,
                       "chat_ack_ms": summarize(soak.tally.chat_ms),
                       "take_ack_ms": summarize(soak.tally.take_ms),
                       "generator_loop_lag_ms": summarize(soak.loop_lag_ms)}
    result["queue"] = queue_consistency(soak.tally)
    result["run_s"] = round(time.monotonic() - t_run, 1)
    result["summary"] = summary(result, args.minutes)
    result["verdict"] = verdict(result)
    return result


def _sample(t: float, m: dict[str, float], prev: dict[str, float], sampler: ProcSampler | None,
            me: ProcSampler, soak: Soak) -> dict[str, Any]:
    ps = sampler.sample() if sampler else None
    gs = me.sample()
    c = counts_of(m, sampler.pid if sampler else None)
    p99 = histogram_quantile(prev, m, "metahall_tick_duration_seconds", 0.99)
    skipped = m.get("metahall_ticks_skipped_total", 0.0) - prev.get("metahall_ticks_skipped_total",
                                                                     0.0)
    lag = soak.loop_lag_ms[-200:]
    host = soak.host.sample()
    others = None
    cores = soak.server_cores
    if ps is not None and cores and len(cores) < len(host):
        # CPU of the server's own cores used by other processes (a shared machine)
        others = round(max(0.0, sum(host[c] for c in cores if c < len(host)) - ps.cpu_percent), 1)
    return {
        "t": round(t, 1),
        "rss_mb": ps.rss_mb if ps else round(m.get("process_resident_memory_bytes", 0) / 1e6, 1),
        "cpu": ps.cpu_percent if ps else None,
        "tick_p50_ms": _ms(m.get('metahall_tick_recent_seconds{quantile="0.5"}')),
        "tick_p99_ms": _ms(m.get('metahall_tick_recent_seconds{quantile="0.99"}')),
        "tick_max_ms": _ms(m.get('metahall_tick_recent_seconds{quantile="1"}')),
        "tick_hist_p99_le_ms": _ms(p99),
        "ticks_skipped": int(skipped),
        **{k: int(v) for k, v in c.items()},
        "members": int(_sum(m, "metahall_room_members{")),
        "bots_connected": sum(1 for b in soak.bots if b.conn is not None and not b.conn.closed),
        "gen_cpu": gs.cpu_percent if gs else None,
        "host_cpu": host,
        "others_on_server_cores": others,
        "load1": round(os.getloadavg()[0], 2),
        "gen_lag_p99_ms": round(sorted(lag)[int(0.99 * (len(lag) - 1))], 1) if lag else None,
        "errors": sum(soak.tally.errors.values()),
        "top_errors": dict(sorted(soak.tally.errors.items(), key=lambda kv: -kv[1])[:3]),
        "chat_ok": soak.tally.counts.get("chat_ok", 0),
        "tickets": soak.tally.counts.get("tickets_taken", 0),
    }


def _ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000, 2)


def _fmt_counts(c: dict[str, float]) -> str:
    return " ".join(f"{k}={int(v)}" for k, v in c.items())


def _progress(s: dict[str, Any], duration: float) -> str:
    return (f"[{s['t']:6.0f}/{duration:.0f}s] bots={s['bots_connected']} rss={s['rss_mb']}MB "
            f"cpu={s['cpu']}% tick p50/p99/max={s['tick_p50_ms']}/{s['tick_p99_ms']}/"
            f"{s['tick_max_ms']}ms tasks={s['tasks']} fds={s['fds']} sio={s['sio_sessions']} "
            f"peers={s['peers_open']} rooms={s['rooms']} chat={s['chat_ok']} "
            f"tickets={s['tickets']} err={s['errors']} gen={s['gen_cpu']}%/"
            f"{s['gen_lag_p99_ms']}ms" + (f" {s['top_errors']}" if s["top_errors"] else ""))


async def _shutdown_check(soak: Soak, http: aiohttp.ClientSession, pid: int,
                          proc: asyncio.subprocess.Process | None,
                          args: argparse.Namespace) -> dict[str, Any]:
    soak.stop.clear()  # readers count disconnects again (none expected before the signal)
    before_errors = sum(soak.tally.errors.values())
    bots = [Bot(20_000 + i, f"soak-down-{i}") for i in range(args.shutdown_bots)]
    joined = await _bounded(bots, 32, lambda b: soak.attach(http, b))
    connected = [b for b, ok in zip(bots, joined, strict=True) if ok]
    for b in connected:
        b.closing = True  # the server closes them: not an error
    sig = signal.SIGINT if args.signal == "INT" else signal.SIGTERM
    t0 = time.monotonic()
    os.kill(pid, sig)
    exit_code: int | None = None
    exited = False
    if proc is not None:
        try:
            exit_code = await asyncio.wait_for(proc.wait(), args.exit_wait_s)
            exited = True
        except TimeoutError:
            pass
    else:
        end = t0 + args.exit_wait_s
        while time.monotonic() < end and psutil.pid_exists(pid):  # noqa: ASYNC110 - not ours
            await asyncio.sleep(0.05)
        exited = not psutil.pid_exists(pid)
    exit_s = round(time.monotonic() - t0, 2) if exited else None
    readers = [b.reader for b in connected if b.reader is not None]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*readers, return_exceptions=True), 5.0)
    closed = sum(1 for b in connected if b.conn is not None and b.conn.closed)
    return {
        "signal": f"SIG{args.signal}",
        "bots_connected": len(connected),
        "join_errors": len(bots) - len(connected),
        "notice_received": sum(1 for b in connected if b.shutdown_notice),
        "connections_closed": closed,
        "exited": exited,
        "exit_s": exit_s,
        "exit_code": exit_code,
        "errors_before": before_errors,
    }


def queue_consistency(t: Tally) -> dict[str, Any]:
    """Numbers issued are unique within a service; everything staff finished was issued to a
    bot (or to one whose ``queue.take`` ack was lost with its connection: the server issued the
    ticket, the bot never heard of it; at most one such ticket per lost ack); every queue.done
    a bot saw matches what staff finished it with."""
    seen: dict[tuple[str, str], int] = {}
    for service, number in t.tickets.values():
        seen[(service, number)] = seen.get((service, number), 0) + 1
    dup = sum(n - 1 for n in seen.values() if n > 1)
    unknown_finished = [tid for tid in t.finished if tid not in t.tickets]
    lost_acks = t.errors.get("take_no_ack", 0)
    mismatched = [tid for tid, outcome in t.done_seen.items()
                  if tid in t.finished and t.finished[tid] != outcome]
    return {
        "issued": len(t.tickets),
        "duplicate_numbers": dup,
        "called": len(t.called),
        "finished": len(t.finished),
        "finished_not_issued": len(unknown_finished),
        "take_acks_lost": lost_acks,
        "done_seen": len(t.done_seen),
        "done_outcome_mismatch": len(mismatched),
        "left": t.counts.get("tickets_left", 0),
        "ratings": t.counts.get("ratings", 0),
        "consistent": dup == 0 and len(unknown_finished) <= lost_acks and not mismatched,
    }


def _window(samples: list[dict[str, Any]], lo: float, hi: float, key: str) -> list[float]:
    return [s[key] for s in samples if lo <= s["t"] <= hi and s.get(key) is not None]


def summary(r: dict[str, Any], minutes: float) -> dict[str, Any]:
    samples = r["samples"]
    if not samples:
        return {}
    end = samples[-1]["t"]
    w = min(300.0, end / 3)  # first and last 5 minutes (a third of a shorter run)
    first = _window(samples, 0, w, "tick_p99_ms")
    last = _window(samples, end - w, end, "tick_p99_ms")
    rss = [(s["t"], s["rss_mb"]) for s in samples if s.get("rss_mb")]
    half = [(t, v) for t, v in rss if t >= end / 2]
    cpu = [s["cpu"] for s in samples if s.get("cpu") is not None]
    return {
        "window_s": round(w, 1),
        "rss_mb_first": rss[0][1] if rss else None,
        "rss_mb_last": rss[-1][1] if rss else None,
        "rss_mb_max": max(v for _, v in rss) if rss else None,
        "rss_slope_mb_per_10min": rss_slope_mb_per_10min(rss),
        "rss_slope_second_half_mb_per_10min": rss_slope_mb_per_10min(half),
        "tick_p99_ms_first": _mean(first),
        "tick_p99_ms_last": _mean(last),
        "tick_p50_ms_mean": _mean(_window(samples, 0, end, "tick_p50_ms")),
        "tick_max_ms": max(_window(samples, 0, end, "tick_max_ms"), default=None),
        "ticks_skipped": sum(s["ticks_skipped"] for s in samples),
        "server_cpu_mean": _mean(cpu),
        "generator_cpu_mean": _mean([s["gen_cpu"] for s in samples if s.get("gen_cpu")]),
        "generator_lag_p99_ms_max": max((s["gen_lag_p99_ms"] for s in samples
                                         if s.get("gen_lag_p99_ms") is not None), default=None),
        "bots_min": min(s["bots_connected"] for s in samples),
        "others_on_server_cores_mean": _mean([s["others_on_server_cores"] for s in samples
                                              if s.get("others_on_server_cores") is not None]),
        "load1_max": max(s["load1"] for s in samples),
        "errors": sum(r["tally"]["errors"].values()),
    }


def _mean(xs: list[float]) -> float | None:
    return round(sum(xs) / len(xs), 2) if xs else None


def verdict(r: dict[str, Any]) -> dict[str, Any]:
    s = r.get("summary") or {}
    slope = s.get("rss_slope_second_half_mb_per_10min")
    rss_ok = slope is not None and slope <= RSS_FLAT_MB_PER_10MIN
    f, last = s.get("tick_p99_ms_first"), s.get("tick_p99_ms_last")
    tick_ok = f is not None and last is not None and last <= f * TICK_FLAT_FACTOR + TICK_FLAT_MS
    leaks = [k for k, v in (r.get("leaks") or {}).items() if v["leak"]]
    sd = r.get("shutdown")
    shutdown_ok = None
    if sd is not None:
        shutdown_ok = bool(sd["exited"] and sd["notice_received"] == sd["bots_connected"]
                           and sd["bots_connected"] > 0 and (sd["exit_s"] or 99) <= 5.0)
    checks = {
        "rss_flat": rss_ok,
        "tick_p99_flat": tick_ok,
        "no_leaks": not leaks and "leaks" in r,
        "no_errors": s.get("errors", 1) == 0,
        "queue_consistent": bool(r.get("queue", {}).get("consistent")),
        "graceful_shutdown": shutdown_ok,
    }
    busy = s.get("others_on_server_cores_mean")
    quiet = busy is None or busy <= BUSY_PERCENT
    ok = all(v for v in checks.values() if v is not None)
    flat_only = not ok and all(v for k, v in checks.items()
                               if v is not None and k not in ("rss_flat", "tick_p99_flat",
                                                               "no_errors"))
    return {"checks": checks, "leaked": leaks, "pass": ok, "machine_quiet": quiet,
            "inconclusive": not quiet and flat_only}


# -- report -----------------------------------------------------------------------------------
def to_markdown(r: dict[str, Any]) -> str:
    c, s, v = r["config"], r["summary"], r["verdict"]
    lines = [
        "# Soak",
        "",
        f"{c['bots']} bots in `{c['room']}` for {c['minutes']} min: "
        f"walking at {c.get('rate', RATE_HZ):g} Hz, chatting "
        f"every 30-60 s, {c['citizens']} % of them queueing in the service hall with "
        f"{r.get('queue_setup', {}).get('staff', 0)} staff serving (mean {c['serve_s']} s), "
        f"{c['churn']} %/min reconnecting, {c['rtc_bots']} with a WebRTC state channel "
        f"({r['tally']['counts'].get('rtc_links', 0)} peers opened in all). Server: "
        f"{_server_words(r)}"
        f"; machine {r['machine']['cpus']} CPUs, Python {r['machine']['python']}. "
        f"Ramp: {r.get('ramp', {}).get('joined')} joined in {r.get('ramp', {}).get('seconds')} s.",
        "",
        f"**Verdict: {_word(v)}** — " + ", ".join(
            f"{k} {'ok' if ok else ('n/a' if ok is None else 'FAILED')}"
            for k, ok in v["checks"].items()),
        "",
        f"Other processes used {s.get('others_on_server_cores_mean')} % of the server's core on "
        f"average (1-min load average up to {s.get('load1_max')}); above {BUSY_PERCENT:.0f} % "
        "the server was starved and a flatness or error miss is inconclusive.",
        "",
        "## Flatness",
        "",
        "| RSS first MB | RSS last MB | RSS max MB | slope MB/10 min (all) | slope (2nd half) | "
        f"tick p99 ms first {s.get('window_s')} s | last {s.get('window_s')} s | tick p50 ms | "
        "tick max ms | ticks skipped | server CPU % | generator CPU % | gen lag p99 max ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {s.get('rss_mb_first')} | {s.get('rss_mb_last')} | {s.get('rss_mb_max')} | "
        f"{s.get('rss_slope_mb_per_10min')} | {s.get('rss_slope_second_half_mb_per_10min')} | "
        f"{s.get('tick_p99_ms_first')} | {s.get('tick_p99_ms_last')} | "
        f"{s.get('tick_p50_ms_mean')} | {s.get('tick_max_ms')} | {s.get('ticks_skipped')} | "
        f"{s.get('server_cpu_mean')} | {s.get('generator_cpu_mean')} | "
        f"{s.get('generator_lag_p99_ms_max')} |",
        "",
        f"Tick p99 is the mean of the server's p99 over its last {300} ticks "
        "(`metahall_tick_recent_seconds`), sampled every "
        f"{c['sample_s']} s. RSS flat: 2nd-half slope ≤ {RSS_FLAT_MB_PER_10MIN} MB/10 min; tick "
        f"flat: last ≤ {TICK_FLAT_FACTOR} × first + {TICK_FLAT_MS} ms.",
        "",
        f"## Leaks (after the bots left, {r.get('settle_s')} s to settle)",
        "",
        "| counter | before the bots | after | delta | slack | leak |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for k, row in (r.get("leaks") or {}).items():
        lines.append(f"| {k} | {int(row['baseline'])} | {int(row['after'])} | "
                     f"{int(row['delta'])} | {row['slack']} | {'LEAK' if row['leak'] else 'no'} |")
    b, a = r.get("baseline", {}), r.get("after", {})
    lines += [
        "",
        f"All open file descriptors (informational): {int(b.get('fds', 0))} before, "
        f"{int(a.get('fds', 0))} after. "
        f"RSS before the bots {b.get('rss_mb')} MB, after they left {a.get('rss_mb')} MB "
        f"(CPython keeps freed arenas; RSS is judged by its slope under load). Peers owned by "
        f"the rtc/stage tables: {int(b.get('peers_owned', 0))} before, "
        f"{int(a.get('peers_owned', 0))} after.",
        "",
        "## Traffic",
        "",
    ]
    t, q = r["tally"], r["queue"]
    cnt = t["counts"]
    lines += [
        f"Chat: {cnt.get('chat_ok', 0)} acked of {cnt.get('chat_sent', 0)} sent (ack p50 "
        f"{t['chat_ack_ms']['p50']} ms, p99 {t['chat_ack_ms']['p99']} ms). Queue: {q['issued']} "
        f"numbers issued (take ack p50 {t['take_ack_ms']['p50']} ms, p99 "
        f"{t['take_ack_ms']['p99']} ms), {q['called']} called, {q['finished']} finished, "
        f"{q['left']} left the queue, {q['ratings']} ratings; duplicate numbers "
        f"{q['duplicate_numbers']}, finished but not known as issued {q['finished_not_issued']} "
        f"(take acks lost with a connection: {q['take_acks_lost']}), "
        f"queue.done outcome mismatches {q['done_outcome_mismatch']} → "
        f"{'consistent' if q['consistent'] else 'INCONSISTENT'}. Reconnects (churn): "
        f"{cnt.get('churn_reconnects', 0)}; bots dropped by the server and reconnected: "
        f"{cnt.get('reconnects_after_drop', 0)}.",
        "",
        f"Errors: {json.dumps(t['errors']) if t['errors'] else 'none'}.",
        "",
    ]
    sd = r.get("shutdown")
    if sd:
        lines += [
            "## Graceful shutdown",
            "",
            f"{sd['bots_connected']} bots connected and joined, then {sd['signal']}: "
            f"{sd['notice_received']} got the `system` notice with code `shutdown`, "
            f"{sd['connections_closed']} connections closed by the server; the process "
            f"{'exited in ' + str(sd['exit_s']) + ' s' if sd['exited'] else 'did NOT exit'}"
            f" (exit code {sd['exit_code']}).",
            "",
        ]
    return "\n".join(lines)


def _server_words(r: dict[str, Any]) -> str:
    if not r["server"]["own"]:
        return str(r["server"]["url"])
    return "started by the soak" + ("" if r["config"].get("no_pin") else
                                    ", pinned to CPU 0 (the bots on CPU 1)")


def _word(v: dict[str, Any]) -> str:
    if v["pass"]:
        return "PASS"
    return "INCONCLUSIVE (machine busy)" if v.get("inconclusive") else "FAIL"


def plot(r: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    samples = r["samples"]
    if not samples:
        return False
    t = [s["t"] / 60.0 for s in samples]
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    ax1.plot(t, [s["rss_mb"] for s in samples], color="tab:blue")
    ax1.set_ylabel("server RSS (MB)")
    ax1.set_ylim(bottom=0)
    ax1.grid(alpha=0.3)
    ax1.set_title(f"soak: {r['config']['bots']} bots, {r['config']['minutes']} min "
                  f"({_word(r['verdict'])})")
    ax2.plot(t, [s["tick_p99_ms"] for s in samples], label="p99 (last 300 ticks)",
             color="tab:red")
    ax2.plot(t, [s["tick_p50_ms"] for s in samples], label="p50", color="tab:green")
    ax2.set_ylabel("tick duration (ms)")
    ax2.set_ylim(bottom=0)
    ax2.grid(alpha=0.3)
    ax2.legend(loc="upper left")
    ax3.plot(t, [s["cpu"] for s in samples], label="server CPU %", color="tab:purple")
    ax3.plot(t, [s["gen_cpu"] for s in samples], label="generator CPU %", color="tab:gray")
    ax3b = ax3.twinx()
    ax3b.plot(t, [s["tasks"] for s in samples], label="asyncio tasks", color="tab:orange",
              linestyle="--")
    ax3b.plot(t, [s["fds"] for s in samples], label="open fds", color="tab:brown",
              linestyle=":")
    ax3.set_ylabel("CPU % (100 = one core)")
    ax3b.set_ylabel("tasks / fds")
    ax3.set_xlabel("minutes")
    ax3.grid(alpha=0.3)
    h1, l1 = ax3.get_legend_handles_labels()
    h2, l2 = ax3b.get_legend_handles_labels()
    ax3.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m loadtest.soak",
                                description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--bots", type=int, default=500)
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "soak"),
                   help="path stem: <out>.json, <out>.md, <out>.png (and <out>.server.log)")
    p.add_argument("--url", default=None, help="a running server (default: start one)")
    p.add_argument("--server-pid", type=int, default=None,
                   help="pid of the --url server, for RSS/CPU and the shutdown check")
    p.add_argument("--shutdown-check", action="store_true",
                   help="also signal a --server-pid server at the end (it will stop)")
    p.add_argument("--signal", choices=("TERM", "INT"), default="TERM")
    p.add_argument("--shutdown-bots", type=int, default=50)
    p.add_argument("--exit-wait-s", type=float, default=15.0)
    p.add_argument("--room", default="hall:main")
    p.add_argument("--rate", type=float, default=RATE_HZ, help="moves per second per walking bot")
    p.add_argument("--citizens", type=float, default=20.0, help="%% of bots that queue")
    p.add_argument("--staff", type=int, default=4, help="staff bots serving counters")
    p.add_argument("--serve-s", type=float, default=2.0, help="mean service time")
    p.add_argument("--queue-wait-s", type=float, default=300.0,
                   help="a citizen gives up (leaves) after waiting this long")
    p.add_argument("--rtc-bots", type=int, default=20,
                   help="walkers that also open a WebRTC state channel (server aiortc peers)")
    p.add_argument("--churn", type=float, default=3.0, help="%% of walkers reconnecting per minute")
    p.add_argument("--sample-s", type=float, default=5.0)
    p.add_argument("--settle-start-s", type=float, default=3.0)
    p.add_argument("--settle-s", type=float, default=60.0,
                   help="longest wait for the counts to come back after the bots left")
    p.add_argument("--database-url", default=None, help="PostgreSQL URL for the own server")
    p.add_argument("--no-pin", action="store_true", help="no taskset/affinity pinning")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--verbose", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.bots < 1 or args.minutes <= 0 or args.sample_s <= 0:
        print("soak: --bots, --minutes and --sample-s must be positive", file=sys.stderr)
        return 2
    raise_fd_limit()
    try:
        result = asyncio.run(run_soak(args))
    except (RuntimeError, OSError, aiohttp.ClientError, SioError) as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("soak: interrupted", file=sys.stderr)
        return 130
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_name(out.name + ".json").write_text(json.dumps(result, indent=1, default=str),
                                                 encoding="utf-8")
    md = to_markdown(result)
    out.with_name(out.name + ".md").write_text(md, encoding="utf-8")
    plot(result, out.with_name(out.name + ".png"))
    print(md)
    v = result["verdict"]
    return 0 if v["pass"] else (4 if v.get("inconclusive") else 3)


if __name__ == "__main__":
    raise SystemExit(main())

