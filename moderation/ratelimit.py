"""Per-user rate limits and flood/spam detection for chat.

:class:`TokenBucketLimiter` is a generic keyed token bucket (usable for any event: reports,
joins...). :class:`FloodGuard` combines one with spam heuristics and is a ``check_chat``
callback:

1. rate: more than ``burst`` messages at once, or more than ``rate`` per second sustained →
   ``Block("rate_limited")``;
2. repeats: the same or a near-identical message (same canonical form, or 3-gram Jaccard
   similarity ≥ ``similarity``) sent more than ``max_repeats`` times within
   ``repeat_window`` seconds → ``Block("blocked")``. Canonical form (moderation.normalize)
   means case, width, spacing and punctuation changes do not make a message "new";
3. mass mentions and links above a threshold → ``Flag`` (or ``Block``, configurable).

Memory is bounded: users are kept in LRU order, at most ``max_users`` of them, and a user
idle long enough to have a full bucket and no recent messages is forgotten (which changes
nothing: a new user starts in the same state). All time comes from an injectable clock.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from moderation.context import ChatContext
from moderation.errors import ModerationConfigError
from moderation.normalize import canonical
from moderation.verdicts import ALLOW, Block, Flag, Severity, Verdict

__all__ = ["FloodConfig", "FloodGuard", "TokenBucketLimiter", "count_links", "count_mentions"]

_MENTION: Final = re.compile(r"(?<![\w@＠])[@＠][\w.\-]{1,32}")
_LINK: Final = re.compile(
    r"(?i)\b(?:https?://|www\.)\S+"
    r"|\b[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*\.(?:com|net|org|cn|io|co|me|xyz|top|info|biz|ru"
    r"|tk|link|site|online|club|vip|shop|app|ly|gg)\b(?:/\S*)?"
)


def count_mentions(text: str) -> int:
    """Distinct ``@name`` mentions in ``text`` (e-mail addresses excluded)."""
    return len({m.group(0)[1:].casefold() for m in _MENTION.finditer(text)})


def count_links(text: str) -> int:
    """URLs and bare domain names with a common TLD in ``text``."""
    return len(_LINK.findall(text))


class TokenBucketLimiter:
    """Token buckets keyed by a string; LRU-bounded, idle (full) buckets forgotten."""

    def __init__(
        self,
        *,
        rate: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        """``rate`` tokens per second refill a bucket of ``burst`` tokens."""
        if rate <= 0 or burst < 1 or max_keys < 1:
            raise ModerationConfigError("need rate > 0, burst >= 1 and max_keys >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._idle = burst / rate  # a bucket untouched this long is full: same as a new one
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()  # key -> [tokens, at]

    def __len__(self) -> int:
        return len(self._buckets)

    def _bucket(self, key: str, now: float) -> list[float]:
        buckets = self._buckets
        while buckets:  # least recently used first; stop at the first one still needed
            oldest_key, oldest = next(iter(buckets.items()))
            if now - oldest[1] < self._idle:
                break
            del buckets[oldest_key]
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = [float(self.burst), now]
            if len(buckets) > self._max_keys:
                buckets.popitem(last=False)
        else:
            buckets.move_to_end(key)
            bucket[0] = min(float(self.burst), bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
        return bucket

    def try_acquire(self, key: str, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens from ``key``'s bucket if it has them."""
        bucket = self._bucket(key, self._clock())
        if bucket[0] + 1e-9 < cost:
            return False
        bucket[0] -= cost
        return True

    def retry_after(self, key: str, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens will be available (0.0 if now)."""
        bucket = self._bucket(key, self._clock())
        return max(0.0, (cost - bucket[0]) / self.rate)

    def forget(self, key: str) -> None:
        """Drop ``key``'s state (user erased or signed out)."""
        self._buckets.pop(key, None)


@dataclass(frozen=True, slots=True)
class FloodConfig:
    """Thresholds of :class:`FloodGuard`."""

    rate: float = 1.0
    """Sustained messages per second per user."""
    burst: int = 5
    """Messages a user may send at once."""
    repeat_window: float = 60.0
    """Seconds over which repeated messages are counted."""
    max_repeats: int = 2
    """Similar messages allowed within the window; the next one is blocked."""
    min_repeat_len: int = 4
    """Canonical messages shorter than this ("ok", "哈哈") are never counted as repeats."""
    similarity: float = 0.85
    """3-gram Jaccard similarity from which two messages count as the same."""
    history: int = 8
    """Messages remembered per user for repeat detection."""
    max_mentions: int = 5
    """Distinct @mentions allowed in one message."""
    mention_action: Literal["block", "flag"] = "flag"
    """What happens above ``max_mentions``."""
    max_links: int = 2
    """Links allowed in one message."""
    link_action: Literal["block", "flag"] = "flag"
    """What happens above ``max_links``."""
    exempt_roles: frozenset[str] = frozenset({"moderator", "admin"})
    """Roles that are never limited."""
    max_users: int = 100_000
    """Users whose state is kept at most (least recently active forgotten first)."""

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1 or self.repeat_window <= 0 or self.max_repeats < 1:
            raise ModerationConfigError(
                "need rate > 0, burst >= 1, repeat_window > 0, max_repeats >= 1"
            )
        if not 0 < self.similarity <= 1 or self.history < self.max_repeats or self.max_users < 1:
            raise ModerationConfigError(
                "need 0 < similarity <= 1, history >= max_repeats, max_users >= 1"
            )


@dataclass(frozen=True, slots=True)
class _Seen:
    at: float
    key: str
    grams: frozenset[str]


def _grams(key: str) -> frozenset[str]:
    return frozenset(key[i : i + 3] for i in range(max(1, len(key) - 2)))


class FloodGuard:
    """Rate limit + repeat/mention/link heuristics for chat; see the module docstring."""

    def __init__(
        self, config: FloodConfig | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config or FloodConfig()
        self._clock = clock
        c = self.config
        self._limiter = TokenBucketLimiter(
            rate=c.rate, burst=c.burst, clock=clock, max_keys=c.max_users
        )
        self._history: OrderedDict[str, deque[_Seen]] = OrderedDict()

    def __len__(self) -> int:
        """Users with remembered messages (for tests and metrics)."""
        return len(self._history)

    def check(self, user_id: str, text: str, roles: frozenset[str] = frozenset()) -> Verdict:
        """The verdict for ``user_id`` sending ``text`` now (and remember it)."""
        c = self.config
        if roles & c.exempt_roles:
            return ALLOW
        if not self._limiter.try_acquire(user_id):
            wait = self._limiter.retry_after(user_id)
            return Block(
                "rate_limited", f"over {c.burst} messages / {c.rate:g} per s; retry in {wait:.1f}s"
            )
        repeats = self._remember(user_id, text, self._clock())
        if repeats >= c.max_repeats:
            return Block(
                "blocked", f"repeated message ({repeats + 1} similar within {c.repeat_window:g}s)"
            )
        mentions = count_mentions(text)
        if mentions > c.max_mentions:
            return self._act(c.mention_action, f"mass mention ({mentions} > {c.max_mentions})")
        links = count_links(text)
        if links > c.max_links:
            return self._act(c.link_action, f"too many links ({links} > {c.max_links})")
        return ALLOW

    async def check_chat(self, ctx: ChatContext) -> Verdict:
        """``check_chat`` callback."""
        return self.check(ctx.user_id, ctx.text, ctx.roles)

    def forget(self, user_id: str) -> None:
        """Drop everything remembered about ``user_id`` (erasure, sign-out)."""
        self._history.pop(user_id, None)
        self._limiter.forget(user_id)

    def _act(self, action: Literal["block", "flag"], reason: str) -> Verdict:
        return Block("blocked", reason) if action == "block" else Flag(reason, Severity.LOW)

    def _remember(self, user_id: str, text: str, now: float) -> int:
        """Record the message; return how many similar ones the user sent in the window."""
        c = self.config
        history = self._history
        while history:  # forget users whose newest message left the window
            oldest_user, seen = next(iter(history.items()))
            if seen and now - seen[-1].at <= c.repeat_window:
                break
            del history[oldest_user]
        key = canonical(text)[:500]
        if len(key) < c.min_repeat_len:
            return 0
        recent = history.get(user_id)
        if recent is None:
            recent = history[user_id] = deque(maxlen=c.history)
            if len(history) > c.max_users:
                history.popitem(last=False)
        else:
            history.move_to_end(user_id)
        while recent and now - recent[0].at > c.repeat_window:
            recent.popleft()
        grams = _grams(key)
        similar = sum(
            1
            for seen_msg in recent
            if seen_msg.key == key
            or len(seen_msg.grams & grams) >= c.similarity * len(seen_msg.grams | grams)
        )
        recent.append(_Seen(now, key, grams))
        return similar
