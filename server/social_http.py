"""HTTP API of social spaces: the directory, creating and managing spaces, invites, friends,
and the ICE servers for peer-to-peer voice. Handlers stay thin and call ``SocialService``
(the same code the Socket.IO events run)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from rooms.client import Client
from rooms.social.errors import SpaceNotFound
from server.http_api import APP_KEY, current_user, json_body
from server.social_service import SocialService, http_client

__all__ = ["routes"]

routes = web.RouteTableDef()


def _svc(request: web.Request) -> SocialService:
    return request.app[APP_KEY].social


async def _caller(request: web.Request, required: bool = True) -> Client | None:
    user = await current_user(request, required=required)
    if user is None:
        return None
    return http_client(user, request.headers.get("Accept-Language"))


async def _must(request: web.Request) -> Client:
    c = await _caller(request)
    assert c is not None
    return c


def _room(request: web.Request, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**(extra or {}), "room": request.match_info["room_id"]}


@routes.get("/api/social/spaces")
async def directory(request: web.Request) -> web.Response:
    """Public spaces and plazas with live member counts (plus your private ones, signed in)."""
    return web.json_response(await _svc(request).directory(await _caller(request, False)))


@routes.post("/api/social/spaces")
async def create(request: web.Request) -> web.Response:
    space = await _svc(request).create(await _must(request), await json_body(request))
    return web.json_response({"space": space}, status=201)


@routes.get("/api/social/spaces/{room_id}")
async def get_space(request: web.Request) -> web.Response:
    caller = await _caller(request, False)
    svc = _svc(request)
    if caller is None:
        space = svc._space(request.match_info["room_id"])
        if space.privacy != "public":
            raise SpaceNotFound()
        return web.json_response({"space": svc.entry(space, None)})
    return web.json_response(await svc.ev_get(caller, _room(request)))


@routes.patch("/api/social/spaces/{room_id}")
async def update(request: web.Request) -> web.Response:
    caller = await _must(request)
    body = await json_body(request)
    svc = _svc(request)
    locked = body.pop("locked", None)
    out = await svc.update(caller, _room(request, body)) if body else None
    if locked is not None:
        out = await svc.lock(caller, _room(request, {"locked": locked}))
    if out is None:
        out = (await svc.ev_get(caller, _room(request)))["space"]
    return web.json_response({"space": out})


@routes.delete("/api/social/spaces/{room_id}")
async def delete(request: web.Request) -> web.Response:
    return web.json_response(await _svc(request).delete(await _must(request), _room(request)))


@routes.get("/api/social/spaces/{room_id}/members")
async def members(request: web.Request) -> web.Response:
    return web.json_response(await _svc(request).members(await _must(request), _room(request)))


@routes.post("/api/social/spaces/{room_id}/invites")
async def invite(request: web.Request) -> web.Response:
    out = await _svc(request).invite(await _must(request),
                                     _room(request, await json_body(request)))
    return web.json_response(out, status=201)


@routes.get("/api/social/spaces/{room_id}/invites")
async def invites(request: web.Request) -> web.Response:
    return web.json_response(await _svc(request).invites(await _must(request), _room(request)))


@routes.delete("/api/social/spaces/{room_id}/invites/{invite_id}")
async def revoke(request: web.Request) -> web.Response:
    data = _room(request, {"invite_id": request.match_info["invite_id"]})
    return web.json_response(await _svc(request).revoke(await _must(request), data))


@routes.post("/api/social/invites/redeem")
async def redeem(request: web.Request) -> web.Response:
    """``{"token"}`` (or a whole invite link) → you are a member; then join the room."""
    return web.json_response(await _svc(request).redeem(await _must(request),
                                                        await json_body(request)))


@routes.get("/api/social/friends")
async def friends(request: web.Request) -> web.Response:
    return web.json_response(await _svc(request).friends.list(await _must(request)))


@routes.get("/api/rtc/ice-servers")
async def ice_servers(request: web.Request) -> web.Response:
    """The STUN/TURN servers a browser should use for peer-to-peer voice (none by default)."""
    caller = await _must(request)
    return web.json_response(await request.app[APP_KEY].signals.ice_servers(caller, {}))
