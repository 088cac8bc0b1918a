"""Several server processes acting as one: nodes, room leases and a message bus, all in Redis.

Only built when ``METAHALL_REDIS_URL`` is set. Each process is a *node* with a heartbeat key.
A room (every instance of one room id) lives on exactly one node: the node holding the room's
lease. A join that reaches another node is answered with a redirect to the owner. Leases and
heartbeats expire on their own, so a dead node's rooms are re-created elsewhere on the next join.
Cross-process Socket.IO emits go through python-socketio's ``AsyncRedisManager``; what is ours is
only placement and a small JSON bus for effects that are not emits (kick a user's connections,
a hall change to mirror).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import redis.asyncio as aioredis
import socketio
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Cluster", "ClusterRedisManager", "NodeInfo", "BusHandler", "read_nodes"]

log = logging.getLogger("metahall.cluster")

BusHandler = Callable[[dict[str, Any]], Awaitable[None]]

# KEYS[1] lease key, ARGV[1] expected owner, ARGV[2] ttl ms → 1 if renewed.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# KEYS[1] lease key, ARGV[1] expected owner → 1 if released.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# KEYS[1] lease key, ARGV[1] dead owner, ARGV[2] new owner, ARGV[3] ttl ms → the owner after.
_TAKE_OVER = """
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return ARGV[2]
end
return cur
"""


class ClusterRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """python-socketio's Redis manager with a short reconnect backoff.

    Upstream doubles its wait after every failed attempt up to 60 s, so after a Redis outage of
    half a minute cross-process emits (chat to a user on another node, kicks) stayed lost for
    up to another half minute after Redis was back. Here the wait is at most
    ``RETRY_MAX_S``: emits cross processes again within a couple of seconds of Redis returning.
    """

    RETRY_MIN_S = 0.25
    RETRY_MAX_S = 2.0

    async def _redis_listen_with_retries(self) -> Any:  # pragma: no cover - needs Redis to die
        retry_sleep = self.RETRY_MIN_S
        while True:
            try:
                old = self.pubsub
                self._redis_connect()
                if old is not None and old is not self.pubsub:  # no socket left behind
                    with contextlib.suppress(Exception):
                        await old.aclose()
                await self.pubsub.subscribe(self.channel)
                retry_sleep = self.RETRY_MIN_S
                async for message in self.pubsub.listen():
                    yield message
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._get_logger().warning(
                    "cluster emits: Redis unreachable (%s); retrying in %.2f s", exc, retry_sleep)
                await asyncio.sleep(retry_sleep)
                retry_sleep = min(self.RETRY_MAX_S, retry_sleep * 2)


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """What a node tells the others about itself (its heartbeat value)."""

    id: str
    internal: str
    """Where other processes (and the front) reach it: ``http://host:port``."""
    url: str
    """Base URL a browser uses to reach it (the front's, behind one)."""
    path: str
    """Socket.IO path a browser uses to reach it (``/node/<id>/socket.io/`` behind the front)."""
    members: int = 0
    rooms: int = 0
    ts: int = 0

    def redirect(self) -> dict[str, str]:
        return {"node": self.id, "url": self.url, "path": self.path}


def default_node_id(port: int) -> str:
    return f"{socket.gethostname()}-{port}-{os.getpid()}"


async def read_nodes(r: aioredis.Redis, prefix: str) -> list[NodeInfo]:
    """The live nodes (their heartbeat keys exist), pruning the index of dead ones."""
    ids = sorted(x.decode() if isinstance(x, bytes) else str(x)
                 for x in await r.smembers(f"{prefix}:nodes"))
    if not ids:
        return []
    values = await r.mget([f"{prefix}:node:{i}" for i in ids])
    nodes, dead = [], []
    for node_id, raw in zip(ids, values, strict=True):
        if raw is None:
            dead.append(node_id)
            continue
        try:
            nodes.append(NodeInfo(**json.loads(raw)))
        except (TypeError, ValueError):
            dead.append(node_id)
    if dead:
        await r.srem(f"{prefix}:nodes", *dead)
    return nodes


class ClusterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.redis_latency = Histogram(
            "metahall_redis_seconds", "Round trip of one Redis command issued by the cluster layer",
            ["op"], buckets=(0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
            registry=registry)
        self.placements = Counter(
            "metahall_placements_total", "Join placements by outcome (here, redirect, takeover)",
            ["outcome"], registry=registry)
        self.leases = Gauge("metahall_room_leases", "Room leases this node holds", registry=registry)
        self.nodes = Gauge("metahall_cluster_nodes", "Live nodes this node sees", registry=registry)
        self.bus = Counter("metahall_bus_messages_total", "Cluster bus messages by direction and op",
                           ["direction", "op"], registry=registry)
        self.lost = Counter("metahall_leases_lost_total", "Room leases found taken by another node",
                            registry=registry)


class Cluster:
    """One node's view of the cluster. ``start()`` connects and begins heartbeats."""

    HEARTBEAT_S = 1.0

    def __init__(self, redis_url: str, *, prefix: str, node: NodeInfo, lease_ttl_s: float,
                 metrics_registry: CollectorRegistry) -> None:
        self.redis_url = redis_url
        self.prefix = prefix
        self.me = node
        self.lease_ms = int(lease_ttl_s * 1000)
        self.metrics = ClusterMetrics(metrics_registry)
        self.r: aioredis.Redis = aioredis.Redis.from_url(redis_url)
        self.nodes: dict[str, NodeInfo] = {node.id: node}
        self.online_users: set[str] = set()
        """User ids with a connection on any live node (refreshed with the heartbeat)."""
        self.hosted: Callable[[], Iterable[str]] = lambda: ()
        """Room ids this node runs (set by the app: the registry's rooms)."""
        self.local_users: Callable[[], Iterable[str]] = lambda: ()
        self.load: Callable[[], tuple[int, int]] = lambda: (0, 0)
        """(members, rooms) of this node, for placement."""
        self.on_lease_lost: Callable[[str], Awaitable[None]] | None = None
        self._handlers: dict[str, BusHandler] = {}
        self._leading: dict[str, bool] = {}
        """Named jobs one node of the cluster runs (the hall's sweep): name → we hold it."""
        self._renew = self.r.register_script(_RENEW)
        self._release = self.r.register_script(_RELEASE)
        self._take_over = self.r.register_script(_TAKE_OVER)
        self._tasks: list[asyncio.Task[Any]] = []
        self._pubsub: Any = None
        self.redis_ok = False
        """The last heartbeat reached Redis (``/healthz`` says ``degraded`` while it does not)."""
        self.redis_down_since: float | None = None

    # -- keys ------------------------------------------------------------------------------
    def _k(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    @property
    def bus_channel(self) -> str:
        return self._k("bus")

    @property
    def sio_channel(self) -> str:
        return self._k("sio")

    async def _timed(self, op: str, aw: Awaitable[Any]) -> Any:
        t0 = time.perf_counter()
        try:
            return await aw
        finally:
            self.metrics.redis_latency.labels(op).observe(time.perf_counter() - t0)

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        await self._timed("ping", self.r.ping())
        await self._beat()
        await self._lead()
        self.redis_ok = True
        self._pubsub = self.r.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self.bus_channel)
        self._tasks = [asyncio.create_task(self._heartbeat_loop(), name="cluster-heartbeat"),
                       asyncio.create_task(self._listen(), name="cluster-bus")]
        log.info("cluster node=%s internal=%s redis=%s prefix=%s", self.me.id, self.me.internal,
                 self.redis_url.split("@")[-1], self.prefix)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:  # leave at once rather than after the TTL: our rooms move on the next join
            for room_id in list(self.hosted()):
                await self._release(keys=[self._k("room", room_id)], args=[self.me.id])
            for name in self._leading:
                await self._release(keys=[self._k("leader", name)], args=[self.me.id])
            await self.r.delete(self._k("node", self.me.id), self._k("users", self.me.id))
            await self.r.srem(self._k("nodes"), self.me.id)
        except (aioredis.RedisError, OSError) as exc:
            log.warning("cluster stop: %s", exc)
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self.r.aclose()

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.HEARTBEAT_S)
            try:
                await self._beat()
                await self._renew_leases()
                await self._lead()
            except (aioredis.RedisError, OSError) as exc:
                if self.redis_ok or self.redis_down_since is None:
                    self.redis_down_since = time.monotonic()
                    log.warning("cluster heartbeat failed: %s; degraded until Redis is back", exc)
                self.redis_ok = False
                continue
            if not self.redis_ok:
                if self.redis_down_since is not None:
                    log.info("cluster: Redis is back after %.1f s; node %s registered again",
                             time.monotonic() - self.redis_down_since, self.me.id)
                self.redis_ok, self.redis_down_since = True, None

    async def _beat(self) -> None:
        members, rooms = self.load()
        info = NodeInfo(**{**asdict(self.me), "members": members, "rooms": rooms,
                           "ts": int(time.time() * 1000)})
        self.me = info
        ttl = self.lease_ms
        users = list(self.local_users())
        pipe = self.r.pipeline(transaction=False)
        pipe.set(self._k("node", info.id), json.dumps(asdict(info)), px=ttl)
        pipe.sadd(self._k("nodes"), info.id)
        ukey = self._k("users", info.id)
        pipe.delete(ukey)
        if users:
            pipe.sadd(ukey, *users)
        pipe.pexpire(ukey, ttl)
        await self._timed("heartbeat", pipe.execute())
        nodes = await self._timed("nodes", read_nodes(self.r, self.prefix))
        self.nodes = {n.id: n for n in nodes}
        self.nodes[info.id] = info
        self.metrics.nodes.set(len(self.nodes))
        if len(self.nodes) > 1:
            union = await self._timed("presence", self.r.sunion(
                [self._k("users", n) for n in self.nodes]))
            self.online_users = {u.decode() if isinstance(u, bytes) else str(u) for u in union}
        else:
            self.online_users = set(users)

    async def _renew_leases(self) -> None:
        rooms = list(self.hosted())
        if not rooms:
            self.metrics.leases.set(0)
            return
        pipe = self.r.pipeline(transaction=False)
        for room_id in rooms:
            await self._renew(keys=[self._k("room", room_id)], args=[self.me.id, self.lease_ms],
                              client=pipe)
        results = await self._timed("renew", pipe.execute())
        held = 0
        for room_id, ok in zip(rooms, results, strict=True):
            if ok:
                held += 1
                continue
            # Someone else holds it (we were cut off long enough for it to expire): the room is
            # theirs now, so our copy must go and its members rejoin through placement.
            owner = await self.r.get(self._k("room", room_id))
            if owner is None:
                ok = await self.r.set(self._k("room", room_id), self.me.id, px=self.lease_ms, nx=True)
                if ok:
                    held += 1
                    continue
            self.metrics.lost.inc()
            log.warning("lease lost room=%s owner=%s", room_id, owner)
            if self.on_lease_lost is not None:
                await self.on_lease_lost(room_id)
        self.metrics.leases.set(held)

    def want_leadership(self, name: str) -> Callable[[], bool]:
        """Compete for the job ``name``; the returned check says whether we hold it now."""
        self._leading.setdefault(name, False)
        return lambda: self._leading.get(name, False)

    async def _lead(self) -> None:
        for name in self._leading:
            key = self._k("leader", name)
            held = await self._renew(keys=[key], args=[self.me.id, self.lease_ms])
            if not held:
                held = bool(await self.r.set(key, self.me.id, px=self.lease_ms, nx=True))
            if held != self._leading[name]:
                log.info("leadership %s %s", name, "taken" if held else "lost")
            self._leading[name] = bool(held)

    # -- placement -------------------------------------------------------------------------
    def _choose(self) -> NodeInfo:
        """The least-loaded live node for a room nobody holds (this node on a tie)."""
        best, best_load = self.me, self.load()  # our own load is known now, not a beat ago
        for n in self.nodes.values():
            if n.id != self.me.id and (n.members, n.rooms) < best_load:
                best, best_load = n, (n.members, n.rooms)
        return best

    async def place(self, room_id: str) -> NodeInfo | None:
        """Where ``room_id`` lives: ``None`` for here (we hold or just took the lease), else the
        owner to redirect to."""
        key = self._k("room", room_id)
        owner = await self._timed("place", self.r.get(key))
        owner_id = owner.decode() if isinstance(owner, bytes) else owner
        if owner_id == self.me.id:
            self.metrics.placements.labels("here").inc()
            return None
        if owner_id is not None and owner_id in self.nodes:
            self.metrics.placements.labels("redirect").inc()
            return self.nodes[owner_id]
        if owner_id is not None:  # maybe just started and not in our cache yet
            raw = await self.r.get(self._k("node", owner_id))
            if raw is not None:
                node = NodeInfo(**json.loads(raw))
                self.nodes[node.id] = node
                self.metrics.placements.labels("redirect").inc()
                return node
        # A new room is rare and decides where its people go: choose from fresh heartbeats.
        fresh = await self._timed("nodes", read_nodes(self.r, self.prefix))
        self.nodes = {n.id: n for n in fresh} | {self.me.id: self.me}
        self.metrics.nodes.set(len(self.nodes))
        chosen = self._choose()
        got = await self._timed("place", self._take_over(
            keys=[key], args=[owner_id or "", chosen.id, self.lease_ms]))
        got_id = got.decode() if isinstance(got, bytes) else str(got)
        self.metrics.placements.labels("takeover" if owner_id else "new").inc()
        if got_id == self.me.id:
            return None
        return self.nodes.get(got_id) or await self._node(got_id)

    async def _node(self, node_id: str) -> NodeInfo | None:
        raw = await self.r.get(self._k("node", node_id))
        return NodeInfo(**json.loads(raw)) if raw is not None else None

    async def release(self, room_id: str) -> None:
        """Give up a room this node disposed of."""
        try:
            await self._release(keys=[self._k("room", room_id)], args=[self.me.id])
        except (aioredis.RedisError, OSError) as exc:
            log.warning("lease release room=%s failed: %s", room_id, exc)

    async def owner(self, room_id: str) -> str | None:
        raw = await self.r.get(self._k("room", room_id))
        return raw.decode() if isinstance(raw, bytes) else raw

    # -- presence --------------------------------------------------------------------------
    def online(self, user_id: str) -> bool:
        """Cheap and up to a heartbeat old (the hall's sweep, grace periods)."""
        return user_id in self.online_users

    async def is_online(self, user_id: str) -> bool:
        """Exact: asks Redis (a direct message to someone who connected a moment ago)."""
        pipe = self.r.pipeline(transaction=False)
        for node_id in self.nodes:
            pipe.sismember(self._k("users", node_id), user_id)
        return any(await self._timed("presence", pipe.execute()))

    async def user_here(self, user_id: str, here: bool) -> None:
        """Record at once that the user connected to (or fully left) this node."""
        key = self._k("users", self.me.id)
        try:
            if here:
                self.online_users.add(user_id)
                await self._timed("presence", self.r.sadd(key, user_id))
            else:
                await self._timed("presence", self.r.srem(key, user_id))
        except (aioredis.RedisError, OSError) as exc:
            log.warning("presence update failed: %s", exc)

    # -- bus -------------------------------------------------------------------------------
    def on(self, op: str, handler: BusHandler) -> None:
        """Run ``handler(message)`` on every node (this one too) for bus messages of ``op``."""
        self._handlers[op] = handler

    async def publish(self, op: str, **data: Any) -> None:
        msg = json.dumps({"op": op, "from": self.me.id, **data}, separators=(",", ":"))
        self.metrics.bus.labels("out", op).inc()
        await self._timed("publish", self.r.publish(self.bus_channel, msg))

    async def _listen(self) -> None:
        assert self._pubsub is not None
        while True:
            try:
                async for item in self._pubsub.listen():
                    await self._deliver(item.get("data"))
            except asyncio.CancelledError:
                raise
            except (aioredis.RedisError, OSError) as exc:
                log.warning("cluster bus lost: %s; resubscribing", exc)
                await asyncio.sleep(1.0)
                try:
                    await self._pubsub.subscribe(self.bus_channel)
                except (aioredis.RedisError, OSError):
                    pass

    async def _deliver(self, raw: object) -> None:
        try:
            msg = json.loads(raw) if isinstance(raw, (bytes, str)) else None
        except ValueError:
            msg = None
        if not isinstance(msg, dict) or not isinstance(msg.get("op"), str):
            log.warning("cluster bus: unreadable message dropped")
            return
        handler = self._handlers.get(msg["op"])
        if handler is None:
            return
        self.metrics.bus.labels("in", msg["op"]).inc()
        try:
            await handler(msg)
        except Exception:  # one bad handler must not stop the bus for every other feature
            log.exception("cluster bus handler failed op=%s", msg["op"])
