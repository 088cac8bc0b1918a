"""Socket.IO wiring: token auth at connect, ``hello``, a fast path for ``move``, and one event router.

Every event goes through :meth:`Realtime.dispatch`, the one place that validates the envelope,
rate-limits, serialises a client's events, maps domain errors to ack errors and counts bad input.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import engineio
import msgpack
import socketio
from aiohttp import web
from socketio import packet as sio_packet

from rooms.chat import ChatRouter
from rooms.client import Client
from rooms.errors import BadRequest, MetahallError, NotFound, RateLimited
from rooms.payloads import require_mapping
from server.auth.tokens import TokenError
from server.eio_websocket import WebSocketTransport
from server.errors import UNAVAILABLE_TEXTS, error_body, unavailable_from
from server.http_api import client_ip
from server.limits import ConnectionLimits
from server.outbox import SocketOutbox
from server.rtc import RtcManager

if TYPE_CHECKING:
    from server.app import App

__all__ = ["Realtime", "Handler"]

log = logging.getLogger("metahall.realtime")

Handler = Callable[[Client, object], Awaitable[dict[str, Any] | None]]
PROTO = 1
MAX_FRAME = 64 * 1024
EVENTS_PER_S = 30.0
EVENTS_BURST = 60.0
_UNPACK_LIMITS = {
    "max_str_len": MAX_FRAME, "max_bin_len": MAX_FRAME, "max_array_len": 4096,
    "max_map_len": 1024, "max_ext_len": 0,
}


class _EioLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Engine.IO's logger: what it reports with a traceback (a junk polling body, an unknown
    packet type) is a client's fault, so it is one warning line, not an error and a traceback."""

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        import sys

        self.warning("%s: %r", str(msg) % args if args else msg, sys.exc_info()[1])


def _eio_logger() -> _EioLogger:
    base = logging.getLogger("metahall.engineio")
    base.setLevel(logging.WARNING)  # engineio logs every packet at INFO
    return _EioLogger(base, {})


class _EngineIO(engineio.AsyncServer):  # type: ignore[misc]
    """python-engineio with :class:`WebSocketTransport`, and two fixes for hostile polling requests:

    * a POST over ``max_http_buffer_size`` made engineio close the session *waiting* for its
      close packet to be polled: the request hung, and shutdown waited 60 s for it. It is
      answered 413 here and the session closed at once;
    * a request naming a session that is closing (``KeyError('Session is disconnected')``)
      answers 400 instead of 500."""

    metahall_rt: Realtime | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._async = {**self._async, "websocket": WebSocketTransport}  # type: ignore[has-type]

    async def handle_request(self, request: web.Request) -> Any:
        if request.method == "POST" and (request.content_length or 0) > self.max_http_buffer_size:
            sock = self.sockets.get(request.query.get("sid", ""))
            if sock is not None:
                await sock.close(wait=False, abort=True)
            if self.metahall_rt is not None:
                self.metahall_rt.app.metrics.bad_payloads.labels("frame").inc()
            return web.Response(status=413, text="Payload too large")
        try:
            return await super().handle_request(request)
        except KeyError:
            if self.metahall_rt is not None:
                self.metahall_rt.app.metrics.bad_payloads.labels("eio").inc()
            return web.Response(status=400, text="Session is disconnected")


class _Server(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio with our Engine.IO message entry point."""

    def __init__(self, realtime: Realtime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rt = realtime
        self.eio.metahall_rt = realtime

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return _EngineIO

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        await self._rt.on_eio_message(eio_sid, data)

    async def _parent_eio_message(self, eio_sid: str, data: Any) -> None:
        await super()._handle_eio_message(eio_sid, data)


class _Budget:
    __slots__ = ("tokens", "at")

    def __init__(self) -> None:
        self.tokens, self.at = EVENTS_BURST, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(EVENTS_BURST, self.tokens + (now - self.at) * EVENTS_PER_S)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Realtime:
    def __init__(self, app: App) -> None:
        self.app = app
        s = app.settings
        manager: dict[str, Any] = {}
        if s.redis_url:  # cluster: emits to a user or a role reach every process
            from server.cluster import ClusterRedisManager  # short reconnect backoff

            manager["client_manager"] = ClusterRedisManager(
                s.redis_url, channel=f"{s.redis_prefix}:sio")
        self.sio = _Server(
            self,
            **manager,
            async_mode="aiohttp",
            serializer="msgpack",
            max_http_buffer_size=MAX_FRAME,
            cors_allowed_origins=self._origin_allowed,
            ping_interval=10,
            ping_timeout=20,
            logger=False,
            engineio_logger=_eio_logger(),
        )
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.outbox = SocketOutbox(self.sio, app.metrics, direct=s.direct_writes)
        self.clients: dict[str, Client] = {}
        self.by_eio: dict[str, Client] = {}
        self.by_user: dict[str, set[Client]] = {}
        self._budgets: dict[str, _Budget] = {}
        self.limits = ConnectionLimits(s.max_connections_per_ip, s.max_connections_per_user)
        self._held: dict[str, tuple[str, str]] = {}
        """sid → (client address, user id) counted in :attr:`limits`."""
        self._tasks: set[asyncio.Task[None]] = set()
        self.handlers: dict[str, Handler] = {}
        self.chat = ChatRouter(self.presence, self.outbox, app.moderation.chat,
                               deliver=self.to_user if s.redis_url else None,
                               online=self.online_now)
        self._allowed_origins = set(s.allowed_origins)
        self.on("join", self._join)
        self.on("leave", self._leave)
        self.on("chat", self._chat)
        self.rtc = RtcManager(s.rtc_max_peers, s.ice_servers, on_move=self._move,
                              on_change=self._transport_changed)
        self.outbox.rtc_channel = self.rtc.channel
        self.on("rtc.offer", self.rtc.offer)
        self.on("rtc.close", self._rtc_close)

    # -- registration -------------------------------------------------------------------
    def on(self, event: str, handler: Handler) -> None:
        """Register the handler of one event; features add theirs the same way."""
        self.handlers[event] = handler

    def presence(self, user_id: str) -> list[Client]:
        """The user's connections on this process."""
        return list(self.by_user.get(user_id, ()))

    def online(self, user_id: str) -> bool:
        """Connected anywhere (in a cluster, on any process as of the last heartbeat)."""
        cluster = self.app.cluster
        return user_id in self.by_user or (cluster is not None and cluster.online(user_id))

    async def online_now(self, user_id: str) -> bool:
        """Like :meth:`online` but exact in a cluster (asks Redis)."""
        cluster = self.app.cluster
        if user_id in self.by_user:
            return True
        return cluster is not None and await cluster.is_online(user_id)

    def to_user(self, user_id: str, event: str, data: Any) -> int:
        """Send ``event`` to every connection of the user, on whichever process it is;
        returns how many connections (in a cluster: 1 when online elsewhere, count unknown)."""
        if self.app.cluster is None:
            clients = self.presence(user_id)
            for c in clients:
                self.outbox.emit(c.sid, event, data)
            return len(clients)
        # Emitted even when our presence cache (a heartbeat old) says offline: a publish to
        # nobody costs little, a lost queue.called costs a citizen their turn.
        self.app.spawn(self.sio.emit(event, data, room=f"u:{user_id}"), "emit-user")
        return max(1, len(self.by_user.get(user_id, ()))) if self.online(user_id) else 0

    def to_role(self, role: str, event: str, data: Any) -> None:
        """Send ``event`` to every connection whose user has ``role`` (moderators), anywhere."""
        if self.app.cluster is None:
            for c in list(self.clients.values()):
                if c.has_role(role):
                    self.outbox.emit(c.sid, event, data)
            return
        self.app.spawn(self.sio.emit(event, data, room=f"role:{role}"), "emit-role")

    def _origin_allowed(self, origin: str | None, environ: dict[str, Any]) -> bool:
        if not origin:
            return True
        host = environ.get("HTTP_HOST", "")
        scheme = environ.get("wsgi.url_scheme", "http")
        return origin == f"{scheme}://{host}" or origin in self._allowed_origins

    # -- connect / disconnect -----------------------------------------------------------
    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: object = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            claims = self.app.signer.verify(token)
        except TokenError as exc:
            self.app.metrics.bad_payloads.labels("auth").inc()
            raise socketio.exceptions.ConnectionRefusedError(
                "Authentication failed", {"code": "auth", "message": str(exc)}) from exc
        request = environ.get("aiohttp.request")
        ip = client_ip(request) if request is not None else str(environ.get("REMOTE_ADDR", ""))
        refusal = self.limits.acquire(ip, claims.user_id)  # a place is reserved before any await
        if refusal is not None:
            self.app.metrics.limit_refusals.labels(f"connections_per_{refusal['limit']}").inc()
            raise socketio.exceptions.ConnectionRefusedError("Too many connections", refusal)
        self._held[sid] = (ip, claims.user_id)  # a disconnect during _admit releases it too
        try:
            await self._admit(sid, environ, auth, claims)
        except BaseException:
            held = self._held.pop(sid, None)
            if held is not None:
                self.limits.release(*held)
            raise

    async def _admit(self, sid: str, environ: dict[str, Any], auth: object, claims: Any) -> None:
        try:
            user = await self.app.accounts.get(claims.user_id)
        except Exception as exc:  # database down: refuse clearly, the client retries
            log.warning("connect refused, accounts unavailable: %s", exc)
            raise socketio.exceptions.ConnectionRefusedError(
                "Service unavailable", {"code": "unavailable", "message": UNAVAILABLE_TEXTS["en"],
                                        "texts": dict(UNAVAILABLE_TEXTS)}) from exc
        if user is None or user.token_version != claims.token_version:
            raise socketio.exceptions.ConnectionRefusedError(
                "Authentication failed", {"code": "auth", "message": "token revoked"})
        lang = auth.get("lang") if isinstance(auth, dict) else None
        if lang not in ("zh-CN", "en"):
            accept = str(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
            lang = "zh-CN" if accept.lower().startswith("zh") else "en"
        refusal = self.app.mod.connect_refusal(user.id, lang)  # moderation: banned users
        if refusal is not None:
            raise socketio.exceptions.ConnectionRefusedError("Banned", refusal)
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/") or ""
        client = Client(sid=sid, user=user, eio_sid=eio_sid, lang=lang)
        self.clients[sid] = client
        self.by_eio[eio_sid] = client
        self.by_user.setdefault(user.id, set()).add(client)
        self.outbox.eio_sids[sid] = eio_sid
        self._budgets[sid] = _Budget()
        if self.app.cluster is not None:
            await self.app.cluster.user_here(user.id, True)
            await self.sio.enter_room(sid, f"u:{user.id}")
            for role in ("moderator", "staff", "admin"):
                if client.has_role(role):
                    await self.sio.enter_room(sid, f"role:{role}")
        self.app.metrics.connections.inc()
        log.info("connected user=%s sid=%s", user.id, sid)

    async def _on_disconnect(self, sid: str, reason: object = None) -> None:
        held = self._held.pop(sid, None)
        if held is not None:
            self.limits.release(*held)
        client = self.clients.pop(sid, None)
        if client is None:
            return
        self.by_eio.pop(client.eio_sid, None)
        self._budgets.pop(sid, None)
        users = self.by_user.get(client.user.id)
        if users is not None:
            users.discard(client)
            if not users:
                del self.by_user[client.user.id]
                if self.app.cluster is not None:
                    await self.app.cluster.user_here(client.user.id, False)
        self.app.metrics.connections.dec()
        await self.rtc.close(sid)
        async with client.lock:
            await self.app.registry.leave(client, consented=False)
        self.outbox.eio_sids.pop(sid, None)
        log.info("disconnected user=%s sid=%s", client.user.id, sid)

    # -- the Engine.IO entry point ------------------------------------------------------
    async def on_eio_message(self, eio_sid: str, data: Any) -> None:
        """Decode once; ``move`` goes straight to the room, other events to :meth:`dispatch`."""
        m = self.app.metrics
        if eio_sid in self.sio._binary_packet or not isinstance(data, bytes):
            m.bad_payloads.labels("frame").inc()
            return
        try:
            pkt = msgpack.unpackb(data, strict_map_key=False, **_UNPACK_LIMITS)
        except Exception:  # msgpack raises many types on hostile input
            m.bad_payloads.labels("decode").inc()
            return
        if not isinstance(pkt, dict) or pkt.get("nsp", "/") != "/":
            m.bad_payloads.labels("envelope").inc()
            return
        ptype = pkt.get("type")
        if ptype != sio_packet.EVENT:
            if ptype in (sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.ACK):
                try:
                    await self.sio._parent_eio_message(eio_sid, data)
                except (ValueError, KeyError, TypeError, AttributeError):
                    m.bad_payloads.labels("envelope").inc()
                    return
                if ptype == sio_packet.CONNECT:
                    self._after_connect(eio_sid)
            else:
                m.bad_payloads.labels("packet_type").inc()
            return
        client = self.by_eio.get(eio_sid)
        if client is None:
            m.bad_payloads.labels("not_connected").inc()
            return
        args = pkt.get("data")
        ack_id = pkt.get("id")
        if not isinstance(ack_id, int) or isinstance(ack_id, bool) or ack_id < 0:
            ack_id = None
        if not isinstance(args, list) or not args or not isinstance(args[0], str):
            m.bad_payloads.labels("envelope").inc()
            if ack_id is not None:
                await self._ack(eio_sid, ack_id, BadRequest("event must be [name, payload]"))
            return
        event = args[0]
        payload = args[1] if len(args) > 1 else None
        if event == "move":
            self._move(client, payload)
            return
        m.events_in.labels(event if event in self.handlers or "." in event else "_unknown").inc()
        budget = self._budgets.get(client.sid)
        if budget is not None and not budget.take():
            m.bad_payloads.labels("rate_limited").inc()
            if ack_id is not None:
                await self._ack(eio_sid, ack_id, RateLimited("Too many events; slow down."))
            return
        task = asyncio.create_task(self.dispatch(client, event, payload, ack_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _move(self, client: Client, payload: object) -> None:
        """A ``move`` from Socket.IO or the WebRTC channel: straight into the room's world."""
        room = client.room
        if room is None or not client.ready:
            self.app.metrics.moves_dropped.labels("not_in_room").inc()
            return
        result = room.move(client, payload)
        if result.dropped:
            self.app.metrics.moves_dropped.labels(result.value).inc()

    def _transport_changed(self, client: Client, transport: str) -> None:
        if client.sid in self.clients:
            self.outbox.emit(client.sid, "rtc.transport", {"transport": transport})
            if client.room is not None and client.eid in client.room.world:
                # Snaps may have been lost in the switch (either way): send the full view once.
                client.room.world.resync(client.eid)

    async def _rtc_close(self, client: Client, payload: object) -> dict[str, Any]:
        return {"closed": await self.rtc.close(client.sid)}

    def _after_connect(self, eio_sid: str) -> None:
        client = self.by_eio.get(eio_sid)
        if client is not None:
            self.outbox.emit(client.sid, "hello", {
                "proto": PROTO, "user": client.user.to_wire(),  # type: ignore[attr-defined]
                "server_time": int(time.time() * 1000),
            })

    async def dispatch(self, client: Client, event: str, payload: object, ack_id: int | None) -> None:
        """Run one event's handler; map its outcome to the ack."""
        handler = self.handlers.get(event)
        result: dict[str, Any] | MetahallError
        try:
            async with client.lock:
                if client.sid not in self.clients:
                    return
                if handler is not None:
                    out = await handler(client, payload)
                elif "." in event and client.room is not None:
                    out = await client.room._message(client, event, payload)
                else:
                    raise NotFound(f"Unknown event {event!r}.")
            result = {"ok": True, **(out or {})}
        except MetahallError as exc:
            if exc.code == "bad_request":
                self.app.metrics.bad_payloads.labels(event if event in self.handlers else "_other").inc()
            result = exc
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            down = unavailable_from(exc)  # database (or Redis) down: a clear, retryable error
            if down is not None:
                log.warning("unavailable event=%s user=%s: %r", event, client.user.id, exc)
            else:
                log.exception("handler failed event=%s user=%s", event, client.user.id)
            result = down or MetahallError("Internal error.")
        if ack_id is not None:
            await self._ack(client.eio_sid, ack_id, result)
        if event == "join" and client.room is not None:
            client.ready = True  # the ack is queued: snaps may follow it now

    async def _ack(self, eio_sid: str, ack_id: int, result: dict[str, Any] | MetahallError) -> None:
        body = result if isinstance(result, dict) else {"ok": False, "error": error_body(result)}
        await self.sio._send_packet(eio_sid, self.sio.packet_class(
            sio_packet.ACK, namespace="/", id=ack_id, data=[body]))

    # -- core events ----------------------------------------------------------------------
    async def _join(self, client: Client, payload: object) -> dict[str, Any]:
        data = require_mapping(payload)
        client.avatar = _clean_avatar(data.get("avatar"))
        if client.room is not None:
            await self.app.registry.leave(client, consented=True)
        for check in self.app.join_checks:
            await check(client, data.get("room"))
        _room, ack = await self.app.registry.join_or_create(data.get("room"), client, dict(data))
        return ack  # in a cluster maybe {"redirect": ...}: the room lives on another process

    async def _leave(self, client: Client, payload: object) -> dict[str, Any]:
        if client.room is None:
            raise NotFound("You are not in a room.")
        await self.app.registry.leave(client, consented=True)
        return {}

    async def _chat(self, client: Client, payload: object) -> dict[str, Any]:
        return await self.chat.handle(client, payload)

    async def shutdown(self) -> None:
        """Tell every client we are going away, then close their connections."""
        for client in list(self.clients.values()):
            self.outbox.emit(client.sid, "system", {
                "code": "shutdown", "level": "warning",
                "text": {"zh-CN": "服务器正在重启，请稍候自动重连。",
                         "en": "The server is restarting; you will be reconnected."},
            })
        if self.clients:
            await asyncio.sleep(0.05)  # let the notices go out first
            try:
                await asyncio.wait_for(asyncio.gather(
                    *(self.sio.disconnect(sid) for sid in list(self.clients)),
                    return_exceptions=True), timeout=3.0)
            except TimeoutError:
                log.warning("shutdown: %d connections did not close in time", len(self.clients))
        await self.rtc.close_all()
        for task in list(self._tasks):
            task.cancel()


AVATAR_MODELS = ("capsule", "robot", "bear", "fox")


def _clean_avatar(value: object) -> dict[str, Any]:
    if value is None:
        return {"model": "capsule", "color": "#4a90d9"}
    data = require_mapping(value, "avatar")
    model = data.get("model", "capsule")
    color = data.get("color", "#4a90d9")
    if model not in AVATAR_MODELS:
        raise BadRequest(f"avatar.model must be one of {', '.join(AVATAR_MODELS)}", field="avatar")
    if not isinstance(color, str) or len(color) != 7 or color[0] != "#" \
            or any(ch not in "0123456789abcdefABCDEF" for ch in color[1:]):
        raise BadRequest("avatar.color must look like #rrggbb", field="avatar")
    return {"model": model, "color": color.lower()}
