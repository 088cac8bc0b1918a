"""Wiring of cluster mode into one server process: placement in joins, leases of hosted rooms,
presence, and the bus messages that carry effects between processes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.cluster import Cluster, NodeInfo, default_node_id
from server.cluster_hall import attach_hall

if TYPE_CHECKING:
    from server.app import App

__all__ = ["build_cluster", "cluster_context"]

log = logging.getLogger("metahall.cluster")


def build_cluster(app: App) -> Cluster | None:
    """The cluster view when ``METAHALL_REDIS_URL`` is set; None runs the process alone."""
    s = app.settings
    if not s.redis_url:
        return None
    node_id = s.node_id or default_node_id(s.port)
    internal = f"http://{s.host}:{s.port}"
    node = NodeInfo(id=node_id, internal=internal, url=s.public_url or internal,
                    path=s.public_socket_path)
    return Cluster(s.redis_url, prefix=s.redis_prefix, node=node, lease_ttl_s=s.lease_ttl_s,
                   metrics_registry=app.metrics.registry)


def _wire(app: App, cluster: Cluster) -> None:
    registry, realtime = app.registry, app.realtime

    async def place(room_id: str) -> dict[str, Any] | None:
        node = await cluster.place(room_id)
        return None if node is None else node.redirect()

    async def lease_lost(room_id: str) -> None:
        # Another process runs this room now: close our copy and let its members reconnect,
        # which places them on the owner.
        for client in await registry.evict(room_id):
            realtime.outbox.emit(client.sid, "system", {
                "code": "moved", "level": "info", "room": room_id,
                "text": {"zh-CN": "房间已迁移，正在重新连接。", "en": "The room moved; reconnecting."}})
            realtime.outbox.disconnect(client.sid)

    async def mod_sync(_msg: dict[str, Any]) -> None:
        await app.mod.sync_once()

    async def auth_revoked(msg: dict[str, Any]) -> None:  # logout, password or role change
        from server.http_api import drop_local_connections

        if isinstance(msg.get("user_id"), str):
            drop_local_connections(app, msg["user_id"])

    registry.place = place
    registry.on_gone = cluster.release
    cluster.hosted = lambda: {room.id for room in registry.rooms()}
    cluster.local_users = lambda: list(realtime.by_user)
    cluster.load = lambda: (len(realtime.clients), sum(1 for _ in registry.rooms()))
    cluster.on_lease_lost = lease_lost
    cluster.on("mod.sync", mod_sync)
    cluster.on("auth.revoked", auth_revoked)
    attach_hall(app, cluster)
    _attach_expo(app, cluster)


def _attach_expo(app: App, cluster: Cluster) -> None:
    """Booth edits arrive over HTTP at any process; the one running the hall must show them."""
    expo = app.expo

    def publish(booth_id: str | None) -> None:
        app.spawn(cluster.publish("expo", booth_id=booth_id), "expo-sync")

    async def receive(msg: dict[str, Any]) -> None:
        if msg.get("from") != cluster.me.id:
            booth_id = msg.get("booth_id")
            await expo.reload(booth_id if isinstance(booth_id, str) else None)

    expo.sync = publish
    cluster.on("expo", receive)


def cluster_context(app: App) -> Callable[[web.Application], AsyncIterator[None]]:
    """aiohttp cleanup context: join the cluster after the database, leave it last."""
    async def ctx(_: web.Application) -> AsyncIterator[None]:
        cluster = app.cluster
        if cluster is None:
            yield
            return
        _wire(app, cluster)
        await cluster.start()
        yield
        await cluster.stop()

    return ctx
