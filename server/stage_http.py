"""HTTP API of the stage. Reading the schedule is public; editing it needs the admin role,
uploading slides the talk's speaker or an admin (Bearer token). Handlers stay thin."""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING

from aiohttp import BodyPartReader, web

from rooms.errors import BadRequest
from rooms.stage import MAX_SLIDES
from rooms.stage.errors import BadSlide, UnknownTalk
from server.http_api import APP_KEY, current_user, json_body
from server.stage_slides import MAX_SLIDE_BYTES, normalise_slide

if TYPE_CHECKING:
    from server.stage_setup import StageDesk

__all__ = ["routes"]

routes = web.RouteTableDef()


def _desk(request: web.Request) -> StageDesk:
    return request.app[APP_KEY].stage


@routes.get("/api/stage/talks")
async def list_talks(request: web.Request) -> web.Response:
    desk = _desk(request)
    room = request.query.get("room") or None
    return web.json_response([desk.wire(t) for t in await desk.service.list_talks(room)])


@routes.get("/api/stage/talks/{talk_id}")
async def get_talk(request: web.Request) -> web.Response:
    desk = _desk(request)
    return web.json_response(desk.wire(await desk.service.talk(request.match_info["talk_id"])))


@routes.post("/api/stage/talks")
async def create_talk(request: web.Request) -> web.Response:
    user = await current_user(request)
    assert user is not None
    desk = _desk(request)
    talk = await desk.service.create(user, await json_body(request))
    return web.json_response({"talk": desk.wire(talk)}, status=201)


@routes.patch("/api/stage/talks/{talk_id}")
async def update_talk(request: web.Request) -> web.Response:
    user = await current_user(request)
    assert user is not None
    desk = _desk(request)
    data = {**await json_body(request), "talk_id": request.match_info["talk_id"]}
    talk_id = request.match_info["talk_id"]
    talk = await desk.service.update(user, data, live=talk_id in desk.media.broadcasts)
    b = desk.media.broadcasts.get(talk.id)
    if b is not None:
        b.end_ms = talk.end
    return web.json_response({"talk": desk.wire(talk)})


@routes.delete("/api/stage/talks/{talk_id}")
async def delete_talk(request: web.Request) -> web.Response:
    user = await current_user(request)
    assert user is not None
    desk = _desk(request)
    talk = await desk.service.delete(user, request.match_info["talk_id"])
    await desk.media.stop(talk.id, "deleted")
    await asyncio.to_thread(desk.slides.remove, talk.id)
    return web.json_response({"deleted": talk.id})


# -- slides ---------------------------------------------------------------------------------
async def _read_part(part: BodyPartReader) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > MAX_SLIDE_BYTES:
            raise BadSlide(f"a slide is larger than {MAX_SLIDE_BYTES // (1024 * 1024)} MB",
                           field="slides")
        chunks.append(chunk)
    return b"".join(chunks)


@routes.put("/api/stage/talks/{talk_id}/slides")
async def put_slides(request: web.Request) -> web.Response:
    """multipart/form-data with one ``slide`` part per image, in order; replaces the set."""
    user = await current_user(request)
    assert user is not None
    app = request.app[APP_KEY]
    desk = _desk(request)
    talk = await desk.service.talk(request.match_info["talk_id"])
    desk.service.require_speaker(user, talk)
    if not request.content_type.startswith("multipart/"):
        raise BadRequest("Send the slides as multipart/form-data parts named 'slide'.",
                         field="slides")
    reader = await request.multipart()
    images: list[bytes] = []
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name != "slide":
            raise BadRequest("Every part must be a file named 'slide'.", field="slides")
        if len(images) >= MAX_SLIDES:
            raise BadSlide(f"A talk has at most {MAX_SLIDES} slides.", field="slides")
        data = await _read_part(part)
        name = f"slide {len(images) + 1}"
        await app.mod.check_upload(user, filename=(part.filename or name)[:200],
                                   content_type=part.headers.get("Content-Type", ""),
                                   size=len(data), room_id=talk.room_id,
                                   sha256=hashlib.sha256(data).hexdigest())
        images.append(await asyncio.to_thread(normalise_slide, data, name))
    if not images:
        raise BadSlide("No slides in the upload.", field="slides")
    count = await asyncio.to_thread(desk.slides.replace, talk.id, images)
    talk = await desk.service.set_slides(user, talk.id, count)
    return web.json_response({"talk": desk.wire(talk)})


@routes.get("/api/stage/talks/{talk_id}/slides/{index}")
async def get_slide(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    raw = request.match_info["index"].removesuffix(".jpg")
    if not raw.isdigit() or len(raw) > 3:
        raise BadSlide("index must be a slide number", field="index")
    talk_id = request.match_info["talk_id"]
    path = desk.slides.path(talk_id, int(raw)) if len(talk_id) == 32 else None
    if path is None:
        raise UnknownTalk("No such slide.")
    return web.FileResponse(path, headers={
        "Content-Type": "image/jpeg", "Cache-Control": "no-cache",
        "Content-Disposition": f'inline; filename="slide-{int(raw) + 1}.jpg"'})
