"""Token buckets and flood detection, driven by a fake clock."""

from __future__ import annotations

import pytest

from moderation import (
    ALLOW,
    Block,
    ChatContext,
    Flag,
    FloodConfig,
    FloodGuard,
    ModerationConfigError,
    TokenBucketLimiter,
)
from moderation.ratelimit import count_links, count_mentions


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_bucket_allows_burst_then_refills_at_rate(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.try_acquire("u") for _ in range(4)] == [True, True, True, False]
    assert limiter.retry_after("u") == pytest.approx(0.5)
    clock.advance(0.5)
    assert limiter.try_acquire("u") and not limiter.try_acquire("u")
    clock.advance(10)
    assert [limiter.try_acquire("u") for _ in range(4)] == [True, True, True, False]


def test_buckets_are_per_key(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(rate=1.0, burst=1, clock=clock)
    assert limiter.try_acquire("a") and limiter.try_acquire("b")
    assert not limiter.try_acquire("a")


def test_idle_buckets_are_forgotten_and_memory_is_capped(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(rate=1.0, burst=5, clock=clock, max_keys=100)
    for i in range(1000):
        limiter.try_acquire(f"user{i}")
    assert len(limiter) == 100  # LRU cap
    clock.advance(5.0)  # everyone's bucket is full again
    limiter.try_acquire("late")
    assert len(limiter) == 1


def test_invalid_limiter_config() -> None:
    with pytest.raises(ModerationConfigError):
        TokenBucketLimiter(rate=0, burst=1)
    with pytest.raises(ModerationConfigError):
        FloodConfig(similarity=1.5)


def chat(
    text: str, user: str = "u1", roles: frozenset[str] = frozenset({"citizen"})
) -> ChatContext:
    return ChatContext(user, "Ann", roles, "hall:main", "room", text)


async def test_flood_guard_rate_limits(clock: FakeClock) -> None:
    guard = FloodGuard(FloodConfig(rate=1.0, burst=3), clock=clock)
    verdicts = [await guard.check_chat(chat(f"message number {i}")) for i in range(4)]
    assert verdicts[:3] == [ALLOW] * 3
    assert isinstance(verdicts[3], Block) and verdicts[3].code == "rate_limited"
    clock.advance(1.0)
    assert await guard.check_chat(chat("another one")) is ALLOW


async def test_repeated_and_near_identical_messages_are_blocked(clock: FakeClock) -> None:
    guard = FloodGuard(FloodConfig(max_repeats=2), clock=clock)
    texts = [
        "Buy cheap tickets at my booth",
        "buy CHEAP tickets at my booth!!!",
        "B u y cheap tickets at my booth",
        "Buy cheap tickets at my booth now",
    ]
    verdicts = []
    for text in texts:
        verdicts.append(guard.check("u1", text))
        clock.advance(2)
    assert verdicts[:2] == [ALLOW, ALLOW]
    assert all(isinstance(v, Block) and "repeated" in v.reason for v in verdicts[2:])


async def test_repeats_expire_after_the_window(clock: FakeClock) -> None:
    guard = FloodGuard(FloodConfig(max_repeats=1, repeat_window=30), clock=clock)
    assert guard.check("u1", "where is counter five") is ALLOW
    assert isinstance(guard.check("u1", "where is counter five"), Block)
    clock.advance(31)
    assert guard.check("u1", "where is counter five") is ALLOW


def test_short_messages_and_other_users_do_not_count_as_repeats(clock: FakeClock) -> None:
    guard = FloodGuard(FloodConfig(max_repeats=1, burst=100), clock=clock)
    assert [guard.check("u1", "ok") for _ in range(5)] == [ALLOW] * 5
    assert guard.check("u1", "hello everyone") is ALLOW
    assert guard.check("u2", "hello everyone") is ALLOW
    assert guard.check("u1", "a different message") is ALLOW


def test_mass_mentions_and_links_are_flagged_or_blocked(clock: FakeClock) -> None:
    guard = FloodGuard(FloodConfig(max_mentions=3, max_links=1, link_action="block"), clock=clock)
    assert isinstance(guard.check("u1", "@a @b @c @d look at this"), Flag)
    assert guard.check("u2", "@a @b @c fine") is ALLOW
    assert isinstance(guard.check("u3", "see https://x.example/a and www.y.cn"), Block)
    assert guard.check("u4", "see https://x.example/a") is ALLOW


def test_exempt_roles_are_never_limited(clock: FakeClock) -> None:
    guard = FloodGuard(FloodConfig(burst=1), clock=clock)
    mod = frozenset({"moderator"})
    assert all(guard.check("m", "same notice", mod) is ALLOW for _ in range(10))


def test_flood_memory_is_bounded_and_idle_users_expire(clock: FakeClock) -> None:
    guard = FloodGuard(FloodConfig(max_users=50, repeat_window=60), clock=clock)
    for i in range(500):
        guard.check(f"user{i}", "hello there everyone")
    assert len(guard) == 50
    clock.advance(61)
    guard.check("late", "hello there everyone")
    assert len(guard) == 1


def test_forget_erases_a_user(clock: FakeClock) -> None:
    guard = FloodGuard(FloodConfig(max_repeats=1), clock=clock)
    guard.check("u1", "same words again")
    guard.forget("u1")
    assert guard.check("u1", "same words again") is ALLOW


def test_counting_mentions_and_links() -> None:
    assert count_mentions("@alice @bob @Alice mail me at a@b.com ＠张三") == 3
    assert count_links("http://a.com https://b.org/x www.c.net d.cn e.txt") == 4
