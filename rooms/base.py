"""The Room base class: lifecycle hooks (Colyseus style) around the avatar world every room has.

Subclasses override only the hooks they need; the runtime methods (``_create``, ``_join``,
``_leave``, ``_message``, ``_tick``, ``_dispose``) are called by the registry and the ticker and
wrap hook failures in typed errors so one bad hook never takes the room down.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from avatars import AvatarWorld, Bounds, InterestConfig, MoveResult
from rooms.client import Client
from rooms.errors import (
    CreateHookError,
    DisposeHookError,
    Forbidden,
    JoinHookError,
    LeaveHookError,
    MessageHookError,
    MetahallError,
    NotFound,
    RoomFull,
    RoomHookError,
    RoomPhaseError,
    TickHookError,
)
from rooms.layouts import Layout
from rooms.outbox import Outbox
from rooms.trails import TrailRecorder  # moderation: position trails

__all__ = ["Room", "RoomPhase", "RoomOptions", "RoomContext"]

log = logging.getLogger("metahall.rooms")


class RoomPhase(enum.Enum):
    CREATING = "creating"
    OPEN = "open"
    DISPOSING = "disposing"
    DISPOSED = "disposed"


@dataclass(frozen=True, slots=True)
class RoomOptions:
    """What the directory knows about a room id; handed to ``on_create``."""

    room_id: str
    kind: str
    name: dict[str, str]
    capacity: int
    public: bool = True
    owner_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RoomContext:
    """The parts of the server a room may use."""

    outbox: Outbox
    tick_hz: int = 10
    clock: Callable[[], float] = time.time
    on_hook_error: Callable[[RoomHookError], None] | None = None
    services: dict[str, Any] = field(default_factory=dict)
    """Feature services (hall queue, moderation...) keyed by name, set by the server."""


class Room:
    kind: ClassVar[str] = "room"
    layout: ClassVar[Layout]
    interest: ClassVar[InterestConfig] = InterestConfig()
    chat_log_size: ClassVar[int] = 2000
    near_radius: ClassVar[float] = 15.0

    def __init__(self, options: RoomOptions, instance: int, ctx: RoomContext) -> None:
        self.id = options.room_id
        self.options = options
        self.instance = instance
        self.ctx = ctx
        self.phase = RoomPhase.CREATING
        self._max_clients = options.capacity
        self.clients: dict[int, Client] = {}
        self.locked = False
        self.empty_since: float | None = ctx.clock()
        self.chat_log: deque[dict[str, Any]] = deque(maxlen=self.chat_log_size)
        self.trails = TrailRecorder()  # moderation: 2 Hz positions, last 5 min (evidence)
        self._free_eids: list[int] = []
        self._next_eid = 1
        self._rng = random.Random()
        lay = self.layout
        self.world = AvatarWorld(
            bounds=Bounds(lay.min_x, lay.max_x, lay.min_z, lay.max_z),
            config=self.interest,
        )

    # -- hooks -----------------------------------------------------------------------
    async def on_create(self, options: RoomOptions) -> None:
        """Fires once, before the first join; the only place ``max_clients`` may be set."""

    async def on_join(self, client: Client, options: dict[str, Any]) -> None:
        """Fires when a client asks to join, before it enters the world. Raise to refuse."""

    async def on_message(self, client: Client, event: str, payload: object) -> dict[str, Any] | None:
        """Fires for room-specific events (``noun.verb``); return the ack fields."""
        raise NotFound(f"Unknown event {event!r} in this room.")

    async def on_leave(self, client: Client, consented: bool) -> None:
        """Fires after a client left the world; ``consented`` is False on a dropped connection."""

    async def on_tick(self, tick: int) -> None:
        """Fires every tick after snapshots were queued."""

    async def on_dispose(self) -> None:
        """Fires once when the registry disposes the (empty) room."""

    def on_uncaught_exception(self, error: RoomHookError, hook: str) -> None:
        """Called with every wrapped hook failure; log by default."""
        log.error("room hook failed room=%s hook=%s", self.id, hook, exc_info=error.__cause__)

    # -- properties ------------------------------------------------------------------
    @property
    def max_clients(self) -> int:
        return self._max_clients

    @max_clients.setter
    def max_clients(self, value: int) -> None:
        if self.phase is not RoomPhase.CREATING:
            raise RoomPhaseError("max_clients can only be set in on_create()")
        self._max_clients = value

    @property
    def members(self) -> int:
        return len(self.clients)

    @property
    def has_space(self) -> bool:
        return self.phase is RoomPhase.OPEN and not self.locked and len(self.clients) < self._max_clients

    def _overridden(self, name: str) -> bool:
        return getattr(type(self), name) is not getattr(Room, name)

    async def _call(self, hook: str, err: type[RoomHookError], client: Client | None,
                    call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await call()
        except (MetahallError, asyncio.CancelledError):
            raise
        except Exception as exc:
            wrapped = err(hook, self.id, client.user.id if client else None)
            wrapped.__cause__ = exc
            self.on_uncaught_exception(wrapped, hook)
            if self.ctx.on_hook_error:
                self.ctx.on_hook_error(wrapped)
            raise wrapped from exc

    # -- runtime ---------------------------------------------------------------------
    async def _create(self) -> None:
        if self._overridden("on_create"):
            await self._call("on_create", CreateHookError, None, lambda: self.on_create(self.options))
        self.phase = RoomPhase.OPEN

    async def _join(self, client: Client, options: dict[str, Any]) -> dict[str, Any]:
        if self.locked:
            raise Forbidden("This room is locked.")
        if not self.has_space:
            raise RoomFull("This room is full.")
        if self._overridden("on_join"):
            await self._call("on_join", JoinHookError, client, lambda: self.on_join(client, options))
        if not self.has_space:  # the hook awaited; someone may have taken the last place
            raise RoomFull("This room is full.")
        eid = self._free_eids.pop() if self._free_eids else self._take_eid()
        spawn = self.layout.spawn(self._rng)
        client.eid, client.room, client.ready = eid, self, False
        self.clients[eid] = client
        self.empty_since = None
        self.world.add(eid, spawn[0], spawn[1], spawn[2], spawn[3], self.ctx.clock() * 1000)
        self.trails.joined(eid, client.user.id, client.user.display_name,
                           self.ctx.clock() * 1000)  # moderation
        return {
            "self": eid,
            "room": self.id,
            "instance": f"{self.id}#{self.instance}",
            "tick_hz": self.ctx.tick_hz,
            "spawn": spawn,
            "members": len(self.clients),
        }

    def _take_eid(self) -> int:
        eid = self._next_eid
        if eid > 65535:
            raise RoomFull("No entity ids left in this room.")
        self._next_eid += 1
        return eid

    async def _leave(self, client: Client, consented: bool) -> None:
        eid = client.eid
        if client.room is not self or self.clients.get(eid) is not client:
            return
        del self.clients[eid]
        self.world.remove(eid)
        self.trails.left(eid, self.ctx.clock() * 1000)  # moderation
        # The id is reused only after others were told it is gone (next tick's snap).
        asyncio.get_running_loop().call_later(2.0, self._free_eids.append, eid)
        client.room, client.eid, client.ready = None, 0, False
        if not self.clients:
            self.empty_since = self.ctx.clock()
        if self._overridden("on_leave"):
            try:
                await self._call("on_leave", LeaveHookError, client,
                                 lambda: self.on_leave(client, consented))
            except RoomHookError:
                pass  # already reported; leaving must always succeed

    async def _message(self, client: Client, event: str, payload: object) -> dict[str, Any] | None:
        result: dict[str, Any] | None = await self._call(
            "on_message", MessageHookError, client, lambda: self.on_message(client, event, payload)
        )
        return result

    def move(self, client: Client, payload: object) -> MoveResult:
        return self.world.move(client.eid, payload, self.ctx.clock() * 1000)

    async def _tick(self, tick: int) -> None:
        """Encode and queue this tick's snapshots, then run ``on_tick``."""
        if self.clients:
            outbox = self.ctx.outbox
            clients = self.clients
            skip = [eid for eid, c in clients.items() if not c.ready or outbox.backlogged(c.sid)]
            for obs in self.world.step(tick, skip=skip):
                client = clients.get(obs.eid)
                if client is None:
                    continue
                if obs.entered:
                    outbox.emit(client.sid, "enter",
                                [clients[e].enter_info() for e in obs.entered if e in clients])
                if obs.snap is not None:
                    outbox.send_snap(client.sid, obs.snap)
            now_ms = self.ctx.clock() * 1000  # moderation: trail sample at 2 Hz
            if self.trails.due(now_ms):
                self.trails.sample(now_ms, clients.keys(), self.world.position)
        if self._overridden("on_tick"):
            try:
                await self._call("on_tick", TickHookError, None, lambda: self.on_tick(tick))
            except RoomHookError:
                pass  # reported; the next tick runs anyway

    async def _dispose(self) -> None:
        self.phase = RoomPhase.DISPOSING
        if self._overridden("on_dispose"):
            try:
                await self._call("on_dispose", DisposeHookError, None, self.on_dispose)
            except RoomHookError:
                pass
        self.phase = RoomPhase.DISPOSED

    # -- helpers for subclasses and chat ------------------------------------------------
    def broadcast(self, event: str, data: Any, exclude: Iterable[int] = ()) -> None:
        skip = set(exclude)
        for eid, client in self.clients.items():
            if eid not in skip:
                self.ctx.outbox.emit(client.sid, event, data)

    def near(self, eid: int, radius: float | None = None) -> list[Client]:
        """Clients within ``radius`` metres (XZ) of ``eid``, itself included."""
        r = self.near_radius if radius is None else radius
        if eid not in self.clients:
            return []
        x, _, z, *_ = self.world.position(eid)
        eids = np.fromiter(self.clients.keys(), dtype=np.int64, count=len(self.clients))
        pos = np.array([self.world.position(int(e))[0:3:2] for e in eids], dtype=np.float64)
        d2 = (pos[:, 0] - x) ** 2 + (pos[:, 1] - z) ** 2
        return [self.clients[int(e)] for e in eids[d2 <= r * r]]

    def by_user(self, user_id: str) -> list[Client]:
        return [c for c in self.clients.values() if c.user.id == user_id]

    def channel_members(self, client: Client, channel: str) -> list[Client] | None:
        """Members of a room-specific chat channel (e.g. ``booth:<id>``); None if unknown."""
        return None
