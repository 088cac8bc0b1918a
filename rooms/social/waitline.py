"""The waiting line of a full space whose overflow is ``queue``.

People ask to wait (``space.wait``) and get a position. When a place frees up, the first in
line gets it *held* for ``hold_s`` seconds (``space.turn``); while held, the place counts as
taken for everyone else. Joining uses the hold; letting it lapse passes the turn on.
Time is passed in (Unix ms), so the rules are testable without waiting.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["WaitLine"]


class WaitLine:
    def __init__(self, hold_s: float = 30.0) -> None:
        self.hold_ms = int(hold_s * 1000)
        self._lines: dict[str, list[str]] = {}
        self._holds: dict[str, dict[str, int]] = {}

    def join(self, room_id: str, user_id: str) -> int:
        """Queue ``user_id`` (idempotent); returns the 1-based position (0: holds a place)."""
        if user_id in self._holds.get(room_id, {}):
            return 0
        line = self._lines.setdefault(room_id, [])
        if user_id not in line:
            line.append(user_id)
        return line.index(user_id) + 1

    def leave(self, room_id: str, user_id: str) -> bool:
        """Leave the line (or give up a held place); True if anything changed."""
        line = self._lines.get(room_id, [])
        changed = False
        if user_id in line:
            line.remove(user_id)
            changed = True
        if self._holds.get(room_id, {}).pop(user_id, None) is not None:
            changed = True
        self._tidy(room_id)
        return changed

    def position(self, room_id: str, user_id: str) -> int | None:
        if user_id in self._holds.get(room_id, {}):
            return 0
        line = self._lines.get(room_id, [])
        return line.index(user_id) + 1 if user_id in line else None

    def waiting(self, room_id: str) -> int:
        return len(self._lines.get(room_id, ()))

    def line(self, room_id: str) -> list[str]:
        return list(self._lines.get(room_id, ()))

    def held(self, room_id: str, now_ms: int) -> int:
        """Places held for people whose turn came (expired holds are dropped first)."""
        self._drop_expired(room_id, now_ms)
        return len(self._holds.get(room_id, ()))

    def holds(self, room_id: str, user_id: str, now_ms: int) -> bool:
        self._drop_expired(room_id, now_ms)
        return user_id in self._holds.get(room_id, {})

    def consume(self, room_id: str, user_id: str) -> None:
        """``user_id`` came in on their held place."""
        self._holds.get(room_id, {}).pop(user_id, None)
        self._tidy(room_id)

    def admit(self, room_id: str, free: int, now_ms: int) -> list[tuple[str, int]]:
        """Hold up to ``free`` places (minus those already held) for the first in line;
        returns ``(user_id, until)`` for each new turn."""
        self._drop_expired(room_id, now_ms)
        holds = self._holds.setdefault(room_id, {})
        line = self._lines.get(room_id, [])
        out: list[tuple[str, int]] = []
        while line and free - len(holds) > 0:
            user = line.pop(0)
            holds[user] = until = now_ms + self.hold_ms
            out.append((user, until))
        self._tidy(room_id)
        return out

    def rooms(self) -> Iterator[str]:
        yield from list(set(self._lines) | set(self._holds))

    def _drop_expired(self, room_id: str, now_ms: int) -> None:
        holds = self._holds.get(room_id)
        if holds:
            for user, until in list(holds.items()):
                if until <= now_ms:
                    del holds[user]

    def _tidy(self, room_id: str) -> None:
        if not self._lines.get(room_id):
            self._lines.pop(room_id, None)
        if not self._holds.get(room_id):
            self._holds.pop(room_id, None)
