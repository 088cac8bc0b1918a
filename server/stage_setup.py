"""Wiring of the stage into the server: the ``stage.*`` events, the media relay, the sweep.

``StageDesk`` holds the schedule/Q&A service (``rooms/stage``), the media relay
(``server/stage_media.py``) and the rules that join them: who may publish (the talk's speaker
or an admin, only in the talk's time slot), who may watch (people in the talk's room, in the
stage area) and what a viewer gets (video up to the cap, then audio + slides or the embed).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import Counter, Gauge

from rooms.base import Room
from rooms.client import Client, UserLike
from rooms.errors import BadRequest
from rooms.kinds import ROOM_KINDS
from rooms.payloads import require_mapping
from rooms.stage import StageService, Talk, TalkMode, stage_area
from rooms.stage.errors import (
    AlreadyLive,
    NotInRoom,
    OutsideStageArea,
    StageFull,
    TalkNotOn,
)
from rooms.stage.validate import EXPO_ROOM_RE, StageArea
from server.stage_config import StageConfig
from server.stage_media import Broadcast, StageMedia, Viewer
from server.stage_slides import SlideStore
from server.stage_store import SqlStageStore

if TYPE_CHECKING:
    from server.app import App

__all__ = ["StageDesk", "RoomNotifier", "build_stage", "stage_context"]

log = logging.getLogger("metahall.stage")


class RoomNotifier:
    """``StageNotifier`` over the room registry and the Socket.IO outbox of this process."""

    def __init__(self, app: App) -> None:
        self.app = app

    def room(self, room_id: str, event: str, data: Any,
             private: tuple[Callable[[UserLike], bool], Any] | None = None) -> None:
        outbox = self.app.realtime.outbox
        for room in self.app.registry.instances(room_id):
            for client in list(room.clients.values()):
                body = private[1] if private is not None and private[0](client.user) else data
                outbox.emit(client.sid, event, body)


def _area(room: Room | None) -> StageArea | None:
    """The stage area of a room instance's floor plan (expo halls may each have their own),
    else of the default expo floor plan."""
    return stage_area(room.layout if room is not None else ROOM_KINDS["expo"].layout)


class StageDesk:
    def __init__(self, app: App, config: StageConfig | None = None) -> None:
        self.app = app
        self.config = cfg = config or StageConfig.from_env()
        self.service = StageService(
            SqlStageStore(app.db), RoomNotifier(app), app.accounts.get, self._room_exists,
            lead_ms=cfg.lead_s * 1000)
        self.media = StageMedia(app.settings.ice_servers, on_stop=self._stopped,
                                on_viewer_gone=self._viewer_gone)
        self.slides = SlideStore(app.settings.data_dir / "uploads" / "stage")
        r = app.metrics.registry
        self.g_live = Gauge("metahall_stage_broadcasts", "Talks being broadcast", registry=r)
        self.g_viewers = Gauge("metahall_stage_viewers", "Stage viewer peers", ["kind"],
                               registry=r)
        self.c_watch = Counter("metahall_stage_watch_total", "stage.watch outcomes", ["mode"],
                               registry=r)
        self.c_frames = Gauge("metahall_stage_frames_in", "Frames received from speakers",
                              ["kind"], registry=r)

    async def _room_exists(self, room_id: str) -> bool:
        return await self.app.directory.get(room_id) is not None

    def register(self) -> None:
        on = self.app.realtime.on
        on("stage.list", self.list)
        on("stage.create", self.create)
        on("stage.update", self.update)
        on("stage.delete", self.delete)
        on("stage.publish", self.publish)
        on("stage.unpublish", self.unpublish)
        on("stage.watch", self.watch)
        on("stage.unwatch", self.unwatch)
        on("stage.slide", self.slide)
        on("stage.ask", self.ask)
        on("stage.vote", self.vote)
        on("stage.moderate", self.moderate)
        on("stage.questions", self.questions)

    # -- views ----------------------------------------------------------------------------
    def wire(self, talk: Talk) -> dict[str, Any]:
        body = talk.to_wire(self.service.now())
        b = self.media.broadcasts.get(talk.id)
        body["live"] = b.to_wire() if b is not None else None
        return body

    def _privileged(self, user: UserLike, talk: Talk) -> bool:
        return user.id == talk.speaker_id or "admin" in user.roles

    # -- schedule -------------------------------------------------------------------------
    async def list(self, client: Client, payload: object) -> dict[str, Any]:
        """``stage.list`` {room?} → the room's talks, which is on now, the stage area."""
        data = require_mapping(payload) if payload is not None else {}
        room_id = data.get("room")
        if room_id is None:
            room_id = client.room.id if client.room is not None else None
        if not isinstance(room_id, str) or not EXPO_ROOM_RE.match(room_id):
            raise BadRequest("room must be an expo room id (expo:<name>)", field="room")
        talks = await self.service.list_talks(room_id)
        now = self.service.on_now(talks)
        here = client.room if client.room is not None and client.room.id == room_id else None
        instances = self.app.registry.instances(room_id)
        area = _area(here or (instances[0] if instances else None))
        return {"room": room_id, "talks": [self.wire(t) for t in talks],
                "now": now.id if now else None, "area": area.to_wire() if area else None,
                "server_time": self.service.now(), "require_area": self.config.require_area}

    async def create(self, client: Client, payload: object) -> dict[str, Any]:
        talk = await self.service.create(client.user, require_mapping(payload))
        return {"talk": self.wire(talk)}

    async def update(self, client: Client, payload: object) -> dict[str, Any]:
        data = require_mapping(payload)
        talk_id = data.get("talk_id")
        live = isinstance(talk_id, str) and talk_id in self.media.broadcasts
        talk = await self.service.update(client.user, data, live=live)
        b = self.media.broadcasts.get(talk.id)
        if b is not None:
            b.end_ms = talk.end
        return {"talk": self.wire(talk)}

    async def delete(self, client: Client, payload: object) -> dict[str, Any]:
        talk = await self.service.delete(client.user, require_mapping(payload).get("talk_id"))
        await self.media.stop(talk.id, "deleted")
        await asyncio.to_thread(self.slides.remove, talk.id)
        return {"deleted": talk.id}

    # -- the speaker ----------------------------------------------------------------------
    async def publish(self, client: Client, payload: object) -> dict[str, Any]:
        """``stage.publish`` {talk_id, offer: {sdp, type}, replace?} → {answer, talk}."""
        data = require_mapping(payload)
        talk = await self.service.talk(data.get("talk_id"))
        self.service.require_speaker(client.user, talk)
        if talk.mode is TalkMode.EMBED:
            raise BadRequest("This talk is shown from its embed URL; nothing to broadcast.",
                             field="talk_id")
        if not talk.publishable(self.service.now(), self.service.lead_ms):
            raise TalkNotOn("The talk can be broadcast only during its time slot.",
                            start=talk.start, end=talk.end)
        old = self.media.broadcasts.get(talk.id)
        if old is not None:
            if old.client.sid == client.sid or data.get("replace") is True:
                await self.media.stop(talk.id, "replaced")
            else:
                raise AlreadyLive("Someone is already broadcasting this talk "
                                  "(send replace: true to take over).")
        kinds = ("audio", "video") if talk.mode is TalkMode.LIVE else ("audio",)
        answer = await self.media.publish(client, talk.id, talk.room_id, talk.end, data, kinds)
        b = self.media.broadcasts[talk.id]
        self.service.notifier.room(talk.room_id, "stage.live", {**b.to_wire(), "mode": talk.mode.value})
        self._gauges()
        return {"answer": answer, "talk": self.wire(talk)}

    async def unpublish(self, client: Client, payload: object) -> dict[str, Any]:
        talk = await self.service.talk(require_mapping(payload).get("talk_id"))
        self.service.require_speaker(client.user, talk)
        return {"stopped": await self.media.stop(talk.id, "ended")}

    def _stopped(self, b: Broadcast, reason: str) -> None:
        self.service.notifier.room(b.room_id, "stage.live",
                                   {"talk_id": b.talk_id, "live": False, "reason": reason})
        self._gauges()

    async def slide(self, client: Client, payload: object) -> dict[str, Any]:
        talk = await self.service.show_slide(client.user, require_mapping(payload))
        return {"talk": self.wire(talk)}

    # -- viewers --------------------------------------------------------------------------
    def _check_place(self, client: Client, talk: Talk) -> None:
        if self._privileged(client.user, talk):
            return
        room = client.room
        if room is None or room.id != talk.room_id:
            raise NotInRoom("Enter this talk's expo room first.", room=talk.room_id)
        area = _area(room)
        if self.config.require_area and area is not None and client.eid in room.world:
            x, _, z, *_ = room.world.position(client.eid)
            if not area.contains(x, z):
                raise OutsideStageArea("Walk to the stage area to watch.", area=area.to_wire())

    async def watch(self, client: Client, payload: object) -> dict[str, Any]:
        """``stage.watch`` {talk_id, offer?} → {mode, answer?, url?, talk}.

        mode: ``video`` (audio and video relayed), ``audio`` (audio relayed; slides if any),
        ``embed`` (``url``), ``waiting`` (not live yet: wait for ``stage.live``)."""
        data = require_mapping(payload)
        talk = await self.service.talk(data.get("talk_id"))
        self._check_place(client, talk)
        mode, reason = self._mode(talk)
        body: dict[str, Any] = {"mode": mode, "talk": self.wire(talk)}
        if reason:
            body["reason"] = reason
        if mode == "embed":
            body["url"] = talk.embed_url
        b = self.media.broadcasts.get(talk.id)
        if mode in ("video", "audio") and b is not None and data.get("offer") is not None:
            body["answer"] = await self.media.watch(client, b, data, mode)
            self._gauges()
        self.c_watch.labels(mode).inc()
        return body

    def _mode(self, talk: Talk) -> tuple[str, str | None]:
        """What the next viewer of ``talk`` gets, and why it is not video when it is not."""
        if talk.mode is TalkMode.EMBED:
            return "embed", None
        b = self.media.broadcasts.get(talk.id)
        if b is None:
            return "waiting", None
        cfg = self.config
        if talk.mode is TalkMode.LIVE and b.has_video:
            if b.count("video") < cfg.max_video_viewers:
                return "video", None
            if talk.embed_url:
                return "embed", "full"
        if "audio" in b.sources and b.count("audio") < cfg.max_audio_viewers:
            return "audio", "full" if talk.mode is TalkMode.LIVE else None
        if talk.embed_url:
            return "embed", "full"
        raise StageFull("The stage stream is full; please try again later.")

    async def unwatch(self, client: Client, payload: object) -> dict[str, Any]:
        stopped = await self.media.unwatch(client.sid, reason=None) is not None
        self._gauges()
        return {"stopped": stopped}

    def _viewer_gone(self, v: Viewer, reason: str) -> None:
        if v.client.sid in self.app.realtime.clients:
            self.app.realtime.outbox.emit(v.client.sid, "stage.ended",
                                          {"talk_id": v.talk_id, "reason": reason})

    # -- Q&A --------------------------------------------------------------------------------
    def _in_room(self, client: Client, talk: Talk) -> None:
        if self._privileged(client.user, talk):
            return
        if client.room is None or client.room.id != talk.room_id:
            raise NotInRoom("Enter this talk's expo room first.", room=talk.room_id)

    async def ask(self, client: Client, payload: object) -> dict[str, Any]:
        """``stage.ask`` {talk_id, text} → {question}; the text passes the moderation hooks
        like a chat line (blocked, redacted or flagged with evidence)."""
        data = require_mapping(payload)
        talk = await self.service.talk(data.get("talk_id"))
        self._in_room(client, talk)
        text = self.service.check_question(data.get("text"))
        shown = await self.app.mod.check_text(client, text, channel=f"stage-qa:{talk.id}",
                                              room_id=talk.room_id)
        q = await self.service.ask(client.user, talk, shown)
        return {"question": q.to_wire()}

    async def vote(self, client: Client, payload: object) -> dict[str, Any]:
        data = require_mapping(payload)
        up = data.get("up", True)
        if not isinstance(up, bool):
            raise BadRequest("up must be true or false", field="up")
        q, talk = await self.service.question(data.get("question_id"))
        self._in_room(client, talk)
        q = await self.service.vote(client.user, q, talk, up)
        return {"question": q.to_wire()}

    async def moderate(self, client: Client, payload: object) -> dict[str, Any]:
        data = require_mapping(payload)
        q, talk = await self.service.question(data.get("question_id"))
        q = await self.service.moderate(client.user, q, talk, data.get("status"))
        return {"question": q.to_wire()}

    async def questions(self, client: Client, payload: object) -> dict[str, Any]:
        talk = await self.service.talk(require_mapping(payload).get("talk_id"))
        return await self.service.questions(client.user, talk)

    # -- background -------------------------------------------------------------------------
    def _gauges(self) -> None:
        m = self.media
        self.g_live.set(len(m.broadcasts))
        for kind in ("video", "audio"):
            self.g_viewers.labels(kind).set(sum(1 for v in m.viewers.values() if v.kind == kind))
            self.c_frames.labels(kind).set(sum(b.frames.get(kind, 0)
                                               for b in m.broadcasts.values()))

    async def sweep_once(self) -> None:
        """End broadcasts whose speaker left or whose time is over; cut off viewers who left
        the room or walked away from the stage."""
        now = int(time.time() * 1000)
        clients = self.app.realtime.clients
        for b in list(self.media.broadcasts.values()):
            if b.client.sid not in clients:
                await self.media.stop(b.talk_id, "speaker_left")
            elif now > b.end_ms:
                await self.media.stop(b.talk_id, "time")
        for sid, v in list(self.media.viewers.items()):
            c = clients.get(sid)
            live = self.media.broadcasts.get(v.talk_id)
            if c is None or live is None:
                await self.media.unwatch(sid, reason=None)
                continue
            if c.user.id == live.client.user.id or "admin" in c.user.roles:
                continue
            room = c.room
            if room is None or room.id != live.room_id:
                await self.media.unwatch(sid, reason="left_room")
            elif (self.config.require_area and (area := _area(room)) is not None
                  and c.eid in room.world):
                x, _, z, *_ = room.world.position(c.eid)
                if not area.contains(x, z, self.config.area_slack_m):
                    await self.media.unwatch(sid, reason="left_area")
        self._gauges()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.config.sweep_s)
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("stage sweep failed")


def build_stage(app: App) -> StageDesk:
    """Create the stage desk and register its events."""
    desk = StageDesk(app)
    desk.register()
    return desk


def stage_context(app: App, desk: StageDesk) -> Callable[[web.Application], AsyncIterator[None]]:
    """aiohttp cleanup context: the sweep task; every peer closes at shutdown."""
    async def ctx(_: web.Application) -> AsyncIterator[None]:
        task: asyncio.Task[Any] = app.spawn(desk.run(), "stage-sweep")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await desk.media.close_all()

    return ctx
