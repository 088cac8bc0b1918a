"""Redis restarted under a running cluster (its data gone): the nodes recover on their own.

Two ``metahall serve`` processes on PostgreSQL and a Redis of the test's own (a free port, no
persistence). While Redis is down both nodes say ``degraded`` on ``/healthz``; once it is back,
empty, they register again (heartbeat), take their rooms' leases again, cross-process chat
works again and durable data (a ticket) is untouched -- no restart of the nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from tests.cluster.nodes import cluster
from tests.cluster.test_cluster import join_following
from tests.helpers import connect, free_port, guest, requires_service
from tests.pg import fresh_database, postgres_available

REDIS_BIN = shutil.which("redis-server") or "/usr/bin/redis-server"

pytestmark = [requires_service("PostgreSQL", postgres_available()),
              requires_service("redis-server", Path(REDIS_BIN).exists()),
              pytest.mark.postgres, pytest.mark.timeout(300)]


class OwnRedis:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.dir = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def launch(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_BIN, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def start(self) -> None:
        self.launch()
        r = aioredis.Redis.from_url(self.url)
        try:
            for _ in range(100):
                with contextlib.suppress(aioredis.RedisError, OSError):
                    if await r.ping():
                        return
                await asyncio.sleep(0.05)
        finally:
            await r.aclose()
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


async def health(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(
            f"{url}/healthz", timeout=aiohttp.ClientTimeout(total=5)) as r:
        assert r.status == 200
        return dict(await r.json())


async def until(check: Any, within_s: float, what: str) -> float:
    """Poll ``check()`` (async, truthy when done) at most ``within_s``; the seconds it took."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < within_s:
        if await check():
            return time.perf_counter() - t0
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {within_s} s: {what}")


async def test_redis_restart_nodes_reregister_and_chat_works_again(tmp_path: Path) -> None:
    own = OwnRedis(tmp_path)
    await own.start()
    try:
        async with fresh_database() as db, cluster(
                tmp_path, db, extra_env={"METAHALL_REDIS_URL": own.url}) as cut:
            await scenario(cut, own)
    finally:
        own.kill()


async def scenario(cut: Any, own: OwnRedis) -> None:
    a, b = cut[0], cut[1]
    prefix = cut.prefix
    t1, u1 = await guest(a.url, "Ada")
    t2, u2 = await guest(b.url, "Bo")
    c1, ack1, at1 = await join_following(a.url, t1, "social:plaza")
    assert ack1["ok"] is True
    await asyncio.sleep(1.5)  # a heartbeat: the next new room goes to the less loaded node
    c2, ack2, at2 = await join_following(a.url, t2, "social:cafe")
    assert ack2["ok"] is True and at2 != at1, (at1, at2)
    took = await c1.call("queue.take", {"service_id": "housing_fund"})
    assert took["ok"] is True, took
    ticket = took["ticket"]

    async def dm_arrives(text: str) -> bool:
        ack = await c1.call("chat", {"channel": f"dm:{u2['id']}", "text": text})
        if not ack.get("ok"):
            return False
        with contextlib.suppress(TimeoutError):
            await c2.wait("chat", lambda m: m["text"] == text, timeout=1.0)
            return True
        return False

    assert await dm_arrives("before")
    r = aioredis.Redis.from_url(own.url)
    try:
        owners = {room: (await r.get(f"{prefix}:room:{room}"))
                  for room in ("social:plaza", "social:cafe")}
        assert all(owners.values()), owners

        own.kill()  # data gone: --save '' --appendonly no
        t_down = time.perf_counter()

        async def both_degraded() -> bool:
            states = [(await health(n.url)).get("status") for n in (a, b)]
            return states == ["degraded", "degraded"]

        degraded_after = await until(both_degraded, 15, "both nodes report degraded")
        # Placement needs Redis: a join now is refused clearly (or served here), never a crash.
        t3, _ = await guest(b.url, "Cy")
        c4 = await connect(b.url, t3)
        joined = await c4.call("join", {"room": "expo:demo"}, timeout=15)
        assert joined["ok"] is True or joined["error"]["code"] == "unavailable", joined
        await c4.close()
        await asyncio.sleep(max(0.0, 3.0 - (time.perf_counter() - t_down)))
        assert all(n.proc.poll() is None for n in (a, b))  # no process died with Redis
        await own.start()
        await r.aclose()
        r = aioredis.Redis.from_url(own.url)  # our own connection died with the old Redis
        down_s = time.perf_counter() - t_down

        async def both_ok() -> bool:
            states = [(await health(n.url)).get("status") for n in (a, b)]
            return "degraded" not in states

        healthy_after = await until(both_ok, 20, "both nodes healthy again")

        async def registered() -> bool:
            nodes = {x.decode() for x in await r.smembers(f"{prefix}:nodes")}
            beats = [await r.get(f"{prefix}:node:{n.node_id}") for n in (a, b)]
            return nodes >= {a.node_id, b.node_id} and all(beats)

        await until(registered, 10, "both nodes registered again")

        async def re_leased() -> bool:
            now = {room: await r.get(f"{prefix}:room:{room}") for room in owners}
            return now == owners  # the same owners hold their rooms again

        leased_after = await until(re_leased, 10, "rooms re-leased by their owners")
        n = 0

        async def chat_again() -> bool:
            nonlocal n
            n += 1
            return await dm_arrives(f"after {n}")

        chat_after = await until(chat_again, 20, "a DM crosses processes again")
        # Placement works again: asking the other node for a room redirects to its owner.
        c3 = await join_following(b.url if at1 == a.url else a.url, t2, "social:plaza")
        assert c3[2] == at1 and c3[1]["ok"] is True
        await c3[0].close()
        # Durable data untouched: the ticket, with its number, in its queue.
        mine = await c1.call("queue.mine", {})
        assert [(m["id"], m["number"]) for m in mine["tickets"]] == \
            [(ticket["id"], ticket["number"])]
        print(f"redis restart: join while down -> {joined.get('error', {}).get('code', 'ok')}; "
              f"down {down_s:.2f} s, degraded reported after {degraded_after:.2f}"
              f" s; after restart healthy in {healthy_after:.2f} s, re-leased in "
              f"{leased_after:.2f} s, cross-process DM in {chat_after:.2f} s ({n} tries)")
    finally:
        await r.aclose()
        await c1.close()
        await c2.close()
