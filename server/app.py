"""The application factory: one ``App`` object owns every part; aiohttp cleanup contexts run them."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from rooms.base import RoomContext
from rooms.client import Client
from rooms.errors import RoomHookError
from rooms.expo import ExpoService  # expo
from rooms.hall import HallService  # service hall
from rooms.kinds import ROOM_KINDS
from rooms.registry import RoomRegistry
from rooms.ticker import Ticker
from server import (  # hall_http: service hall; moderation_http: moderation
    hall_http,
    http_api,
    moderation_http,
)
from server.auth.service import AccountService
from server.auth.throttle import LocalThrottle, RedisThrottle, SlidingWindow, Throttle
from server.auth.tokens import TokenSigner
from server.cluster import Cluster  # scale-out
from server.cluster_setup import build_cluster, cluster_context  # scale-out
from server.db.engine import Database
from server.directory import DbRoomDirectory, seed_rooms
from server.expo_http import routes as expo_routes  # expo
from server.expo_setup import ExpoParts, build_expo, expo_context  # expo
from server.hall_setup import build_hall, hall_context  # service hall
from server.metrics import Metrics
from server.middleware import error_middleware, security_headers
from server.moderation_gate import ModerationGate
from server.moderation_service import ModerationService  # moderation
from server.realtime import Realtime
from server.rtc_signal import SignalRelay  # social: peer-to-peer signalling
from server.runtime_metrics import watch_runtime
from server.settings import Settings
from server.social_http import routes as social_routes  # social
from server.social_service import SocialService  # social
from server.social_setup import build_social, social_context  # social
from server.stage_http import routes as stage_routes  # stage
from server.stage_setup import StageDesk, build_stage, stage_context  # stage
from server.static import add_static_routes, content_security_policy

__all__ = ["App", "create_app"]

log = logging.getLogger("metahall")

JoinCheck = Callable[[Client, object], Awaitable[None]]


@dataclass(eq=False)
class App:
    """Owns the parts of one server process. No global mutable state lives anywhere else."""

    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    db: Database = field(init=False)
    accounts: AccountService = field(init=False)
    signer: TokenSigner = field(init=False)
    directory: DbRoomDirectory = field(init=False)
    registry: RoomRegistry = field(init=False)
    realtime: Realtime = field(init=False)
    ticker: Ticker = field(init=False)
    hall: HallService = field(init=False)
    """The service hall (queues, counters, appointments); rooms reach it as services["hall"]."""
    login_limiter: Throttle = field(init=False)
    guest_limiter: Throttle = field(init=False)
    moderation: ModerationGate = field(init=False)
    mod: ModerationService = field(init=False)
    """Moderation: verdicts to cases, reports, actions, sanctions, audit, retention."""
    social: SocialService = field(init=False)  # social: spaces, invites, friends, voice pairs
    signals: SignalRelay = field(init=False)  # social: rtc.signal relay, ICE servers for clients
    stage: StageDesk = field(init=False)  # stage: talks, media relay, Q&A
    expo: ExpoService = field(init=False)  # expo: booths, leads, meetings, analytics
    expo_parts: ExpoParts = field(init=False)  # expo: uploads directory and limits
    join_checks: list[JoinCheck] = field(default_factory=list)
    """Async checks run before every join (bans, private rooms); raise to refuse."""
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    cluster: Cluster | None = field(init=False, default=None)
    """Set when METAHALL_REDIS_URL is: placement, presence and the bus shared by processes."""

    def __post_init__(self) -> None:
        s = self.settings
        self.db = Database(s.effective_database_url)
        self.accounts = AccountService(self.db)
        self.signer = TokenSigner(s.load_secret(), s.token_ttl_s)
        self.directory = DbRoomDirectory(self.db, s)
        self.moderation = ModerationGate(s, self.metrics)
        self.accounts.name_gate = self.moderation.display_name
        self.cluster = build_cluster(self)  # scale-out
        self.login_limiter = self._throttle("login", s.login_attempts_per_minute)
        self.guest_limiter = self._throttle("guest", s.guest_logins_per_minute)
        self.realtime = Realtime(self)
        ctx = RoomContext(outbox=self.realtime.outbox, tick_hz=s.tick_hz,
                          on_hook_error=self._hook_error)
        self.registry = RoomRegistry(self.directory, ctx)
        for kind, cls in ROOM_KINDS.items():
            self.registry.define(kind, cls)
        self.hall = build_hall(self)  # service hall: events, ctx.services["hall"]
        self.mod = ModerationService(self)  # moderation: report/mod.action events, join check
        self.social, self.signals = build_social(self)  # social: events, join check, rtc.signal
        self.stage = build_stage(self)  # stage: stage.* events, media relay
        self.expo = build_expo(self)  # expo: events, ctx.services["expo"]
        self.expo_parts = ExpoParts(self)  # expo
        watch_runtime(self)  # leak counters on /metrics
        self.ticker = Ticker(self.registry, s.tick_hz, observe=self.metrics.observe_tick,
                             on_skip=self.metrics.ticks_skipped.inc)

    def _throttle(self, name: str, per_minute: int) -> Throttle:
        """A per-minute limit: in this process, or (cluster mode) shared by every process."""
        local = SlidingWindow(per_minute, 60.0)
        if self.cluster is None:
            return LocalThrottle(local)
        return RedisThrottle(self.cluster.r, f"{self.cluster.prefix}:rl:{name}", per_minute, 60.0,
                             local)

    def _hook_error(self, error: RoomHookError) -> None:
        self.metrics.hook_errors.labels(error.hook).inc()

    def spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        """Start a background task the app owns and cancels at shutdown."""
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def refresh_gauges(self) -> None:
        rooms: dict[str, int] = dict.fromkeys(ROOM_KINDS, 0)
        members: dict[str, int] = dict.fromkeys(ROOM_KINDS, 0)
        for room in self.registry.rooms():
            rooms[room.kind] = rooms.get(room.kind, 0) + 1
            members[room.kind] = members.get(room.kind, 0) + room.members
        for kind in rooms:
            self.metrics.rooms.labels(kind).set(rooms[kind])
            self.metrics.members.labels(kind).set(members[kind])

    async def _janitor(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, min(10.0, self.settings.empty_room_grace_s / 2)))
            await self.registry.dispose_idle(time.time(), self.settings.empty_room_grace_s)


def create_app(settings: Settings | None = None) -> web.Application:
    """Build the aiohttp application with every part wired in."""
    settings = settings or Settings.from_env()
    app_state = App(settings)
    csp = content_security_policy(settings.webclient_dir)
    web_app = web.Application(middlewares=[security_headers(csp), error_middleware],
                              client_max_size=1024 * 1024)
    web_app[http_api.APP_KEY] = app_state
    web_app.add_routes(http_api.routes)
    web_app.add_routes(hall_http.routes)  # service hall
    web_app.add_routes(moderation_http.routes)  # moderation
    web_app.add_routes(social_routes)  # social
    web_app.add_routes(stage_routes)  # stage
    web_app.add_routes(expo_routes)  # expo
    app_state.realtime.sio.attach(web_app)
    add_static_routes(web_app, settings.webclient_dir)

    startup_lock: list[AsyncConnection | None] = [None]

    async def database(_: web.Application) -> AsyncIterator[None]:
        # Several processes may start at once on one PostgreSQL database (a cluster): migrating
        # and seeding happen one process at a time, until the last start-up step has run.
        lock = startup_lock[0] = await app_state.db.startup_lock()
        await app_state.db.migrate()
        await seed_rooms(app_state.db, settings.seed_demo)
        yield
        await app_state.db.startup_unlock(lock)
        await app_state.db.close()

    async def realtime(_: web.Application) -> AsyncIterator[None]:
        app_state.spawn(app_state.ticker.run(), "ticker")
        app_state.spawn(app_state._janitor(), "janitor")
        log.info("serving rooms tick_hz=%d", settings.tick_hz)
        yield
        await app_state.realtime.shutdown()
        for task in list(app_state.tasks):
            task.cancel()
        await asyncio.gather(*app_state.tasks, return_exceptions=True)
        await app_state.registry.close_all()

    web_app.cleanup_ctx.append(database)

    async def startup_done(_: web.Application) -> None:
        # on_startup runs after every cleanup context's start-up part: all seeding is done.
        await app_state.db.startup_unlock(startup_lock[0])
        # Start-up leaves a few hundred thousand long-lived objects (modules, SQLAlchemy, numpy,
        # every feature's state); full GC passes over them showed up as tick stalls and CPU
        # under load. Freeze them out of the collector -- after *every* feature has started,
        # not just the rooms -- and collect young objects less often.
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 20, 20)

    web_app.on_startup.append(startup_done)
    web_app.cleanup_ctx.append(realtime)
    web_app.cleanup_ctx.append(cluster_context(app_state))  # scale-out: stops before realtime

    async def close_connections(_: web.Application) -> None:
        # on_shutdown runs before aiohttp waits for open handlers: closing the WebSockets here
        # lets a Ctrl-C finish at once instead of after the shutdown timeout.
        await app_state.realtime.shutdown()

    web_app.on_shutdown.append(close_connections)
    web_app.cleanup_ctx.append(hall_context(app_state))  # service hall: load, seed, sweep

    async def moderation(_: web.Application) -> AsyncIterator[None]:  # moderation
        await app_state.mod.start()
        yield
        await app_state.mod.stop()

    web_app.cleanup_ctx.append(moderation)
    web_app.cleanup_ctx.append(social_context(app_state))  # social: load spaces, sweep
    web_app.cleanup_ctx.append(stage_context(app_state, app_state.stage))  # stage: sweep, peers
    web_app.cleanup_ctx.append(expo_context(app_state))  # expo: load, seed demo, reminders
    return web_app
