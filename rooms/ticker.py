"""The tick loop: one per process, ticking every open room at a fixed rate without drift."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from rooms.registry import RoomRegistry

__all__ = ["Ticker"]

log = logging.getLogger("metahall.rooms")


class Ticker:
    """Runs ``room._tick`` for every room ``hz`` times a second.

    Ticks are scheduled on an absolute grid (start + n/hz) so they do not drift; when a tick
    overruns by more than a whole period the loop skips ahead instead of piling up.
    """

    def __init__(
        self,
        registry: RoomRegistry,
        hz: int,
        observe: Callable[[float], None] | None = None,
        on_skip: Callable[[int], None] | None = None,
    ) -> None:
        self.registry = registry
        self.period = 1.0 / hz
        self.tick = 0
        self.skipped = 0
        self._observe = observe
        self._on_skip = on_skip

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        while True:
            n += 1
            target = start + n * self.period
            delay = target - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif -delay > self.period:
                behind = int(-delay / self.period)
                n += behind
                self.skipped += behind
                if self._on_skip:
                    self._on_skip(behind)
            await self.step()

    async def step(self) -> None:
        """Run one tick of every room now."""
        self.tick += 1
        t0 = time.perf_counter()
        for room in list(self.registry.rooms()):
            try:
                await room._tick(self.tick)
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken room must not stop the others from ticking
                log.exception("tick failed room=%s", room.id)
        if self._observe:
            self._observe(time.perf_counter() - t0)
