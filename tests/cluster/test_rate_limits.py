"""Sign-in limits are counted in Redis in cluster mode: behind the round-robin front, failed
logins spread over two processes are stopped at the same total as on one; when Redis cannot be
reached a process counts alone instead of refusing everybody."""

from __future__ import annotations

import uuid
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from server.auth.throttle import RedisThrottle, SlidingWindow
from tests.helpers import (
    REDIS_URL,
    drop_redis_prefix,
    redis_available,
    requires_service,
    start_server,
)
from tests.pg import fresh_database, postgres_available


@requires_service("Redis", redis_available())
async def test_two_throttles_on_one_redis_share_the_window() -> None:
    prefix = "mhtest-rl-" + uuid.uuid4().hex[:10]
    r1, r2 = aioredis.Redis.from_url(REDIS_URL), aioredis.Redis.from_url(REDIS_URL)
    try:
        a = RedisThrottle(r1, prefix, 3, 60.0, SlidingWindow(3, 60.0))
        b = RedisThrottle(r2, prefix, 3, 60.0, SlidingWindow(3, 60.0))
        assert [await a.hit("ip:1"), await b.hit("ip:1"), await a.hit("ip:1")] == [False] * 3
        assert await b.blocked("ip:1") and await b.hit("ip:1") and await a.hit("ip:1")
        assert not await a.blocked("ip:2")  # other keys are not touched
        assert not await a.blocked("ip:2")  # and asking does not count
        other = RedisThrottle(r1, prefix + "-x", 3, 60.0, SlidingWindow(3, 60.0))
        assert not await other.hit("ip:1")  # another limit has its own window
        short = RedisThrottle(r1, prefix + "-short", 1, 0.2, SlidingWindow(1, 0.2))
        assert not await short.hit("k") and await short.hit("k")
        import asyncio

        await asyncio.sleep(0.3)
        assert not await short.hit("k")  # the window slides
    finally:
        await r1.aclose()
        await r2.aclose()
        for p in (prefix, prefix + "-x", prefix + "-short"):
            await drop_redis_prefix(p)


async def test_without_redis_a_process_counts_alone() -> None:
    dead = aioredis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)
    try:
        t = RedisThrottle(dead, "mhtest-dead", 2, 60.0, SlidingWindow(2, 60.0))
        assert [await t.hit("k"), await t.hit("k"), await t.hit("k")] == [False, False, True]
        assert await t.blocked("k")
    finally:
        await dead.aclose()


@requires_service("PostgreSQL", postgres_available())
@requires_service("Redis", redis_available())
async def test_failed_logins_over_two_processes_are_limited_as_one(tmp_path: Path) -> None:
    prefix = "mhtest-" + uuid.uuid4().hex[:10]
    async with fresh_database() as db:
        nodes = []
        try:
            for i in (1, 2):
                nodes.append(await start_server(
                    tmp_path, database_url=db, redis_url=REDIS_URL, redis_prefix=prefix,
                    node_id=f"n{i}", login_attempts_per_minute=4))
            statuses = []
            async with aiohttp.ClientSession() as s:
                for attempt in range(6):  # round robin, as the front does
                    node = nodes[attempt % 2]
                    async with s.post(f"{node.url}/api/auth/login",
                                      json={"username": "nobody", "password": "wrong-pass"}) as r:
                        statuses.append(r.status)
            # 4 failures in all, not 4 per process; then both refuse
            assert statuses[:4] == [401] * 4, statuses
            assert statuses[4:] == [429, 429], statuses
        finally:
            for node in reversed(nodes):
                await node.close()
            await drop_redis_prefix(prefix)


