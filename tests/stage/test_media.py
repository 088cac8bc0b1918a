"""The live relay with real aiortc peers on loopback: the speaker publishes a synthetic camera
and microphone, viewers in the stage area receive them through the server's MediaRelay."""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection

from loadtest.stage_peers import FrameCounter, SyntheticAudio, SyntheticVideo, publish, watch
from tests.helpers import RecordingClient, wait_for
from tests.stage.conftest import StageEnv, now_ms


def caller(c: RecordingClient) -> Any:
    async def call(event: str, data: Any, limit: float) -> Any:
        return await c.call(event, data, timeout=limit)
    return call


class Watching:
    """A viewer peer and counters for what it receives."""

    def __init__(self) -> None:
        self.pc: RTCPeerConnection | None = None
        self.counters: dict[str, FrameCounter] = {}
        self.ack: dict[str, Any] = {}

    def on_track(self, track: MediaStreamTrack) -> None:
        self.counters[track.kind] = FrameCounter(track).start()

    async def start(self, c: RecordingClient, talk_id: str) -> Watching:
        self.pc, self.ack = await watch(caller(c), talk_id, on_track=self.on_track)
        return self

    def frames(self, kind: str) -> int:
        counter = self.counters.get(kind)
        return counter.frames if counter else 0

    async def close(self) -> None:
        for counter in self.counters.values():
            await counter.stop()
        if self.pc is not None:
            await self.pc.close()


def camera() -> list[MediaStreamTrack]:
    return [SyntheticAudio(), SyntheticVideo(320, 240, 15)]


async def test_only_the_speaker_or_an_admin_publishes_and_only_while_the_talk_is_on(
        stage: StageEnv) -> None:
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    other = await stage.person("Other exhibitor", "exhibitor")
    visitor = await stage.person("Visitor")
    a = await stage.connect(admin)
    s = await stage.connect(speaker)
    talk = await stage.talk(a, speaker.id)
    later = await stage.talk(a, speaker.id, start=now_ms() + 3 * 3_600_000)
    embed = await stage.talk(a, speaker.id, start=now_ms() + 6 * 3_600_000, mode="embed",
                             embed_url="https://live.example.com/x.m3u8")
    peers: list[RTCPeerConnection] = []
    try:
        for who in (visitor, other):
            c = await stage.connect(who)
            pc, ack = await publish(caller(c), talk["id"], camera())
            peers.append(pc)
            assert ack["ok"] is False and ack["error"]["code"] == "forbidden", ack
        pc, ack = await publish(caller(s), later["id"], camera())
        peers.append(pc)
        assert ack["error"]["code"] == "conflict" and ack["error"]["start"] == later["start"]
        pc, ack = await publish(caller(s), embed["id"], camera())
        peers.append(pc)
        assert ack["error"]["code"] == "bad_request"
        assert stage.app.stage.media.broadcasts == {}

        # The admin can; everyone in the room hears that the talk is live.
        pc, ack = await publish(caller(a), talk["id"], camera())
        peers.append(pc)
        assert ack["ok"], ack
        live = await s.wait("stage.live", lambda d: d["talk_id"] == talk["id"] and d["live"])
        assert live["video"] is True and live["audio"] is True
        # A second publisher is refused unless it takes over explicitly.
        pc, ack = await publish(caller(s), talk["id"], camera())
        peers.append(pc)
        assert ack["error"]["code"] == "conflict"
        pc, ack = await publish(caller(s), talk["id"], camera(), replace=True)
        peers.append(pc)
        assert ack["ok"], ack
        assert stage.app.stage.media.broadcasts[talk["id"]].client.user.id == speaker.id
        # Garbage offers never leave a broadcast behind.
        await s.call("stage.unpublish", {"talk_id": talk["id"]})
        for bad in ({"talk_id": talk["id"], "offer": {"sdp": "v=0 junk", "type": "offer"}},
                    {"talk_id": talk["id"], "offer": {"sdp": "x", "type": "answer"}},
                    {"talk_id": talk["id"]}, {"talk_id": talk["id"], "offer": "x"}):
            ack = await s.call("stage.publish", bad, timeout=15)
            assert ack["ok"] is False and ack["error"]["code"] == "bad_request", ack
        assert stage.app.stage.media.broadcasts == {}
    finally:
        for pc in peers:
            await pc.close()


async def test_two_viewers_receive_the_speakers_frames_through_the_relay(stage: StageEnv) -> None:
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    viewers = [await stage.person(f"Viewer {i}") for i in range(2)]
    a = await stage.connect(admin)
    s = await stage.connect(speaker)
    vc = [await stage.connect(p) for p in viewers]
    talk = await stage.talk(a, speaker.id)
    tracks = camera()
    pub, ack = await publish(caller(s), talk["id"], tracks)
    watching = [Watching() for _ in vc]
    try:
        assert ack["ok"], ack
        for p in viewers:
            stage.to_stage(p)
        for w, c in zip(watching, vc, strict=True):
            await w.start(c, talk["id"])
            assert w.ack["ok"] and w.ack["mode"] == "video", w.ack
        await wait_for(lambda: all(w.frames("video") >= 20 and w.frames("audio") >= 50
                                   for w in watching), timeout=30)
        for w in watching:
            assert w.counters["video"].width == 320  # the speaker's picture, not a placeholder
        b = stage.app.stage.media.broadcasts[talk["id"]]
        assert b.count("video") == 2 and b.frames["video"] >= 20
        listing = await vc[0].call("stage.list", {})
        assert listing["now"] == talk["id"]
        assert listing["talks"][0]["live"]["viewers"] == {"video": 2, "audio": 0}

        # The speaker ends: viewers are told, every server peer is closed.
        assert (await s.call("stage.unpublish", {"talk_id": talk["id"]}))["stopped"] is True
        await vc[0].wait("stage.live", lambda d: d["talk_id"] == talk["id"] and not d["live"])
        assert stage.app.stage.media.broadcasts == {} and stage.app.stage.media.viewers == {}
    finally:
        for w in watching:
            await w.close()
        await pub.close()


async def test_beyond_the_video_cap_viewers_get_audio_then_the_embed(stage: StageEnv) -> None:
    stage.configure(max_video_viewers=1, max_audio_viewers=1)
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    viewers = [await stage.person(f"Viewer {i}") for i in range(3)]
    a = await stage.connect(admin)
    s = await stage.connect(speaker)
    vc = [await stage.connect(p) for p in viewers]
    for p in viewers:
        stage.to_stage(p)
    talk = await stage.talk(a, speaker.id)
    # Not live yet: the viewer is told to wait (no peer is made).
    waiting = await Watching().start(vc[0], talk["id"])
    assert waiting.ack["mode"] == "waiting" and "answer" not in waiting.ack
    await waiting.close()
    pub, _ = await publish(caller(s), talk["id"], camera())
    watching = [Watching() for _ in vc]
    try:
        first = await watching[0].start(vc[0], talk["id"])
        second = await watching[1].start(vc[1], talk["id"])
        assert first.ack["mode"] == "video"
        assert second.ack["mode"] == "audio" and second.ack["reason"] == "full", second.ack
        third = await watching[2].start(vc[2], talk["id"])
        assert third.ack["ok"] is False and third.ack["error"]["code"] == "full", third.ack
        # With an embed URL the organiser gives, the overflow goes there.
        ack = await a.call("stage.update", {"talk_id": talk["id"],
                                            "embed_url": "https://cdn.example.com/live.m3u8"})
        assert ack["ok"], ack
        third = await watching[2].start(vc[2], talk["id"])
        assert third.ack["mode"] == "embed" and third.ack["url"].endswith("live.m3u8")
        assert "answer" not in third.ack
        await wait_for(lambda: first.frames("video") >= 10 and second.frames("audio") >= 50,
                       timeout=30)
        assert second.frames("video") == 0  # audio only beyond the cap
        b = stage.app.stage.media.broadcasts[talk["id"]]
        assert (b.count("video"), b.count("audio")) == (1, 1)
        # A viewer who stops frees the place for the next one.
        assert (await vc[0].call("stage.unwatch", {}))["stopped"] is True
        again = await Watching().start(vc[2], talk["id"])
        watching.append(again)
        assert again.ack["mode"] == "video"
    finally:
        for w in watching:
            await w.close()
        await pub.close()


async def test_slides_talks_relay_audio_and_the_slide_position(stage: StageEnv) -> None:
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    viewer = await stage.person("Viewer")
    a = await stage.connect(admin)
    s = await stage.connect(speaker)
    v = await stage.connect(viewer)
    stage.to_stage(viewer)
    talk = await stage.talk(a, speaker.id, mode="slides")
    pub, ack = await publish(caller(s), talk["id"], camera())  # video offered, not taken
    w = Watching()
    try:
        assert ack["ok"], ack
        assert stage.app.stage.media.broadcasts[talk["id"]].has_video is False
        await w.start(v, talk["id"])
        assert w.ack["mode"] == "audio" and "reason" not in w.ack
        await wait_for(lambda: w.frames("audio") >= 50, timeout=30)
        assert w.frames("video") == 0
        ack = await s.call("stage.slide", {"talk_id": talk["id"], "index": 0})
        assert ack["error"]["code"] == "bad_request"  # no slides uploaded yet
    finally:
        await w.close()
        await pub.close()


async def test_viewers_must_be_at_the_stage_and_are_cut_off_when_they_leave(
        stage: StageEnv) -> None:
    stage.configure(sweep_s=0.2)
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    viewer = await stage.person("Wanderer")
    a = await stage.connect(admin)
    s = await stage.connect(speaker)
    v = await stage.connect(viewer)
    elsewhere = await stage.connect(await stage.person("Elsewhere"), room="social:plaza")
    talk = await stage.talk(a, speaker.id)
    pub, _ = await publish(caller(s), talk["id"], camera())
    w = Watching()
    try:
        far = await Watching().start(v, talk["id"])  # at the entrance, 60 m from the stage
        assert far.ack["ok"] is False and far.ack["error"]["code"] == "forbidden", far.ack
        assert "area" in far.ack["error"]
        out = await Watching().start(elsewhere, talk["id"])
        assert out.ack["error"]["code"] == "forbidden" and out.ack["error"]["room"] == talk["room_id"]
        stage.to_stage(viewer)
        await w.start(v, talk["id"])
        assert w.ack["mode"] == "video"
        await wait_for(lambda: w.frames("video") >= 5, timeout=30)
        stage.teleport(viewer, 50.0, 30.0)  # walks off to the booths
        ended = await v.wait("stage.ended", timeout=10)
        assert ended == {"talk_id": talk["id"], "reason": "left_area"}
        assert stage.app.stage.media.viewers == {}
        # The speaker's connection drops: the broadcast ends and the room is told.
        await s.close()
        gone = await v.wait("stage.live", lambda d: not d["live"], timeout=10)
        assert gone["reason"] == "speaker_left"
    finally:
        await w.close()
        await pub.close()


async def test_the_broadcast_stops_when_the_talk_time_is_over(stage: StageEnv) -> None:
    stage.configure(sweep_s=0.2)
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    a = await stage.connect(admin)
    s = await stage.connect(speaker)
    start = now_ms() - 60_000
    ack = await a.call("stage.create", {
        "room": "expo:demo", "title": {"zh-CN": "短讲", "en": "Short"}, "speaker_id": speaker.id,
        "start": start, "end": now_ms() + 1500, "mode": "live"})
    talk = ack["talk"]
    pub, ack = await publish(caller(s), talk["id"], camera())
    try:
        assert ack["ok"], ack
        done = await s.wait("stage.live", lambda d: not d["live"], timeout=10)
        assert done["reason"] == "time"
        pc, ack = await publish(caller(s), talk["id"], camera())
        await pc.close()
        assert ack["error"]["code"] == "conflict"
    finally:
        await pub.close()
    await asyncio.sleep(0)
