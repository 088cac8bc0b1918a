"""The stage's media relay: the speaker's audio/video into the server, out to each viewer.

The speaker's browser sends a WebRTC offer (``stage.publish``); the server answers with one
aiortc peer that only receives. Each incoming track feeds an ``aiortc.contrib.media.MediaRelay``.
A viewer sends an offer that only receives (``stage.watch``); the server answers with its own
peer, to which it adds relay proxies of the speaker's tracks (audio only, or audio and video).

aiortc decodes what it receives once per broadcast and encodes once per viewer and track, so
the cost grows with the audience (VP8 dominates): the number of video viewers per talk is
capped (``StageConfig``; measured in bench/results/stage.md), and the handlers send viewers
beyond it to audio (+ slides) or to the talk's embed URL.

Every peer is created with the configured ICE servers only (none by default: host candidates);
aiortc's own default would ask a public STUN server.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError

from rooms.client import Client
from rooms.errors import BadRequest, Conflict
from rooms.payloads import require_mapping
from rooms.stage.errors import AlreadyLive
from server.runtime_metrics import track_peer

__all__ = ["StageMedia", "Broadcast", "Viewer", "RecentAudio", "MAX_SDP", "ice_config"]

log = logging.getLogger("metahall.stage")

MAX_SDP = 32 * 1024
KINDS = ("audio", "video")


def ice_config(ice_servers: tuple[str, ...]) -> RTCConfiguration:
    """Only the configured ICE servers: never aiortc's default public STUN server."""
    return RTCConfiguration(iceServers=[RTCIceServer(urls=u) for u in ice_servers])


def _offer(payload: object) -> RTCSessionDescription:
    data = require_mapping(payload)
    offer = data.get("offer", data)
    if not isinstance(offer, Mapping):
        raise BadRequest("offer must be {sdp: str, type: 'offer'}", field="offer")
    sdp, kind = offer.get("sdp"), offer.get("type")
    if kind != "offer" or not isinstance(sdp, str) or not sdp or len(sdp) > MAX_SDP:
        raise BadRequest("offer must be {sdp: str, type: 'offer'}", field="offer")
    return RTCSessionDescription(sdp=sdp, type="offer")


class RecentAudio(MediaStreamTrack):
    """A relay proxy of the speaker's audio that keeps at most ``keep`` frames queued (20 ms
    each): a viewer whose encoder falls behind loses the oldest sound (a short gap) instead of
    hearing the talk ever later. Video needs no such wrapper: its proxies hold only the newest
    frame."""

    kind = "audio"

    def __init__(self, proxy: MediaStreamTrack, keep: int = 10) -> None:
        super().__init__()
        self.proxy = proxy
        self.keep = keep
        self.dropped = 0

    async def recv(self) -> Any:
        frame = await self.proxy.recv()
        queue = getattr(self.proxy, "_queue", None)  # MediaRelay's buffer for this consumer
        while queue is not None and queue.qsize() > self.keep:
            old = queue.get_nowait()
            if old is None:  # the end of the speaker's track: keep it for the next recv
                queue.put_nowait(None)
                break
            self.dropped += 1
        return frame

    def stop(self) -> None:
        super().stop()
        self.proxy.stop()


@dataclass(eq=False)
class Viewer:
    """One connection watching one broadcast on its own peer."""

    client: Client
    talk_id: str
    kind: str
    """``video`` (audio and video) or ``audio``."""
    pc: RTCPeerConnection
    tracks: list[MediaStreamTrack] = field(default_factory=list)
    since: float = field(default_factory=time.monotonic)


@dataclass(eq=False)
class Broadcast:
    """One talk being broadcast: the speaker's peer, the relay and the viewers."""

    talk_id: str
    room_id: str
    client: Client
    """The speaker's (or admin's) connection that publishes."""
    pc: RTCPeerConnection
    end_ms: int
    relay: MediaRelay = field(default_factory=MediaRelay)
    sources: dict[str, MediaStreamTrack] = field(default_factory=dict)
    viewers: dict[str, Viewer] = field(default_factory=dict)
    """Socket.IO sid -> viewer."""
    frames: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    """Frames received from the speaker per kind (decoded by aiortc)."""
    started: float = field(default_factory=time.time)
    drains: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def has_video(self) -> bool:
        return "video" in self.sources

    def count(self, kind: str) -> int:
        return sum(1 for v in self.viewers.values() if v.kind == kind)

    def to_wire(self) -> dict[str, Any]:
        return {"talk_id": self.talk_id, "live": True, "video": self.has_video,
                "audio": "audio" in self.sources, "since": int(self.started * 1000),
                "viewers": {"video": self.count("video"), "audio": self.count("audio")}}


class StageMedia:
    """Owns every broadcast and viewer peer of the process."""

    def __init__(self, ice_servers: tuple[str, ...] = (),
                 on_stop: Callable[[Broadcast, str], None] | None = None,
                 on_viewer_gone: Callable[[Viewer, str], None] | None = None) -> None:
        self.ice_servers = ice_servers
        self.on_stop = on_stop
        self.on_viewer_gone = on_viewer_gone
        self.broadcasts: dict[str, Broadcast] = {}
        """talk id -> broadcast."""
        self.viewers: dict[str, Viewer] = {}
        """Socket.IO sid -> viewer (a connection watches one talk at a time)."""
        self._tasks: set[asyncio.Task[Any]] = set()

    def _pc(self) -> RTCPeerConnection:
        pc: RTCPeerConnection = track_peer(RTCPeerConnection(configuration=ice_config(self.ice_servers)))
        return pc

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def publishing(self, sid: str) -> Broadcast | None:
        return next((b for b in self.broadcasts.values() if b.client.sid == sid), None)

    # -- the speaker ----------------------------------------------------------------------
    async def publish(self, client: Client, talk_id: str, room_id: str, end_ms: int,
                      payload: object, kinds: tuple[str, ...]) -> dict[str, Any]:
        """Answer the speaker's offer; relay the offered tracks of ``kinds`` (others are
        refused in the answer, so the browser does not send them)."""
        offer = _offer(payload)
        if talk_id in self.broadcasts:
            raise AlreadyLive("Someone is already broadcasting this talk.")
        if self.publishing(client.sid) is not None:
            raise Conflict("This connection already broadcasts another talk; end it first.")
        pc = self._pc()
        b = Broadcast(talk_id, room_id, client, pc, end_ms)
        self.broadcasts[talk_id] = b
        incoming: list[MediaStreamTrack] = []
        pc.on("track", incoming.append)
        try:
            await pc.setRemoteDescription(offer)
            for t in pc.getTransceivers():
                if t.kind not in kinds or t.receiver.track is None:
                    t.direction = "inactive"
            usable = {t.kind: t for t in incoming if t.kind in kinds}
            if not usable:
                raise BadRequest(f"The offer sends no {' or '.join(kinds)}.", field="offer")
            await pc.setLocalDescription(await pc.createAnswer())
        except asyncio.CancelledError:
            await self.stop(talk_id, "error", notify=False)
            raise
        except BadRequest:
            await self.stop(talk_id, "error", notify=False)
            raise
        except Exception as exc:  # aiortc raises ValueError and others on a bad SDP
            await self.stop(talk_id, "error", notify=False)
            raise BadRequest(f"The offer could not be used: {exc}", field="offer") from exc
        for kind, track in usable.items():
            b.sources[kind] = track
            b.drains.append(asyncio.ensure_future(self._drain(b, kind, track)))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and self.broadcasts.get(talk_id) is b:
                await self.stop(talk_id, "connection")

        log.info("stage live talk=%s user=%s kinds=%s", talk_id, client.user.id,
                 ",".join(sorted(usable)))
        local = pc.localDescription
        return {"sdp": local.sdp, "type": local.type}

    async def _drain(self, b: Broadcast, kind: str, track: MediaStreamTrack) -> None:
        """Consume the speaker's track through the relay (newest frame only), so that frames
        never pile up while nobody watches, and count them."""
        proxy = b.relay.subscribe(track, buffered=False)
        try:
            while True:
                await proxy.recv()
                b.frames[kind] += 1
        except MediaStreamError:
            pass
        finally:
            proxy.stop()

    async def stop(self, talk_id: str, reason: str, *, notify: bool = True) -> bool:
        """End a broadcast: close the speaker's and every viewer's peer."""
        b = self.broadcasts.pop(talk_id, None)
        if b is None:
            return False
        for sid in list(b.viewers):
            await self.unwatch(sid, reason=None)
        for task in b.drains:
            task.cancel()
        await b.pc.close()
        log.info("stage ended talk=%s reason=%s frames=%s", talk_id, reason, b.frames)
        if notify and self.on_stop is not None:
            self.on_stop(b, reason)
        return True

    # -- viewers --------------------------------------------------------------------------
    async def watch(self, client: Client, b: Broadcast, payload: object, kind: str
                    ) -> dict[str, Any]:
        """Answer a viewer's offer with relayed tracks: audio, plus video when ``kind`` is
        ``video``. A connection watches one talk: an earlier viewer peer is closed first."""
        offer = _offer(payload)
        await self.unwatch(client.sid, reason=None)
        pc = self._pc()
        v = Viewer(client, b.talk_id, kind, pc)
        self.viewers[client.sid] = v
        b.viewers[client.sid] = v
        try:
            await pc.setRemoteDescription(offer)
            wanted = ("audio", "video") if kind == "video" else ("audio",)
            sent: set[str] = set()
            for t in pc.getTransceivers():
                source = b.sources.get(t.kind)
                if t.kind in wanted and source is not None and t.kind not in sent:
                    sent.add(t.kind)
                    # Video: the newest frame only (a busy encoder skips frames, never lags
                    # behind). Audio: every frame (a skipped one is a click), up to 200 ms.
                    proxy: MediaStreamTrack
                    if t.kind == "audio":
                        proxy = RecentAudio(b.relay.subscribe(source, buffered=True))
                    else:
                        proxy = b.relay.subscribe(source, buffered=False)
                    t.sender.replaceTrack(proxy)
                    t.direction = "sendonly"
                    v.tracks.append(proxy)
                else:
                    t.direction = "inactive"
            if not v.tracks:
                raise BadRequest("The offer must receive audio (and video).", field="offer")
            await pc.setLocalDescription(await pc.createAnswer())
        except asyncio.CancelledError:
            await self.unwatch(client.sid, reason=None)
            raise
        except BadRequest:
            await self.unwatch(client.sid, reason=None)
            raise
        except Exception as exc:
            await self.unwatch(client.sid, reason=None)
            raise BadRequest(f"The offer could not be used: {exc}", field="offer") from exc

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and self.viewers.get(client.sid) is v:
                await self.unwatch(client.sid, reason="connection")

        local = pc.localDescription
        return {"sdp": local.sdp, "type": local.type}

    async def unwatch(self, sid: str, reason: str | None = "left") -> Viewer | None:
        """Close a connection's viewer peer; ``reason`` (if any) goes to ``on_viewer_gone``."""
        v = self.viewers.pop(sid, None)
        if v is None:
            return None
        b = self.broadcasts.get(v.talk_id)
        if b is not None and b.viewers.get(sid) is v:
            del b.viewers[sid]
        for track in v.tracks:
            track.stop()
        await v.pc.close()
        if reason is not None and self.on_viewer_gone is not None:
            self.on_viewer_gone(v, reason)
        return v

    async def close_all(self) -> None:
        for talk_id in list(self.broadcasts):
            await self.stop(talk_id, "shutdown")
        for sid in list(self.viewers):
            await self.unwatch(sid, reason=None)
        for task in list(self._tasks):
            task.cancel()
