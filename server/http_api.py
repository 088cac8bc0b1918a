"""HTTP API: accounts, rooms, health and metrics. Handlers stay thin and call the services."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from rooms.errors import AuthError, BadRequest, Banned, Forbidden, NotFound, RateLimited
from rooms.kinds import ROOM_KINDS
from rooms.payloads import ROOM_ID_RE
from server.auth.service import UserInfo
from server.auth.tokens import TokenError

if TYPE_CHECKING:
    from server.app import App

__all__ = ["routes", "APP_KEY", "json_body", "current_user", "client_ip", "drop_connections",
           "drop_local_connections"]

routes = web.RouteTableDef()
APP_KEY: web.AppKey[App] = web.AppKey("metahall", object)  # type: ignore[arg-type]


def _app(request: web.Request) -> App:
    return request.app[APP_KEY]


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or ``BadRequest``."""
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest("The body must be JSON.") from exc
    except RecursionError as exc:  # "[[[[..." a few thousand deep
        raise BadRequest("The body is nested too deeply.") from exc
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    return data


def client_ip(request: web.Request) -> str:
    """The caller's address for per-address limits. Behind a proxy we trust
    (``METAHALL_TRUSTED_PROXIES``), the nearest address in X-Forwarded-For that is not one of
    them; a client cannot forge its way past a proxy that appends to the header."""
    remote = request.remote or "unknown"
    trusted = request.app[APP_KEY].settings.trusted_proxies
    if remote not in trusted:
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return remote


async def current_user(request: web.Request, required: bool = True) -> UserInfo | None:
    """The user behind ``Authorization: Bearer <token>``."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        if required:
            raise AuthError("Sign in first.")
        return None
    app = _app(request)
    try:
        claims = app.signer.verify(header[7:].strip())
    except TokenError as exc:
        raise AuthError("Your session has expired; sign in again.") from exc
    user = await app.accounts.get(claims.user_id)
    if user is None or user.token_version != claims.token_version:
        raise AuthError("Your session has expired; sign in again.")
    if (request.method, request.path) not in WHILE_BANNED and app.mod.ban_of(user.id) is not None:
        # A ban closes the Socket.IO connections; HTTP stays open only for reading one's own
        # account and sanctions, appealing, and signing out.
        raise Banned("You are banned; you can still read your account and appeal.")
    return user


WHILE_BANNED = frozenset({
    ("GET", "/api/me"), ("GET", "/api/me/moderation"), ("POST", "/api/appeals"),
    ("POST", "/api/auth/logout"), ("POST", "/api/auth/password"),
})
"""The signed-in HTTP calls a banned user may still make."""


def drop_connections(app: App, user_id: str) -> int:
    """Close the user's Socket.IO connections (their tokens were revoked): here, and in the
    cluster mode on every other process too (bus message ``auth.revoked``)."""
    if app.cluster is not None:
        app.spawn(app.cluster.publish("auth.revoked", user_id=user_id), "auth-revoked")
    return drop_local_connections(app, user_id)


def drop_local_connections(app: App, user_id: str) -> int:
    clients = app.realtime.presence(user_id)
    for c in clients:
        app.realtime.outbox.disconnect(c.sid)
    return len(clients)


def _session(app: App, user: UserInfo) -> dict[str, Any]:
    return {"token": app.signer.issue(user.id, user.token_version), "user": user.to_wire()}


@routes.post("/api/auth/guest")
async def guest(request: web.Request) -> web.Response:
    app = _app(request)
    data = await json_body(request)
    if await app.guest_limiter.hit(client_ip(request)):
        raise RateLimited("Too many new guests from your address; wait a minute.")
    user = await app.accounts.create_guest(data.get("display_name"))
    app.metrics.logins.labels("guest", "ok").inc()
    return web.json_response(_session(app, user))


@routes.post("/api/auth/register")
async def register(request: web.Request) -> web.Response:
    app = _app(request)
    data = await json_body(request)
    if await app.login_limiter.hit("register:" + client_ip(request)):
        raise RateLimited("Too many attempts; wait a minute.")
    user = await app.accounts.register(
        data.get("username"), data.get("password"), data.get("display_name"))
    app.metrics.logins.labels("register", "ok").inc()
    return web.json_response(_session(app, user), status=201)


@routes.post("/api/auth/login")
async def login(request: web.Request) -> web.Response:
    app = _app(request)
    data = await json_body(request)
    ip_key = "ip:" + client_ip(request)
    user_key = "user:" + str(data.get("username", "")).lower()[:64]
    if await app.login_limiter.blocked(ip_key) or await app.login_limiter.blocked(user_key):
        app.metrics.logins.labels("password", "throttled").inc()
        raise RateLimited("Too many failed sign-ins; wait a minute.")
    try:
        user = await app.accounts.login(data.get("username"), data.get("password"))
    except AuthError:
        await app.login_limiter.hit(ip_key)
        await app.login_limiter.hit(user_key)
        app.metrics.logins.labels("password", "failed").inc()
        raise
    app.metrics.logins.labels("password", "ok").inc()
    return web.json_response(_session(app, user))


@routes.post("/api/auth/logout")
async def logout(request: web.Request) -> web.Response:
    """Revoke every token of the caller (all devices) and close their connections."""
    app = _app(request)
    user = await current_user(request)
    assert user is not None
    await app.accounts.revoke(user.id)
    drop_connections(app, user.id)
    return web.json_response({"ok": True})


@routes.post("/api/auth/password")
async def change_password(request: web.Request) -> web.Response:
    """``{"old_password", "new_password"}``: every older token stops working; a new one comes back."""
    app = _app(request)
    user = await current_user(request)
    assert user is not None
    data = await json_body(request)
    if await app.login_limiter.hit("password:" + user.id):
        raise RateLimited("Too many attempts; wait a minute.")
    changed = await app.accounts.change_password(user.id, data.get("old_password"),
                                                 data.get("new_password"))
    drop_connections(app, user.id)
    return web.json_response(_session(app, changed))


@routes.put("/api/admin/users/{username}/roles")
async def set_user_roles(request: web.Request) -> web.Response:
    """Admin: ``{"roles": [role]}``. Taking a role away revokes the user's tokens and closes
    their connections (a connection keeps the roles it was opened with)."""
    app = _app(request)
    user = await current_user(request)
    assert user is not None
    if "admin" not in user.roles:
        raise Forbidden("Only an admin can change roles.")
    data = await json_body(request)
    roles = data.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise BadRequest("roles must be a list of role names", field="roles")
    before = await app.accounts.by_username(request.match_info["username"])
    if before is None:
        raise NotFound("No such user.")
    changed = await app.accounts.set_roles(request.match_info["username"], roles)
    if changed.token_version != before.token_version:
        drop_connections(app, changed.id)
    return web.json_response(changed.to_wire())


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    user = await current_user(request)
    assert user is not None
    return web.json_response(user.to_wire())


@routes.get("/api/rooms")
async def list_rooms(request: web.Request) -> web.Response:
    app = _app(request)
    out = [
        {"id": o.room_id, "kind": o.kind, "name": o.name, "members": app.registry.members(o.room_id),
         "capacity": o.capacity, "public": o.public}
        for o in await app.directory.list()
        if o.public
    ]
    return web.json_response(out)


@routes.get("/api/rooms/{room_id}/layout")
async def room_layout(request: web.Request) -> web.Response:
    app = _app(request)
    room_id = request.match_info["room_id"]
    opts = await app.directory.get(room_id) if ROOM_ID_RE.match(room_id) else None
    if opts is None or opts.kind not in ROOM_KINDS:
        raise NotFound(f"No room {room_id!r}.")
    if opts.kind == "expo":  # expo: each hall's own floor plan, with its booths' names and colours
        wire = app.expo.layout_wire(room_id)
        if wire is not None:
            return web.json_response(wire)
    return web.json_response(ROOM_KINDS[opts.kind].layout.to_wire(room_id, opts.kind))


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    cluster = _app(request).cluster
    if cluster is not None and not cluster.redis_ok:  # serving local rooms; no placement or bus
        return web.json_response({"ok": True, "status": "degraded", "redis": False})
    return web.json_response({"ok": True})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    app = _app(request)
    app.refresh_gauges()
    return web.Response(body=app.metrics.render(),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
