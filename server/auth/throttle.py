"""Sliding-window counters that slow repeated logins and guest sign-ups.

:class:`SlidingWindow` counts in this process. In cluster mode the same limits must hold for
the whole service — behind the round-robin front, N processes would otherwise allow N times the
attempts — so :class:`RedisThrottle` keeps the window in Redis (one sorted set per key, trimmed
and counted atomically by a Lua script). If Redis cannot be reached it counts locally, as a
single process would, rather than refusing every sign-in.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["SlidingWindow", "Throttle", "LocalThrottle", "RedisThrottle"]

log = logging.getLogger("metahall.throttle")


class SlidingWindow:
    """At most ``limit`` hits per key within ``window_s``; remembers at most ``max_keys`` keys."""

    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def _trim(self, key: str) -> deque[float]:
        now = self._clock()
        hits = self._hits.get(key)
        if hits is None:
            hits = deque()
            self._hits[key] = hits
            if len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
        else:
            self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        return hits

    def blocked(self, key: str) -> bool:
        return len(self._trim(key)) >= self.limit

    def hit(self, key: str) -> bool:
        """Count one hit; True when the key was already over its limit (the hit is refused)."""
        hits = self._trim(key)
        if len(hits) >= self.limit:
            return True
        hits.append(self._clock())
        return False

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)


class Throttle(Protocol):
    """What the HTTP handlers use: count a hit (True = refused), or ask without counting."""

    async def hit(self, key: str) -> bool: ...

    async def blocked(self, key: str) -> bool: ...


class LocalThrottle:
    """A :class:`SlidingWindow` of this process behind the :class:`Throttle` interface."""

    def __init__(self, window: SlidingWindow) -> None:
        self.window = window

    async def hit(self, key: str) -> bool:
        return self.window.hit(key)

    async def blocked(self, key: str) -> bool:
        return self.window.blocked(key)


# KEYS[1] the window; ARGV: limit, window in ms, 1 = count a hit / 0 = only ask, a unique member.
# Time comes from Redis so that every process agrees on it.
_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then return 1 end
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
end
return 0
"""


class RedisThrottle:
    """At most ``limit`` hits per key within ``window_s`` across every process sharing Redis."""

    def __init__(self, redis: Any, prefix: str, limit: int, window_s: float,
                 fallback: SlidingWindow) -> None:
        self.prefix = prefix
        self.limit = limit
        self.window_ms = int(window_s * 1000)
        self.fallback = fallback
        self._script = redis.register_script(_WINDOW)
        self._seq = itertools.count()
        self._me = f"{os.getpid()}.{id(self):x}"

    async def _ask(self, key: str, count: bool) -> bool:
        from redis.exceptions import RedisError

        member = f"{self._me}.{next(self._seq)}"
        try:
            refused = await self._script(keys=[f"{self.prefix}:{key}"],
                                         args=[self.limit, self.window_ms, int(count), member])
        except (RedisError, OSError) as exc:
            log.warning("throttle %s counted in this process: %s", self.prefix, exc)
            return self.fallback.hit(key) if count else self.fallback.blocked(key)
        return bool(refused)

    async def hit(self, key: str) -> bool:
        return await self._ask(key, True)

    async def blocked(self, key: str) -> bool:
        return await self._ask(key, False)
