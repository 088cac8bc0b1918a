"""HTTP API of the service hall. Reading the catalogue is public; editing it and the figures
need the admin role (Bearer token). Handlers stay thin and call ``HallService``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from rooms.errors import BadRequest
from rooms.hall.catalogue import (
    catalogue_to_dict,
    counter_to_dict,
    parse_catalogue,
    parse_counter,
    parse_service,
    service_to_dict,
)
from rooms.hall.errors import UnknownCounter, UnknownService
from rooms.hall.service import HallService
from rooms.payloads import clean_text
from server.auth.service import UserInfo
from server.http_api import APP_KEY, current_user, json_body

__all__ = ["routes"]

routes = web.RouteTableDef()


def _hall(request: web.Request) -> HallService:
    return request.app[APP_KEY].hall


async def _admin(request: web.Request) -> UserInfo:
    user = await current_user(request)
    assert user is not None
    _hall(request).core.require_admin(user)
    return user


def _int_query(request: web.Request, key: str) -> int | None:
    raw = request.query.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadRequest(f"{key} must be an integer", field=key) from exc
    if value < 0:
        raise BadRequest(f"{key} must not be negative", field=key)
    return value


def _public_counter(view: dict[str, Any]) -> dict[str, Any]:
    """A staff view without who sits there and who is being served (only the number)."""
    current = view.pop("current")
    view["current"] = current["number"] if current else None
    view.pop("staff_id", None)
    return view


# -- services -------------------------------------------------------------------------------
@routes.get("/api/hall/services")
async def list_services(request: web.Request) -> web.Response:
    return web.json_response(_hall(request).services_view())


@routes.get("/api/hall/services/{service_id}")
async def get_service(request: web.Request) -> web.Response:
    sid = request.match_info["service_id"]
    found = [s for s in _hall(request).services_view() if s["id"] == sid]
    if not found:
        raise UnknownService(f"No service {sid!r}.")
    return web.json_response(found[0])


@routes.put("/api/hall/services/{service_id}")
async def put_service(request: web.Request) -> web.Response:
    user = await _admin(request)
    data = await json_body(request)
    sid = request.match_info["service_id"]
    svc = parse_service({**data, "id": sid})
    hall = _hall(request)
    await hall.manager.put_service(user, svc)
    return web.json_response(service_to_dict(hall.core.state.services[sid]))


@routes.delete("/api/hall/services/{service_id}")
async def delete_service(request: web.Request) -> web.Response:
    user = await _admin(request)
    hall = _hall(request)
    svc = hall.core.state.services.get(request.match_info["service_id"])
    if svc is None:
        raise UnknownService("No such service.")
    await hall.manager.put_service(user, replace(svc, active=False))
    return web.json_response({"id": svc.id, "active": False})


# -- counters -------------------------------------------------------------------------------
@routes.get("/api/hall/counters")
async def list_counters(request: web.Request) -> web.Response:
    return web.json_response([_public_counter(v) for v in _hall(request).counters_view()])


@routes.put("/api/hall/counters/{counter_id}")
async def put_counter(request: web.Request) -> web.Response:
    user = await _admin(request)
    data = await json_body(request)
    cid = request.match_info["counter_id"]
    counter = parse_counter({**data, "id": cid})
    hall = _hall(request)
    await hall.manager.put_counter(user, counter)
    return web.json_response(counter_to_dict(hall.core.state.counters[cid]))


@routes.delete("/api/hall/counters/{counter_id}")
async def delete_counter(request: web.Request) -> web.Response:
    user = await _admin(request)
    hall = _hall(request)
    c = hall.core.state.counters.get(request.match_info["counter_id"])
    if c is None:
        raise UnknownCounter("No such counter.")
    await hall.manager.put_counter(user, replace(c, active=False))
    return web.json_response({"id": c.id, "active": False})


# -- catalogue, figures ---------------------------------------------------------------------
@routes.get("/api/hall/catalogue")
async def export_catalogue(request: web.Request) -> web.Response:
    await _admin(request)
    return web.json_response(catalogue_to_dict(_hall(request).core.state.catalogue))


@routes.post("/api/hall/import")
async def import_catalogue(request: web.Request) -> web.Response:
    user = await _admin(request)
    cat = parse_catalogue(await json_body(request), standalone=False)
    replace = request.query.get("replace", "") in ("1", "true", "yes")
    counts = await _hall(request).manager.import_catalogue(user, cat, replace=replace)
    return web.json_response(counts)


@routes.get("/api/hall/stats")
async def stats(request: web.Request) -> web.Response:
    user = await _admin(request)
    return web.json_response(await _hall(request).manager.stats(user, _int_query(request, "since")))


# -- citizens without a socket --------------------------------------------------------------
@routes.post("/api/hall/guide")
async def guide(request: web.Request) -> web.Response:
    data = await json_body(request)
    text = clean_text(data.get("text"), "text", max_len=200)
    lang = data.get("lang", "zh-CN")
    if lang not in ("zh-CN", "en"):
        raise BadRequest("lang must be zh-CN or en", field="lang")
    user = await current_user(request, required=False)
    asker = user or UserInfo("", "", ())
    return web.json_response(_hall(request).citizens.ask(asker, text, lang))


@routes.get("/api/hall/slots")
async def slots(request: web.Request) -> web.Response:
    service_id = request.query.get("service_id")
    if not service_id:
        raise BadRequest("service_id is required.", field="service_id")
    out = await _hall(request).appointments.slots(service_id, request.query.get("date"))
    return web.json_response(out)
