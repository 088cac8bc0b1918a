"""A bounded sliding-window counter used to slow repeated logins and guest sign-ups."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

__all__ = ["SlidingWindow"]


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
