"""The WebRTC state channel with a real aiortc client: open, snaps on it, moves from it, fallback."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from server.rtc import split_snap
from tests.helpers import LiveServer, RecordingClient, connect, guest, wait_for


async def open_channel(c: RecordingClient) -> tuple[RTCPeerConnection, Any, asyncio.Queue[bytes]]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN: loopback only
    channel = pc.createDataChannel("state", ordered=False, maxRetransmits=0)
    inbox: asyncio.Queue[bytes] = asyncio.Queue()
    opened = asyncio.Event()
    channel.on("message", inbox.put_nowait)
    channel.on("open", opened.set)
    await pc.setLocalDescription(await pc.createOffer())
    ack = await c.call("rtc.offer", {"sdp": pc.localDescription.sdp, "type": "offer"}, timeout=15)
    assert ack["ok"] is True and ack["type"] == "answer", ack
    await pc.setRemoteDescription(RTCSessionDescription(sdp=ack["sdp"], type=ack["type"]))
    await asyncio.wait_for(opened.wait(), 10)
    return pc, channel, inbox


async def test_snaps_flow_on_the_channel_moves_come_back_and_socketio_takes_over(
        server: LiveServer) -> None:
    ta, _ = await guest(server.url, "rtc")
    tb, _ = await guest(server.url, "walker")
    a, b = await connect(server.url, ta), await connect(server.url, tb)
    ja = await a.call("join", {"room": "social:plaza"})
    jb = await b.call("join", {"room": "social:plaza"})
    pc, channel, inbox = await open_channel(a)
    try:
        await a.wait("rtc.transport", lambda d: d["transport"] == "webrtc")
        x, y, z, yaw = jb["spawn"]
        for i in range(1, 6):
            await b.sio.emit("move", [x + 0.1 * i, y, z, yaw, 1])
            await asyncio.sleep(0.11)
        snap = msgpack.unpackb(await asyncio.wait_for(inbox.get(), 5))
        assert isinstance(snap[0], int) and isinstance(snap[1], list)
        on_socket = len(a.events["snap"])
        await asyncio.sleep(0.5)
        assert len(a.events["snap"]) == on_socket  # nothing over Socket.IO while the channel is open
        # A move sent on the channel is seen by the other client.
        ax, ay, az, ayaw = ja["spawn"]
        for i in range(1, 4):
            channel.send(msgpack.packb([ax + 0.2 * i, ay, az, ayaw, 1]))
            await asyncio.sleep(0.11)
        await b.wait("snap", lambda raw: any(e[0] == ja["self"] and e[1] == round((ax + 0.6) * 100)
                                             for e in msgpack.unpackb(raw)[1]), timeout=5)
        channel.send(b"\xc1garbage")  # dropped and counted, nothing breaks
        # Close the peer: Socket.IO carries the snaps again.
        await pc.close()
        await a.wait("rtc.transport", lambda d: d["transport"] == "socketio", timeout=10)
        for i in range(6, 10):
            await b.sio.emit("move", [x + 0.1 * i, y, z, yaw, 1])
            await asyncio.sleep(0.11)
        await wait_for(lambda: len(a.events["snap"]) > on_socket, timeout=5)
        assert server.app.realtime.rtc.peers == {}
    finally:
        await pc.close()
        await a.close()
        await b.close()


async def test_bad_sdp_and_second_offer_are_refused_without_leaking_peers(server: LiveServer) -> None:
    t, _ = await guest(server.url)
    c = await connect(server.url, t)
    await c.call("join", {"room": "hall:main"})
    rtc = server.app.realtime.rtc
    try:
        for bad in ({"sdp": "v=0 nonsense", "type": "offer"}, {"sdp": "x", "type": "answer"},
                    {"sdp": 5}, "offer", {"sdp": "a" * 40000, "type": "offer"}):
            ack = await c.call("rtc.offer", bad, timeout=10)
            assert ack["ok"] is False and ack["error"]["code"] == "bad_request", ack
            assert rtc.peers == {}
        pc, _channel, _inbox = await open_channel(c)
        pc2 = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN: loopback only
        pc2.createDataChannel("state")
        await pc2.setLocalDescription(await pc2.createOffer())
        ack = await c.call("rtc.offer", {"sdp": pc2.localDescription.sdp, "type": "offer"})
        assert ack["error"]["code"] == "conflict" and len(rtc.peers) == 1
        await pc2.close()
        await pc.close()
    finally:
        await c.close()
    await wait_for(lambda: rtc.peers == {}, timeout=10)


def test_large_snaps_are_split_into_valid_smaller_ones() -> None:
    ents = [[i, 100 * i, 0, -100 * i, i * 7, 1] for i in range(1, 200)]
    snap = msgpack.packb([42, ents, [500, 501]])
    parts = split_snap(snap, limit=400)
    assert len(parts) > 1 and all(len(p) <= 400 for p in parts)
    decoded = [msgpack.unpackb(p) for p in parts]
    assert all(d[0] == 42 for d in decoded)
    assert [e for d in decoded for e in d[1]] == ents
    assert [g for d in decoded for g in d[2]] == [500, 501]
    assert split_snap(b"\x93\x01\x90\x90") == [b"\x93\x01\x90\x90"]
