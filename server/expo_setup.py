"""Wiring of the expo into the server: store, notifier, moderation gates, events, the floor
plans served by ``GET /api/rooms/{id}/layout``, the background loop, and the demo's pictures."""

from __future__ import annotations

import asyncio
import functools
import io
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aiohttp import web
from PIL import Image, ImageDraw, ImageFont
from prometheus_client import Histogram

from rooms.client import Client, UserLike
from rooms.expo import ExpoService, expo_handlers
from rooms.expo.models import FileRef
from server.auth.service import UserInfo
from server.expo_store import SqlExpoStore
from server.expo_uploads import Storage, UploadLimits, process
from server.limits import UploadGate

if TYPE_CHECKING:
    from server.app import App

__all__ = ["build_expo", "expo_context", "SocketNotifier", "ExpoParts", "SYSTEM_USER"]

log = logging.getLogger("metahall.expo")
SYSTEM_USER = UserInfo("system", "metahall", ("admin",))


class SocketNotifier:
    """The expo reaches people through the realtime layer's presence and outbox."""

    def __init__(self, app: App) -> None:
        self.rt = app.realtime

    def to_user(self, user_id: str, event: str, data: Any) -> int:
        n = 0
        for c in self.rt.presence(user_id):
            self.rt.outbox.emit(c.sid, event, data)
            n += 1
        return n

    def clients(self, user_id: str) -> list[Client]:
        return self.rt.presence(user_id)

    def emit(self, sid: str, event: str, data: Any) -> None:
        self.rt.outbox.emit(sid, event, data)


class ExpoParts:
    """What the HTTP side needs besides the service: the uploads directory and limits."""

    def __init__(self, app: App) -> None:
        self.storage = Storage(app.settings.data_dir / "uploads")
        self.limits = UploadLimits.from_mb(app.settings.upload_max_mb)
        self.uploads = UploadGate(app.settings.max_uploads_per_user,
                                  app.settings.max_uploads_total)  # uploads in progress


def build_expo(app: App) -> ExpoService:
    """Create the expo service, give it to the rooms and register its events."""

    async def text_gate(user: UserLike, lang: str, channel: str, text: str) -> str:
        client = Client(sid="", user=user, lang=lang)
        return await app.mod.check_text(client, text, channel=channel)

    def rooms_changed(room_ids: Any) -> None:
        for rid in room_ids:
            app.directory.forget(rid)

    presence_seconds = Histogram(
        "metahall_expo_presence_seconds",
        "CPU time of one booth-presence sample of an expo room (zones, visits, notices)",
        buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05),
        registry=app.metrics.registry)

    def observe(seconds: float, _avatars: int) -> None:
        presence_seconds.observe(seconds)

    svc = ExpoService(SqlExpoStore(app.db), SocketNotifier(app), text_gate=text_gate,
                      on_rooms_changed=rooms_changed, observe_presence=observe)
    for event, handler in expo_handlers(svc).items():
        app.realtime.on(event, handler)
    app.registry.ctx.services["expo"] = svc
    return svc


def expo_context(app: App) -> Callable[[web.Application], AsyncIterator[None]]:
    """aiohttp cleanup context: load (and on first start seed) the expo, run its loop."""

    async def ctx(_: web.Application) -> AsyncIterator[None]:
        svc = app.expo
        if await svc.start(seed_demo=app.settings.seed_demo):
            try:
                await seed_demo_pictures(app)
            except Exception:  # pictures are decoration: never keep the server from starting
                log.exception("demo pictures could not be made")
        task: asyncio.Task[Any] = app.spawn(svc.run(), "expo")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        try:
            await svc.analytics.flush()  # the last visits and heat before the database closes
        except Exception:
            log.exception("expo: final flush failed")

    return ctx


# -- the demo's pictures: drawn here, stored through the normal upload path ---------------------
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError):  # Pillow without FreeType
        return ImageFont.load_default()


def _hex(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


@functools.lru_cache(maxsize=64)  # the same demo pictures for every start in one process
def _logo(text: str, color: str) -> bytes:
    img = Image.new("RGB", (256, 256), _hex(color))
    d = ImageDraw.Draw(img)
    d.ellipse((28, 28, 228, 228), outline=(255, 255, 255), width=10)
    d.text((128, 128), text, fill=(255, 255, 255), font=_font(92), anchor="mm")
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@functools.lru_cache(maxsize=64)
def _picture(title: str, color: str) -> bytes:
    r, g, b = _hex(color)
    img = Image.new("RGB", (640, 420), (245, 246, 248))
    d = ImageDraw.Draw(img)
    for i in range(420):  # a soft vertical gradient in the booth's colour
        k = i / 420
        d.line([(0, i), (640, i)], fill=(int(245 - (245 - r) * k * 0.55),
                                         int(246 - (246 - g) * k * 0.55),
                                         int(248 - (248 - b) * k * 0.55)))
    d.rounded_rectangle((200, 80, 440, 300), radius=36, fill=(r, g, b))
    d.rounded_rectangle((240, 120, 400, 260), radius=24, fill=(255, 255, 255))
    d.text((320, 360), title, fill=(30, 34, 48), font=_font(34), anchor="mm")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def _pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a few lines of Helvetica text (ASCII)."""
    text = "BT /F1 22 Tf 60 760 Td " + " ".join(
        f"({ln.replace(chr(92), '').replace('(', '').replace(')', '')}) Tj 0 -30 Td"
        for ln in lines) + " ET"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text.encode("ascii") + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objs) + 1, xref))
    return out.getvalue()


async def store_upload(app: App, user: UserLike, booth_id: str, data: bytes, filename: str,
                       content_type: str, purpose: str, lang: str = "en") -> FileRef:
    """The one path every upload takes: permission, checks and conversion (in a thread), the
    moderation hook, then the bytes, then the database row (bytes removed if that fails)."""
    svc = app.expo
    booth = svc.check_upload(user, booth_id)
    parts: ExpoParts = app.expo_parts
    done = await asyncio.to_thread(process, data, filename, content_type, purpose, parts.limits)
    await app.mod.check_upload(user, filename=done.name, content_type=done.content_type,  # type: ignore[arg-type]
                               size=len(data), room_id=booth.room_id, sha256=done.sha256,
                               lang=lang)
    file_id = parts.storage.new_id()
    rel, thumb = await asyncio.to_thread(parts.storage.write, file_id, done.ext, done.data,
                                         done.thumb)
    ref = FileRef(file_id, booth.id, done.kind, done.content_type, len(done.data), done.name,
                  done.sha256, done.width, done.height, svc.now())
    try:
        return await svc.add_file(user, booth.id, ref, rel, thumb)
    except BaseException:
        parts.storage.remove(rel)
        parts.storage.remove(thumb)
        raise


async def seed_demo_pictures(app: App) -> None:
    """Logos and product pictures for the demo booths, and one brochure."""
    from rooms.expo.demo import DEMO_BOOTHS

    svc = app.expo
    for demo in DEMO_BOOTHS:
        booth = svc.booths.get(demo.id)
        if booth is None:
            continue
        initials = "".join(w[0] for w in booth.name["en"].split()[:2]).upper()
        logo = await store_upload(app, SYSTEM_USER, booth.id, _logo(initials, booth.color),
                                  "logo.png", "image/png", "image")
        products = []
        for p in booth.products:
            pic = await store_upload(app, SYSTEM_USER, booth.id,
                                     _picture(p.name["en"], booth.color), f"{p.id}.jpg",
                                     "image/jpeg", "image")
            products.append(replace(p, image=pic.id))
        brochures: tuple[str, ...] = ()
        if booth.id == "demo-yunfan":
            pdf = await store_upload(app, SYSTEM_USER, booth.id, _pdf(
                ["Yunfan Tech", "City Cloud OS - product brochure",
                 "Shared data for every department.", "Visit booth 54 at the City Cloud Expo."]),
                "yunfan-brochure.pdf", "application/pdf", "brochure")
            brochures = (pdf.id,)
            products[0] = replace(products[0], brochure=pdf.id)
        booth.logo, booth.products, booth.brochures = logo.id, tuple(products), brochures
        booth.version += 1
        await svc.store.save_profile(booth)
    log.info("expo demo pictures stored booths=%d", len(DEMO_BOOTHS))
