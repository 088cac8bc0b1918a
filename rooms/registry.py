"""Placement of room instances: create on demand, put a join where there is space, dispose idle ones."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol

from rooms.base import Room, RoomContext, RoomOptions, RoomPhase
from rooms.client import Client
from rooms.errors import BadRequest, Forbidden, NotFound, RoomFull
from rooms.payloads import ROOM_ID_RE

__all__ = ["RoomRegistry", "RoomDirectory"]

log = logging.getLogger("metahall.rooms")


class RoomDirectory(Protocol):
    """Where room ids are looked up (the database, in the server)."""

    async def get(self, room_id: str) -> RoomOptions | None: ...


class RoomRegistry:
    def __init__(self, directory: RoomDirectory, ctx: RoomContext, max_instances: int = 16) -> None:
        self.directory = directory
        self.ctx = ctx
        self.max_instances = max_instances
        self._kinds: dict[str, type[Room]] = {}
        self._instances: dict[str, list[Room]] = {}
        self.place: Callable[[str], Awaitable[dict[str, Any] | None]] | None = None
        """Cluster placement: a redirect when ``room_id`` lives on another process, else None."""
        self.on_gone: Callable[[str], Awaitable[None]] | None = None
        """Called when this process no longer runs any instance of a room (cluster: release)."""

    def define(self, kind: str, room_class: type[Room]) -> None:
        """Register the class that runs rooms of ``kind``."""
        self._kinds[kind] = room_class

    def rooms(self) -> Iterator[Room]:
        for instances in self._instances.values():
            yield from instances

    def instances(self, room_id: str) -> list[Room]:
        return list(self._instances.get(room_id, ()))

    def members(self, room_id: str) -> int:
        return sum(r.members for r in self._instances.get(room_id, ()))

    async def join_or_create(self, room_id: object, client: Client,
                             options: dict[str, Any]) -> tuple[Room | None, dict[str, Any]]:
        """Join an instance of ``room_id`` with space, creating one when all are full.

        In a cluster a room that lives on another process is not joined: the answer is
        ``(None, {"redirect": ...})`` and the client reconnects there."""
        if not isinstance(room_id, str) or not ROOM_ID_RE.match(room_id):
            raise BadRequest("room must look like 'hall:main'", field="room")
        opts = await self.directory.get(room_id)
        if opts is None or opts.kind not in self._kinds:
            raise NotFound(f"No room {room_id!r}.")
        if self.place is not None and room_id not in self._instances:
            redirect = await self.place(room_id)
            if redirect is not None:
                return None, {"redirect": redirect}
        instances = self._instances.setdefault(room_id, [])
        if any(r.locked for r in instances):
            raise Forbidden("This room is locked.")
        for room in instances:
            if room.has_space:
                try:
                    return room, await room._join(client, options)
                except RoomFull:
                    continue
        if len(instances) >= self.max_instances:
            raise RoomFull("This room and all its overflow instances are full.")
        room = await self.create(opts)
        return room, await room._join(client, options)

    async def create(self, opts: RoomOptions) -> Room:
        """Create and open a new instance of a room."""
        instances = self._instances.setdefault(opts.room_id, [])
        used = {r.instance for r in instances}
        number = next(i for i in range(1, len(used) + 2) if i not in used)
        room = self._kinds[opts.kind](opts, number, self.ctx)
        await room._create()
        instances.append(room)
        log.info("room created room=%s instance=%d", opts.room_id, number)
        return room

    def set_locked(self, room_id: str, locked: bool) -> None:
        """Lock or unlock every instance of a room; a locked room takes no joins."""
        for room in self._instances.get(room_id, ()):
            room.locked = locked

    async def leave(self, client: Client, consented: bool) -> None:
        room = client.room
        if room is not None:
            await room._leave(client, consented)

    async def dispose_idle(self, now: float, grace_s: float) -> int:
        """Dispose instances empty for longer than ``grace_s``; returns how many."""
        n = 0
        for room_id, instances in list(self._instances.items()):
            for room in list(instances):
                if room.members == 0 and room.empty_since is not None \
                        and now - room.empty_since >= grace_s and room.phase is RoomPhase.OPEN:
                    instances.remove(room)
                    await room._dispose()
                    n += 1
            if not instances:
                del self._instances[room_id]
                if self.on_gone is not None:
                    await self.on_gone(room_id)
        return n

    async def evict(self, room_id: str) -> list[Client]:
        """Close every instance of a room here (its lease went to another process); returns the
        clients that were in it, for the caller to send on."""
        out: list[Client] = []
        for room in self._instances.pop(room_id, []):
            for client in list(room.clients.values()):
                out.append(client)
                await room._leave(client, consented=False)
            await room._dispose()
        return out

    async def close_all(self) -> None:
        for room in list(self.rooms()):
            for client in list(room.clients.values()):
                await room._leave(client, consented=False)
            await room._dispose()
        self._instances.clear()
