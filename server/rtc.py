"""The WebRTC state channel: one aiortc peer per client that asks for it.

While a client's ``state`` data channel (unordered, no retransmits) is open, its snapshots go
there instead of over Socket.IO and its ``move`` messages are accepted from it. Socket.IO takes
over the moment the channel closes or fails, and hands back when a new one opens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from rooms.client import Client
from rooms.errors import BadRequest, Conflict, Unavailable
from rooms.payloads import require_mapping
from server.runtime_metrics import track_peer

__all__ = ["RtcManager", "RtcPeer", "split_snap", "SAFE_MESSAGE_BYTES"]

log = logging.getLogger("metahall.rtc")

SAFE_MESSAGE_BYTES = 1100
"""Above this a message is fragmented over several SCTP chunks, and on an unreliable channel
losing any one loses all: larger snapshots are split into several self-contained ones."""
BUFFER_SKIP_BYTES = 16 * 1024
"""More than this queued on the channel: skip the snapshot (the next one carries the newest)."""
MAX_SDP = 32 * 1024


def split_snap(snap: bytes, limit: int = SAFE_MESSAGE_BYTES) -> list[bytes]:
    """Cut one snapshot into several, each a valid ``[tick, ents, gone]`` under ``limit`` bytes."""
    if len(snap) <= limit:
        return [snap]
    tick, ents, gone = msgpack.unpackb(snap)
    out: list[bytes] = []
    batch: list[Any] = []
    size = 16
    for ent in ents:
        n = len(msgpack.packb(ent))
        if batch and size + n > limit:
            out.append(msgpack.packb([tick, batch, []]))
            batch, size = [], 16
        batch.append(ent)
        size += n
    out.append(msgpack.packb([tick, batch, gone]))
    return out


@dataclass(eq=False)
class RtcPeer:
    client: Client
    pc: RTCPeerConnection
    channel: Any = None
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def open(self) -> bool:
        return self.channel is not None and self.channel.readyState == "open"


class RtcManager:
    """Owns every peer of the process; bounded by ``max_peers``."""

    def __init__(
        self,
        max_peers: int,
        ice_servers: tuple[str, ...] = (),
        on_move: Callable[[Client, object], None] | None = None,
        on_change: Callable[[Client, str], None] | None = None,
    ) -> None:
        self.max_peers = max_peers
        self.ice_servers = ice_servers
        self.on_move = on_move
        self.on_change = on_change
        self.peers: dict[str, RtcPeer] = {}
        """Socket.IO sid -> peer."""
        self._tasks: set[asyncio.Task[None]] = set()

    def channel(self, sid: str) -> Any:
        peer = self.peers.get(sid)
        return peer.channel if peer is not None and peer.open else None

    async def offer(self, client: Client, payload: object) -> dict[str, Any]:
        """Answer a client's offer; the answer carries all our ICE candidates (no trickle)."""
        data = require_mapping(payload)
        sdp, kind = data.get("sdp"), data.get("type")
        if kind != "offer" or not isinstance(sdp, str) or not sdp or len(sdp) > MAX_SDP:
            raise BadRequest("rtc.offer needs {sdp: str, type: 'offer'}", field="sdp")
        if client.sid in self.peers:
            raise Conflict("A WebRTC session is already active; close it first.")
        if len(self.peers) >= self.max_peers:
            raise Unavailable("No WebRTC capacity left; staying on Socket.IO.")
        config = RTCConfiguration(iceServers=[RTCIceServer(urls=u) for u in self.ice_servers])
        pc = track_peer(RTCPeerConnection(configuration=config))
        peer = RtcPeer(client, pc)
        self.peers[client.sid] = peer
        self._wire(peer)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except asyncio.CancelledError:
            await self.close(client.sid)
            raise
        except Exception as exc:  # aiortc raises ValueError and others on a bad SDP
            await self.close(client.sid)
            raise BadRequest(f"The offer could not be used: {exc}", field="sdp") from exc
        local = pc.localDescription
        return {"sdp": local.sdp, "type": local.type}

    def _wire(self, peer: RtcPeer) -> None:
        pc, client = peer.pc, peer.client

        @pc.on("datachannel")
        def on_datachannel(channel: Any) -> None:
            if channel.label != "state" or peer.channel is not None:
                channel.close()
                return
            peer.channel = channel

            def on_open() -> None:
                peer.opened.set()
                self._changed(client, "webrtc")

            def on_close() -> None:
                self._changed(client, "socketio")
                self._spawn(self.close(client.sid))

            def on_message(message: object) -> None:
                if isinstance(message, bytes) and self.on_move is not None and len(message) < 256:
                    try:
                        move = msgpack.unpackb(message, max_array_len=8, max_str_len=16,
                                               max_bin_len=16, max_map_len=0)
                    except Exception:  # hostile bytes: count as a malformed move
                        move = None
                    self.on_move(client, move)

            channel.on("open", on_open)
            channel.on("close", on_close)
            channel.on("message", on_message)
            if channel.readyState == "open":
                on_open()

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.close(client.sid)

    def _changed(self, client: Client, transport: str) -> None:
        if self.on_change is not None:
            self.on_change(client, transport)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self, sid: str) -> bool:
        """Close a client's peer if it has one; Socket.IO carries its snapshots again."""
        peer = self.peers.pop(sid, None)
        if peer is None:
            return False
        was_open = peer.open
        await peer.pc.close()
        if was_open:
            self._changed(peer.client, "socketio")
        return True

    async def close_all(self) -> None:
        for sid in list(self.peers):
            await self.close(sid)
        for task in list(self._tasks):
            task.cancel()
