"""One generator process: a swarm of bots on one event loop.

Phases: log every bot in as a guest (bounded concurrency, backoff on 429) and
report ``ready``; wait for the coordinator's ``go`` with the shared start time
``t0``; open connections spread evenly over the ramp (bot ``i`` of ``n`` at
``t0 + (ramp - settle) * i / n``, over all processes); ``join`` the room; walk; stop after the
measured duration and close every connection.

Sending is one scheduler task, not one task per bot: each bot is given a phase
slot within the move period, and the scheduler wakes once per slot and sends the
``move`` of every bot whose grid time has come, position computed for that grid
time (see :mod:`loadtest.walk`). Receiving is one reader task per connection;
only observer bots (:mod:`loadtest.observer`) decode snaps, the others count bytes.

With ``transport="webrtc"`` each bot, once joined, opens a WebRTC ``state`` channel
(:mod:`loadtest.rtcbot`) and only then starts walking; its moves go on the channel while it
is open (else over Socket.IO), and observers also decode the snaps that arrive on it.
"""

from __future__ import annotations

import asyncio
import gc
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import numpy as np

from .config import LoadConfig
from .conn import MAX_REDIRECTS, ConnectRefused, SioConnection, SioError, connect, redirect_target
from .frames import MoveEncoder
from .metrics import SampleSet
from .observer import Observer
from .roster import BotJoined, Present, Roster
from .rtcbot import RtcObserver, RtcRefused, encode_move, open_link
from .walk import Region, Walk

__all__ = ["ANIM_WALK", "Worker", "wall_ms"]

ANIM_WALK = 1
_GOLDEN = 0.6180339887498949
_SLOT_MS = 5.0
_OBSERVER_WARMUP_MS = 1000.0
_NEIGHBOUR_WARMUP_MS = 1000.0

Send = Callable[[tuple[Any, ...]], None]


def wall_ms() -> float:
    return time.time() * 1000.0


MAX_REJOIN_FAILURES = 20
"""With ``reconnect``: failed tries in a row (backing off up to 5 s) before a bot gives up."""


@dataclass(slots=True)
class Bot:
    index: int
    name: str
    slot: int
    observer: Observer | None
    token: str | None = None
    conn: SioConnection | None = None
    walk: Walk | None = None
    y: float = 0.0
    last_k: int = -1
    send_failed: bool = False
    connecting: bool = False
    """Between the start of its connection and the join ack (or a failure)."""
    rtc: Any = None
    """Its :class:`loadtest.rtcbot.RtcLink` once the WebRTC channel opened (webrtc only)."""
    lives: int = 0
    """Joins so far (more than one with ``reconnect``)."""


class Worker:
    """The bots of one generator process; talks to the coordinator through ``send``."""

    def __init__(self, cfg: LoadConfig, worker_id: int, send: Send) -> None:
        self.cfg = cfg
        self.worker_id = worker_id
        self._send = send
        self.roster = Roster(cfg.seed, cfg.period_ms)
        self._nslots = max(1, round(cfg.period_ms / _SLOT_MS))
        self._slot_ms = cfg.period_ms / self._nslots
        obs = cfg.observer_indices()
        self._rtc = cfg.transport == "webrtc"
        observer_cls: type[Observer] = RtcObserver if self._rtc else Observer
        self.bots = [
            Bot(
                index=i,
                name=f"{cfg.name_prefix}{i}",
                slot=int(((i * _GOLDEN) % 1.0) * self._nslots),
                observer=observer_cls("") if i in obs else None,
            )
            for i in cfg.worker_indices(worker_id)
        ]
        self.errors: Counter[str] = Counter()
        self._errors_sent: Counter[str] = Counter()
        self.connected = 0
        self.joined = 0
        self.redirects = 0
        """Join redirects followed (a cluster sends a bot to the node that runs its room)."""
        self.moves = 0
        self.disconnects = 0
        self.rejoins = 0
        """Bots back in the room after losing their connection (``reconnect``)."""
        self.samples = SampleSet()
        self.loop_lag_ms: list[float] = []
        self.send_lag_ms: list[float] = []
        self._stop = asyncio.Event()
        self._go: asyncio.Future[float] | None = None
        self._stopping = False
        self._bounds: Region | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last = dict.fromkeys(
            ("moves", "bytes", "snap_bytes", "frames", "snaps", "corrections", "protocol",
             "rtc_msgs", "rejoins"), 0
        )

    # -- coordinator messages -------------------------------------------------

    def deliver(self, msg: tuple[Any, ...]) -> None:
        """Handle one message from the coordinator."""
        kind = msg[0]
        if kind == "bot":
            info = BotJoined.from_wire(msg)
            if info.index % self.cfg.procs != self.worker_id:
                self.roster.add(info)
        elif kind == "gone":
            self.roster.mark_gone(int(msg[1]), float(msg[2]))
        elif kind == "go":
            if self._go is not None and not self._go.done():
                self._go.set_result(float(msg[1]))
        elif kind == "stop":
            self._stop.set()
            if self._go is not None and not self._go.done():
                self._go.cancel()

    # -- main -----------------------------------------------------------------

    async def run(self) -> None:
        """Run all phases; always ends with a ``done`` message."""
        loop = asyncio.get_running_loop()
        self._go = loop.create_future()
        if self._stop.is_set():
            self._go.cancel()
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=30)
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                self._session = session
                await self._run_phases()
        finally:
            self._send(("done", self.worker_id, self._stats_payload()))

    async def _run_phases(self) -> None:
        cfg = self.cfg
        self._bounds = await self._fetch_bounds()
        await self._login_all()
        self._send(("ready", self.worker_id, sum(b.token is not None for b in self.bots)))
        try:
            assert self._go is not None
            t0 = await asyncio.wait_for(self._go, cfg.login_timeout_s + 30.0)
        except (asyncio.CancelledError, TimeoutError):
            return
        self._spawn(self._lag_monitor())
        self._spawn(self._stats_loop())
        self._spawn(self._score_loop())
        self._spawn(self._scheduler(t0))
        self._spawn(self._ramp(t0))
        end_ms = t0 + (cfg.ramp_s + cfg.duration_s) * 1000.0
        try:
            await asyncio.wait_for(self._stop.wait(), max(0.0, (end_ms - wall_ms()) / 1000.0))
        except TimeoutError:
            pass
        await self._shutdown()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _shutdown(self) -> None:
        self._stopping = True
        stuck = sum(b.connecting for b in self.bots)
        if stuck:
            self.errors["still_connecting_at_end"] += stuck
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        links = [b.rtc for b in self.bots if b.rtc is not None]
        if links:
            await asyncio.wait(
                [asyncio.create_task(link.close()) for link in links],
                timeout=self.cfg.drain_s + 3.0,
            )
        conns = [b.conn for b in self.bots if b.conn is not None and not b.conn.closed]
        if conns:
            await asyncio.wait(
                [asyncio.create_task(c.close()) for c in conns], timeout=self.cfg.drain_s + 1.0
            )

    # -- login and room layout --------------------------------------------------

    async def _fetch_bounds(self) -> Region | None:
        """The room's floor bounds from ``/api/rooms/{room}/layout`` (None if unavailable)."""
        assert self._session is not None
        url = f"{self.cfg.url.rstrip('/')}/api/rooms/{self.cfg.room}/layout"
        try:
            async with self._session.get(url) as r:
                if r.status != 200:
                    return None
                b = (await r.json())["bounds"]
                return Region(b["min_x"], b["max_x"], b["min_z"], b["max_z"]).shrink(0.5)
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError):
            return None

    async def _login_all(self) -> None:
        sem = asyncio.Semaphore(self.cfg.login_concurrency)
        deadline = time.monotonic() + self.cfg.login_timeout_s

        async def one(bot: Bot) -> None:
            async with sem:
                await self._login(bot, deadline)

        await asyncio.gather(*(one(b) for b in self.bots))

    async def _login(self, bot: Bot, deadline: float) -> None:
        assert self._session is not None
        url = f"{self.cfg.url.rstrip('/')}/api/auth/guest"
        delay, failures = 0.25, 0
        while not self._stop.is_set():
            try:
                async with self._session.post(url, json={"display_name": bot.name}) as r:
                    if r.status in (200, 201):
                        bot.token = str((await r.json())["token"])
                        return
                    if r.status == 429:
                        retry = r.headers.get("Retry-After", "")
                        wait = float(retry) if retry.replace(".", "", 1).isdigit() else delay
                    elif r.status >= 500:
                        failures += 1
                        wait = delay
                    else:
                        self.errors[f"login_http_{r.status}"] += 1
                        return
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
                failures += 1
                wait = delay
            if failures > 5 or time.monotonic() + wait > deadline:
                self.errors["login_failed"] += 1
                return
            await asyncio.sleep(wait * random.uniform(0.8, 1.2))
            delay = min(delay * 2, 5.0)

    # -- bots -------------------------------------------------------------------

    async def _ramp(self, t0: float) -> None:
        cfg = self.cfg
        for bot in self.bots:
            spread_s = max(cfg.ramp_s - cfg.settle_s, 0.0)
            at_ms = t0 + spread_s * 1000.0 * bot.index / cfg.bots
            wait = (at_ms - wall_ms()) / 1000.0
            if wait > 0:
                await asyncio.sleep(wait)
            if bot.token is not None:
                self._spawn(self._bot_life(bot, t0))

    async def _connect_and_join(
        self, bot: Bot
    ) -> tuple[SioConnection, asyncio.Task[str], Any] | None:
        """Connect and send ``join``, following join redirects to the node that runs the room
        (at most MAX_REDIRECTS in a row). Returns the connection, its reader task and the last
        ack (None when the join was not answered); None when no connection was made (counted)."""
        cfg = self.cfg
        assert self._session is not None and bot.token is not None
        url, path = cfg.url, "/socket.io/"
        for hop in range(MAX_REDIRECTS + 1):
            try:
                conn = await connect(
                    self._session,
                    url,
                    bot.token,
                    path=path,
                    wait_s=cfg.connect_timeout_s,
                    compress=cfg.compress,
                )
            except ConnectRefused:
                self.errors["connect_refused"] += 1
                return None
            except SioError:
                self.errors["connect_failed"] += 1
                return None
            if bot.observer is not None:
                conn.on_frame = bot.observer.on_frame
            reader = asyncio.create_task(conn.run())
            try:
                ack = await conn.call("join", {"room": cfg.room}, wait_s=cfg.connect_timeout_s)
            except (SioError, TimeoutError):
                return conn, reader, None
            except BaseException:  # cancelled (the run is ending): leave nothing open
                reader.cancel()
                await conn.close()
                raise
            target = redirect_target(ack)
            if target is None:
                return conn, reader, ack
            await conn.close()
            await asyncio.wait([reader], timeout=2.0)
            reader.cancel()
            if hop == MAX_REDIRECTS:
                break
            self.redirects += 1
            url, path = target
        self.errors["join_redirect_loop"] += 1
        return None

    async def _bot_life(self, bot: Bot, t0: float) -> None:
        """Connect, join and walk until the run ends; with ``reconnect``, come back after a lost
        connection (at most ``MAX_REJOIN_FAILURES`` failed tries in a row, backing off)."""
        failures = 0
        while True:
            lost = await self._one_life(bot, t0)
            if lost is None:
                return
            if not self.cfg.reconnect or self._stopping:
                return
            failures = 0 if lost else failures + 1
            if failures > MAX_REJOIN_FAILURES:
                return
            await asyncio.sleep(min(0.25 * 2 ** failures, 5.0) * random.uniform(0.5, 1.5))
            if self._stopping:
                return

    async def _one_life(self, bot: Bot, t0: float) -> bool | None:
        """One connection: True when a joined bot lost it, False when it never got in (worth
        another try), None when the run is ending or the join was refused for good."""
        bot.connecting = True
        got = await self._connect_and_join(bot)
        if got is None:
            bot.connecting = False
            return False
        conn, reader, ack = got
        bot.conn = conn
        self.connected += 1
        obs = bot.observer
        refused = False
        try:
            try:
                if ack is None:
                    raise SioError("join not answered")
                if self._rtc and isinstance(ack, dict) and ack.get("ok"):
                    await self._open_rtc(bot, conn)
                info = self._joined(bot, ack, t0)
            except (SioError, TimeoutError):
                self.errors["join_timeout"] += 1
                info = None
            except _JoinRefused as exc:
                self.errors[f"join_{exc}"] += 1
                info, refused = None, True
            bot.connecting = False
            if info is None:
                await conn.close()
            else:
                if bot.lives:
                    self.rejoins += 1
                bot.lives += 1
                if obs is not None:
                    obs.instance, obs.self_eid = info.instance, info.eid
                bot.y = info.spawn[1]
                bot.last_k, bot.send_failed = -1, False
                bot.walk = self.roster.add(info)
                self.joined += 1
                self._send(info.to_wire())
            reason = await reader
        finally:
            if not reader.done():
                reader.cancel()
            self.connected -= 1
        if info is None:
            return None if refused or self._stopping else False
        if self._stopping:
            return None
        self.disconnects += 1
        self.errors[f"disconnect_{reason or 'closed'}"] += 1
        now = wall_ms()
        self.roster.mark_gone(bot.index, now)
        self._send(("gone", bot.index, now))
        bot.walk = None
        return True

    async def _open_rtc(self, bot: Bot, conn: SioConnection) -> None:
        """Open the bot's WebRTC state channel; on failure it stays on Socket.IO (counted)."""
        obs = bot.observer
        handler = obs.on_channel if isinstance(obs, RtcObserver) else None
        try:
            link = await open_link(conn, handler, wait_s=self.cfg.rtc_timeout_s)
        except RtcRefused as exc:
            self.errors[f"rtc_fallback_{exc.code}"] += 1
            return
        bot.rtc = link

        def closed() -> None:
            if not self._stopping:
                self.errors["rtc_channel_closed"] += 1

        link.on_close = closed

    def _joined(self, bot: Bot, ack: Any, t0: float) -> BotJoined:
        """Validate the join ack and fix the bot's walk; raise _JoinRefused if it was refused."""
        if not isinstance(ack, dict) or not ack.get("ok"):
            err = ack.get("error") if isinstance(ack, dict) else None
            code = err.get("code") if isinstance(err, dict) else None
            raise _JoinRefused(str(code or "bad_ack"))
        try:
            eid = int(ack["self"])
            sx, sy, sz = (float(v) for v in ack["spawn"][:3])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise _JoinRefused("bad_ack") from exc
        instance = str(ack.get("instance") or ack.get("room") or self.cfg.room)
        p = self.cfg.period_ms
        base = t0 + bot.slot * self._slot_ms
        start = base + math.ceil((wall_ms() + 20.0 - base) / p) * p
        region = Region.around(sx, sz, self.cfg.area_m, self._bounds)
        return BotJoined(bot.index, eid, instance, (sx, sy, sz), start, region.to_tuple())

    async def _scheduler(self, t0: float) -> None:
        """Send each walking bot's ``move`` at its grid times, one wake-up per phase slot."""
        enc = MoveEncoder()
        buckets: list[list[Bot]] = [[] for _ in range(self._nslots)]
        for bot in self.bots:
            buckets[bot.slot].append(bot)
        slot_ms, nslots = self._slot_ms, self._nslots
        done_m = math.floor((wall_ms() - t0) / slot_ms) - 1
        while True:
            now = wall_ms()
            m_now = math.floor((now - t0) / slot_ms)
            for m in range(max(done_m + 1, m_now - nslots + 1), m_now + 1):
                for bot in buckets[m % nslots]:
                    walk, conn = bot.walk, bot.conn
                    if walk is None or conn is None or bot.send_failed:
                        continue
                    k = walk.grid_index(now)
                    if k <= bot.last_k:
                        continue
                    bot.last_k = k
                    due = walk.grid_time(k)
                    x, z, yaw = walk.at(due)
                    link = bot.rtc
                    if link is not None and link.send(encode_move(x, bot.y, z, yaw, ANIM_WALK)):
                        self.moves += 1
                        self.send_lag_ms.append(wall_ms() - due)
                        continue
                    try:
                        await conn.send(enc.encode(x, bot.y, z, yaw, ANIM_WALK))
                    except (aiohttp.ClientError, ConnectionError, RuntimeError):
                        bot.send_failed = True
                        continue
                    self.moves += 1
                    self.send_lag_ms.append(wall_ms() - due)
            done_m = m_now
            await asyncio.sleep(max(0.0, (t0 + (m_now + 1) * slot_ms - wall_ms()) / 1000.0))

    # -- measuring --------------------------------------------------------------

    async def _score_loop(self) -> None:
        """Score each observer about once a second, at random instants.

        Wake-ups are 150-350 ms apart at random (so scorings do not lock onto the
        server's tick phase); each wake-up scores the observers that are due, against
        one computation of the true positions.
        """
        cfg = self.cfg
        observers = [b for b in self.bots if b.observer is not None]
        rng = random.Random(cfg.seed * 7919 + self.worker_id)
        due = {b.index: wall_ms() + rng.uniform(0.0, 1000.0) for b in observers}
        while True:
            await asyncio.sleep(rng.uniform(0.15, 0.35))
            now = wall_ms()
            present: dict[str, Present] = {}
            for bot in observers:
                if due[bot.index] > now:
                    continue
                obs, walk = bot.observer, bot.walk
                if obs is None or walk is None or bot.conn is None or bot.conn.closed:
                    continue
                if walk.start_ms > now - _OBSERVER_WARMUP_MS:
                    continue
                due[bot.index] = now + rng.uniform(500.0, 1500.0)
                inst = obs.instance
                if inst not in present:
                    present[inst] = self.roster.present(now, inst, _NEIGHBOUR_WARMUP_MS)
                x, z, _ = walk.at(now)
                score = obs.score(
                    now, (x, z), bot.index, self.roster, present[inst], cfg.radius_m, cfg.k_nearest
                )
                self.samples.add(score)

    async def _lag_monitor(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(0.05)
            self.loop_lag_ms.append((loop.time() - t - 0.05) * 1000.0)

    async def _stats_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self._send(("stats", self.worker_id, self._stats_payload()))
            # Thousands of connections are hundreds of thousands of long-lived objects;
            # a full collection over them stalls the loop for 100-300 ms. Move them out
            # of the collector's reach (cycles made before this point are not freed).
            gc.freeze()

    def _stats_payload(self) -> dict[str, Any]:
        """Counters since the last payload, and the samples gathered meanwhile."""
        kinds: Counter[str] = Counter()
        for b in self.bots:
            if b.observer is not None:
                kinds.update(b.observer.protocol)
            if b.conn is not None and b.conn.protocol_errors:
                kinds["malformed"] += b.conn.protocol_errors
        links = [b.rtc for b in self.bots if b.rtc is not None]
        rtc_bytes = sum(link.bytes_in for link in links)
        rtc_msgs = sum(link.msgs_in for link in links)
        totals = {
            "moves": self.moves,
            "bytes": sum(b.conn.bytes_in for b in self.bots if b.conn is not None) + rtc_bytes,
            "snap_bytes": sum(b.conn.snap_bytes_in for b in self.bots if b.conn is not None),
            "rejoins": self.rejoins,
            "frames": sum(b.conn.frames_in for b in self.bots if b.conn is not None) + rtc_msgs,
            "snaps": sum(b.observer.snaps for b in self.bots if b.observer is not None),
            "corrections": sum(b.observer.corrections for b in self.bots if b.observer is not None),
            "protocol": sum(kinds.values()),
            "rtc_msgs": rtc_msgs,
        }
        delta = {k: v - self._last[k] for k, v in totals.items()}
        self._last = totals
        errors = self.errors - self._errors_sent
        self._errors_sent = Counter(self.errors)
        s, self.samples = self.samples, SampleSet()

        def arr(v: list[float]) -> Any:
            return np.asarray(v, dtype=np.float32)

        out = {
            "t_ms": wall_ms(),
            "connected": self.connected,
            "joined": self.joined,
            "redirects": self.redirects,
            "walking": sum(b.walk is not None for b in self.bots),
            "rtc_open": sum(link.open for link in links),
            **delta,
            "errors": dict(errors),
            "protocol_kinds": dict(kinds),
            "disconnects": self.disconnects,
            "lat": arr(s.latency_ms),
            "age": arr(s.age_ms),
            "cov": arr(s.coverage),
            "heard": s.heard,
            "total": s.total,
            "unmatched": s.unmatched,
            "loop_lag": arr(self.loop_lag_ms),
            "send_lag": arr(self.send_lag_ms),
        }
        self.loop_lag_ms, self.send_lag_ms = [], []
        return out


class _JoinRefused(Exception):
    """The join ack was not ok; the message is the error code."""
