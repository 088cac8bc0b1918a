"""Fixtures for the front: fake nodes (small aiohttp apps) registered in Redis like real heartbeats."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from server.cluster import NodeInfo
from server.front import FRONT_KEY, Front, create_front_app
from tests.helpers import (  # noqa: F401 (re-exported)
    REDIS_URL,
    drop_redis_prefix,
    free_port,
    redis_available,
)


@dataclass
class FakeNode:
    """An upstream that says who it is and what it received; Engine.IO-ish on /socket.io/."""

    id: str
    port: int = 0
    runner: web.AppRunner | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)
    closes: list[int | None] = field(default_factory=list)
    """Close codes of WebSockets the other side ended."""
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    sessions: int = 0

    @property
    def internal(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def info(self, url: str = "", path: str = "") -> NodeInfo:
        return NodeInfo(id=self.id, internal=self.internal, url=url,
                        path=path or f"/node/{self.id}/socket.io/", ts=int(time.time() * 1000))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/socket.io/", self.socketio)
        app.router.add_get("/big", self.big)
        app.router.add_route("*", "/{tail:.*}", self.echo)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        self.port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    def _record(self, request: web.Request, body: bytes = b"") -> dict[str, Any]:
        rec = {"node": self.id, "method": request.method, "path": request.path,
               "query": request.query_string, "host": request.headers.get("Host"),
               "xff": request.headers.get("X-Forwarded-For"),
               "xfp": request.headers.get("X-Forwarded-Proto"),
               "origin": request.headers.get("Origin"), "cookie": request.headers.get("Cookie"),
               "body": body.decode(errors="replace")}
        self.seen.append(rec)
        return rec

    async def echo(self, request: web.Request) -> web.Response:
        rec = self._record(request, await request.read())
        resp = web.json_response(rec)
        resp.set_cookie("node", self.id)
        return resp

    async def big(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        resp = web.StreamResponse()
        await resp.prepare(request)
        for i in range(64):
            await resp.write(bytes([i]) * 16384)
        await resp.write_eof()
        return resp

    async def socketio(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._ws(request)
        rec = self._record(request, await request.read())
        sid = request.query.get("sid")
        if sid is None:
            self.sessions += 1
            sid = f"{self.id}-s{self.sessions}"
            return web.Response(text="0" + json.dumps({"sid": sid, "upgrades": ["websocket"],
                                                       "pingInterval": 25000, "pingTimeout": 20000}))
        if not sid.startswith(self.id + "-"):
            return web.json_response({"code": 1, "message": "Session ID unknown"}, status=400)
        return web.json_response({**rec, "sid": sid})

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        rec = self._record(request)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_str(json.dumps({"hello": rec}))
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                if msg.data.startswith("close:"):
                    await ws.close(code=int(msg.data[6:]), message=b"asked to")
                    break
                await ws.send_str(f"{self.id}:{msg.data}")
            elif msg.type is aiohttp.WSMsgType.BINARY:
                await ws.send_bytes(self.id.encode() + b":" + msg.data)
        self.closes.append(ws.close_code)
        return ws


@dataclass
class Registry:
    """Heartbeat keys for fake nodes under one test's own prefix."""

    r: aioredis.Redis
    prefix: str

    async def add(self, info: NodeInfo, ttl_ms: int = 60_000) -> None:
        await self.r.set(f"{self.prefix}:node:{info.id}", json.dumps(asdict(info)), px=ttl_ms)
        await self.r.sadd(f"{self.prefix}:nodes", info.id)

    async def remove(self, node_id: str) -> None:
        await self.r.delete(f"{self.prefix}:node:{node_id}")


@pytest.fixture
async def registry() -> AsyncIterator[Registry]:
    prefix = "mhfront-" + uuid.uuid4().hex[:10]
    r = aioredis.Redis.from_url(REDIS_URL)
    try:
        yield Registry(r, prefix)
    finally:
        await r.aclose()
        await drop_redis_prefix(prefix)


@pytest.fixture
async def nodes() -> AsyncIterator[Callable[..., Any]]:
    made: list[FakeNode] = []

    async def make(node_id: str) -> FakeNode:
        node = FakeNode(node_id)
        await node.start()
        made.append(node)
        return node

    try:
        yield make
    finally:
        for node in made:
            await node.stop()


@dataclass
class RunningFront:
    url: str
    front: Front
    runner: web.AppRunner

    async def refresh(self) -> None:
        await self.front.refresh()


@pytest.fixture
async def front(registry: Registry) -> AsyncIterator[RunningFront]:
    app = create_front_app(REDIS_URL, prefix=registry.prefix, refresh_s=0.1)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield RunningFront(f"http://127.0.0.1:{port}", app[FRONT_KEY], runner)
    finally:
        await runner.cleanup()
