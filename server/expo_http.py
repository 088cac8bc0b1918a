"""HTTP API of the expo. Reading published expos, booths, slots and files is public; the rest
needs a Bearer token: organisers (admin) create and publish expos and invite exhibitors; a
booth's exhibitors edit it, upload files, read and export their leads, publish meeting slots
and read their figures; visitors share their contact, book meetings and keep favourites.
Handlers stay thin and call ``ExpoService``; uploads go through ``expo_setup.store_upload``."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web
from sqlalchemy import select

from rooms.errors import BadRequest, NotFound
from rooms.expo.errors import BadUpload, UnknownFile, UploadTooLarge
from rooms.expo.profile import category_list
from rooms.expo.service import ExpoService
from rooms.payloads import clean_text
from server.auth.roles import parse_roles
from server.auth.service import USERNAME_RE, UserInfo
from server.db.models import User
from server.expo_export import leads_csv, leads_xlsx
from server.expo_heatmap import render_heatmap
from server.expo_setup import store_upload
from server.http_api import APP_KEY, current_user, json_body
from server.limits import TooManyUploads

__all__ = ["routes"]

routes = web.RouteTableDef()
CHUNK = 64 * 1024


def _svc(request: web.Request) -> ExpoService:
    return request.app[APP_KEY].expo


async def _user(request: web.Request) -> UserInfo:
    user = await current_user(request)
    assert user is not None
    return user


def _lang(request: web.Request, data: dict[str, Any] | None = None) -> str:
    lang = (data or {}).get("lang") or request.query.get("lang") or ""
    if lang in ("zh-CN", "en"):
        return str(lang)
    return "zh-CN" if request.headers.get("Accept-Language", "").lower().startswith("zh") else "en"


def _since(request: web.Request) -> int | None:
    raw = request.query.get("since", "")
    if raw == "":
        return None
    if not raw.isdigit() or len(raw) > 16:
        raise BadRequest("since must be a time in ms", field="since")
    return int(raw)


# -- public ------------------------------------------------------------------------------------
@routes.get("/api/expo/categories")
async def categories(request: web.Request) -> web.Response:
    return web.json_response(category_list())


@routes.get("/api/expos")
async def list_expos(request: web.Request) -> web.Response:
    user = await current_user(request, required=False)
    return web.json_response(_svc(request).list_expos(user))


@routes.get("/api/expos/{expo_id}")
async def get_expo(request: web.Request) -> web.Response:
    user = await current_user(request, required=False)
    return web.json_response(_svc(request).expo_wire(user, request.match_info["expo_id"]))


@routes.get("/api/expos/{expo_id}/booths")
async def directory(request: web.Request) -> web.Response:
    user = await current_user(request, required=False)
    svc = _svc(request)
    q = request.query.get("q", "")[:100]
    category = request.query.get("category", "")[:32]
    favs = set(await svc.store.favourites(user.id)) if user else None
    return web.json_response(svc.visitors.search(user, request.match_info["expo_id"], q,
                                                 category, favs))


@routes.get("/api/expo/booths/{booth_id}")
async def get_booth(request: web.Request) -> web.Response:
    user = await current_user(request, required=False)
    return web.json_response(_svc(request).booth_wire(user, request.match_info["booth_id"]))


@routes.get("/api/expo/booths/{booth_id}/slots")
async def list_slots(request: web.Request) -> web.Response:
    user = await current_user(request, required=False)
    svc = _svc(request)
    return web.json_response(await svc.meetings.slots(user, request.match_info["booth_id"]))


async def _serve_file(request: web.Request, thumb: bool) -> web.StreamResponse:
    app = request.app[APP_KEY]
    file_id = request.match_info["file_id"]
    found = await app.expo.store.get_file(file_id) if len(file_id) == 32 else None
    if found is None:
        raise UnknownFile()
    ref, rel, thumb_rel = found
    if thumb and thumb_rel is None:
        raise UnknownFile("That file has no thumbnail.")
    try:
        path = app.expo_parts.storage.path(thumb_rel if thumb and thumb_rel else rel)
    except ValueError as exc:
        raise UnknownFile() from exc
    if not path.is_file():
        raise UnknownFile()
    ctype = "image/jpeg" if thumb else ref.content_type
    name = ref.name if not thumb else ref.name.rsplit(".", 1)[0] + "-thumb.jpg"
    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_"
                         for ch in name)
    disposition = "attachment" if ref.kind == "pdf" else "inline"
    return web.FileResponse(path, headers={
        "Content-Type": ctype,
        "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(name, safe='')}",
        "Cache-Control": "public, max-age=86400, immutable",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Content-Type-Options": "nosniff",
    })


@routes.get("/api/expo/files/{file_id}")
async def get_file(request: web.Request) -> web.StreamResponse:
    return await _serve_file(request, thumb=False)


@routes.get("/api/expo/files/{file_id}/thumb")
async def get_thumb(request: web.Request) -> web.StreamResponse:
    return await _serve_file(request, thumb=True)


# -- organiser (admin) ----------------------------------------------------------------------------
@routes.post("/api/expos")
async def create_expo(request: web.Request) -> web.Response:
    user = await _user(request)
    _svc(request).require_admin(user)
    expo = await _svc(request).create_expo(user, await json_body(request))
    return web.json_response(expo, status=201)


@routes.patch("/api/expos/{expo_id}")
async def update_expo(request: web.Request) -> web.Response:
    user = await _user(request)
    _svc(request).require_admin(user)
    return web.json_response(await _svc(request).update_expo(
        user, request.match_info["expo_id"], await json_body(request)))


@routes.post("/api/expos/{expo_id}/publish")
async def publish(request: web.Request) -> web.Response:
    user = await _user(request)
    svc = _svc(request)
    svc.require_admin(user)
    data = await json_body(request)
    published = data.get("published", True)
    if not isinstance(published, bool):
        raise BadRequest("published must be true or false", field="published")
    return web.json_response(await svc.publish(user, request.match_info["expo_id"], published))


@routes.get("/api/expos/{expo_id}/exhibitors")
async def list_exhibitors(request: web.Request) -> web.Response:
    user = await _user(request)
    return web.json_response(_svc(request).exhibitors(user, request.match_info["expo_id"]))


@routes.post("/api/expos/{expo_id}/exhibitors")
async def invite(request: web.Request) -> web.Response:
    """``{"username", "company", "slot", "hall"?, "display_name"?, "password"?}``: an account
    with the exhibitor role tied to the booth in ``slot`` (created when the username is new;
    a generated password is returned once when none was given)."""
    app = request.app[APP_KEY]
    svc = app.expo
    user = await _user(request)
    svc.require_admin(user)
    expo = svc.expo(request.match_info["expo_id"])
    data = await json_body(request)
    username = data.get("username")
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise BadRequest("username must be 3..32 of A-Z a-z 0-9 _ . -", field="username")
    company = clean_text(data.get("company"), "company", max_len=60)
    slot = data.get("slot")
    if not isinstance(slot, str) or not 1 <= len(slot) <= 16:
        raise BadRequest("slot must be a booth slot such as 'b7'", field="slot")
    hall = data.get("hall")
    if hall is not None and not isinstance(hall, str):
        raise BadRequest("hall must be a hall id", field="hall")
    h = expo.hall(hall)
    if h is None or svc.plans[h.room_id].slot_index(slot) < 0:
        raise NotFound(f"No booth slot {slot!r} in that hall.")
    async with app.db.session() as s:
        row = (await s.execute(select(User).where(User.username == username.lower()))
               ).scalar_one_or_none()
    password: str | None = None
    if row is None:
        password = data.get("password") or secrets.token_urlsafe(12)
        exhibitor = await app.accounts.register(username, password, data.get("display_name")
                                                or company, roles="exhibitor")
        if data.get("password"):
            password = None  # the organiser chose it; do not echo it
    else:
        roles = parse_roles(row.roles)
        exhibitor = await app.accounts.set_roles(username, list(dict.fromkeys(
            [*roles, "exhibitor"])))
    booth = await svc.assign(user, expo.id, hall, slot, company, exhibitor)
    out: dict[str, Any] = {"user": exhibitor.to_wire(), "booth": booth.to_wire()}
    if password is not None:
        out["password"] = password
    return web.json_response(out, status=201)


@routes.delete("/api/expos/{expo_id}/exhibitors/{user_id}")
async def uninvite(request: web.Request) -> web.Response:
    user = await _user(request)
    svc = _svc(request)
    gone = await svc.unassign(user, request.match_info["user_id"])
    if not gone:
        raise NotFound("That account runs no booth.")
    return web.json_response({"user_id": request.match_info["user_id"], "removed": True})


# -- exhibitors -----------------------------------------------------------------------------------
@routes.put("/api/expo/booths/{booth_id}")
async def put_booth(request: web.Request) -> web.Response:
    user = await _user(request)
    svc = _svc(request)
    booth_id = request.match_info["booth_id"]
    svc.require_staff(user, booth_id, admin_ok=True)  # before the body is looked at
    data = await json_body(request)
    return web.json_response(await svc.update_profile(user, booth_id, data, _lang(request, data)))


@routes.post("/api/expo/booths/{booth_id}/files")
async def upload(request: web.Request) -> web.Response:
    """multipart/form-data: ``purpose`` (image | brochure) and ``file``. → 201 File."""
    app = request.app[APP_KEY]
    user = await _user(request)
    booth_id = request.match_info["booth_id"]
    app.expo.check_upload(user, booth_id)  # permission before the body is read
    try:  # uploads in progress are capped per user and per process (server/limits.py)
        with app.expo_parts.uploads.slot(user.id, _lang(request)):
            return await _receive_upload(request, user, booth_id)
    except TooManyUploads as exc:
        app.metrics.limit_refusals.labels(f"uploads_{exc.details.get('limit')}").inc()
        raise


async def _receive_upload(request: web.Request, user: UserInfo, booth_id: str) -> web.Response:
    app = request.app[APP_KEY]
    limit = app.expo_parts.limits.max_bytes
    if request.content_length is not None and request.content_length > limit + CHUNK:
        raise UploadTooLarge(f"Files may be at most {limit // 1048576} MB.", reason="too_large",
                             max_bytes=limit)
    if not request.content_type.startswith("multipart/form-data"):
        raise BadUpload("Send the file as multipart/form-data.", reason="bad_request")
    reader = await request.multipart()
    purpose = "image"
    data: bytes | None = None
    filename: str | None = None
    ctype = ""
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise BadUpload("Nested multipart is not accepted.", reason="bad_request")
        if part.name == "purpose":
            purpose = (await part.read(decode=True))[:32].decode("utf-8", "replace").strip()
        elif part.name == "file" and data is None:
            filename = part.filename
            if filename and "%" in filename:
                # Some clients (aiohttp, curl --form-string) percent-encode non-ASCII names;
                # browsers send UTF-8. The decoded name is checked like any other.
                filename = unquote(filename, errors="strict")
            ctype = part.headers.get("Content-Type", "")
            buf = bytearray()
            while True:
                chunk = await part.read_chunk(CHUNK)
                if not chunk:
                    break
                buf += chunk
                if len(buf) > limit:
                    raise UploadTooLarge(f"Files may be at most {limit // 1048576} MB.",
                                         reason="too_large", max_bytes=limit)
            data = bytes(buf)
        else:
            await part.release()
    if data is None:
        raise BadUpload("No file was sent (form field 'file').", reason="bad_request")
    ref = await store_upload(app, user, booth_id, data, filename or "", ctype, purpose,
                             _lang(request))
    return web.json_response(ref.to_wire(), status=201)


@routes.get("/api/expo/booths/{booth_id}/files")
async def list_files(request: web.Request) -> web.Response:
    user = await _user(request)
    return web.json_response(_svc(request).files(user, request.match_info["booth_id"]))


@routes.delete("/api/expo/booths/{booth_id}/files/{file_id}")
async def delete_file(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    user = await _user(request)
    rel, thumb = await app.expo.delete_file(user, request.match_info["booth_id"],
                                            request.match_info["file_id"])
    app.expo_parts.storage.remove(rel)
    app.expo_parts.storage.remove(thumb)
    return web.json_response({"id": request.match_info["file_id"], "deleted": True})


@routes.get("/api/expo/booths/{booth_id}/leads")
async def leads(request: web.Request) -> web.Response:
    user = await _user(request)
    found = await _svc(request).visitors.leads(user, request.match_info["booth_id"])
    return web.json_response([ld.to_wire() for ld in found])


@routes.get("/api/expo/booths/{booth_id}/leads.{fmt:csv|xlsx}")
async def export_leads(request: web.Request) -> web.Response:
    user = await _user(request)
    svc = _svc(request)
    booth_id = request.match_info["booth_id"]
    found = await svc.visitors.leads(user, booth_id)
    booth = svc.booths[booth_id]
    stem = f"leads-{booth.slot}"
    if request.match_info["fmt"] == "csv":
        body, ctype = leads_csv(found), "text/csv; charset=utf-8"
    else:
        body = leads_xlsx(found, booth.company)
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return web.Response(body=body, headers={
        "Content-Type": ctype, "Cache-Control": "no-store",
        "Content-Disposition": f"attachment; filename=\"{stem}.{request.match_info['fmt']}\""})


@routes.get("/api/expo/booths/{booth_id}/analytics")
async def analytics(request: web.Request) -> web.Response:
    user = await _user(request)
    return web.json_response(await _svc(request).analytics.booth_stats(
        user, request.match_info["booth_id"], _since(request)))


@routes.get("/api/expo/booths/{booth_id}/presence")
async def presence(request: web.Request) -> web.Response:
    user = await _user(request)
    svc = _svc(request)
    booth_id = request.match_info["booth_id"]
    svc.require_staff(user, booth_id, admin_ok=True)
    return web.json_response(svc.analytics.presence(booth_id))


@routes.post("/api/expo/booths/{booth_id}/slots")
async def add_slots(request: web.Request) -> web.Response:
    user = await _user(request)
    svc = _svc(request)
    booth_id = request.match_info["booth_id"]
    svc.require_staff(user, booth_id)
    slots = await svc.meetings.add_slots(user, booth_id, await json_body(request))
    return web.json_response([s.to_wire(False) for s in slots], status=201)


@routes.delete("/api/expo/slots/{slot_id}")
async def cancel_slot(request: web.Request) -> web.Response:
    user = await _user(request)
    return web.json_response(await _svc(request).meetings.cancel_slot(
        user, request.match_info["slot_id"]))


@routes.get("/api/expo/booths/{booth_id}/meetings")
async def booth_meetings(request: web.Request) -> web.Response:
    user = await _user(request)
    found = await _svc(request).meetings.mine(user, request.match_info["booth_id"])
    return web.json_response([m.to_wire() for m in found])


@routes.get("/api/expo/halls/{room_id}/heatmap.png")
async def heatmap(request: web.Request) -> web.Response:
    import asyncio

    user = await _user(request)
    svc = _svc(request)
    room_id = request.match_info["room_id"]
    heat = await svc.analytics.heat(user, room_id)
    plan = svc.plans[room_id]
    booth = svc.booths.get(request.query.get("booth", ""))
    highlight = booth.slot if booth is not None and booth.room_id == room_id else None
    png = await asyncio.to_thread(render_heatmap, plan, heat, highlight)
    return web.Response(body=png, headers={"Content-Type": "image/png",
                                           "Cache-Control": "no-store"})


# -- visitors ------------------------------------------------------------------------------------
@routes.get("/api/me/expo")
async def me_expo(request: web.Request) -> web.Response:
    return web.json_response(await _svc(request).visitors.mine(await _user(request)))


@routes.put("/api/expo/favourites/{booth_id}")
async def favourite(request: web.Request) -> web.Response:
    user = await _user(request)
    return web.json_response(await _svc(request).visitors.favourite(
        user, request.match_info["booth_id"], True))


@routes.delete("/api/expo/favourites/{booth_id}")
async def unfavourite(request: web.Request) -> web.Response:
    user = await _user(request)
    return web.json_response(await _svc(request).visitors.favourite(
        user, request.match_info["booth_id"], False))


@routes.post("/api/expo/booths/{booth_id}/lead")
async def share_contact(request: web.Request) -> web.Response:
    user = await _user(request)
    data = await json_body(request)
    out = await _svc(request).visitors.share(user, request.match_info["booth_id"], data,
                                             _lang(request, data))
    return web.json_response(out, status=201)


@routes.delete("/api/expo/booths/{booth_id}/lead")
async def withdraw(request: web.Request) -> web.Response:
    user = await _user(request)
    return web.json_response(await _svc(request).visitors.withdraw(
        user, request.match_info["booth_id"]))


@routes.post("/api/expo/meetings")
async def book(request: web.Request) -> web.Response:
    user = await _user(request)
    data = await json_body(request)
    m = await _svc(request).meetings.book(user, data.get("slot_id"))
    return web.json_response({"meeting": m.to_wire()}, status=201)


@routes.delete("/api/expo/meetings/{meeting_id}")
async def cancel_meeting(request: web.Request) -> web.Response:
    user = await _user(request)
    m = await _svc(request).meetings.cancel(user, request.match_info["meeting_id"])
    return web.json_response({"meeting": m.to_wire()})


