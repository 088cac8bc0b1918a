"""A deliberately cheap fake server, to measure the load generator's own capacity.

Raw aiohttp WebSockets speaking just enough Engine.IO/Socket.IO (msgpack) for the
bots: guest login, CONNECT, ``join`` (acked), ``move`` (stored), and every tick the
*same* snap -- the first 64 bots that joined, at their latest positions -- sent to
every client. Each bot thus receives what it would from a real server at 1,000+
avatars (one 64-entity snap per tick) while the server spends only a few
microseconds per client. Its staleness/coverage numbers mean nothing (every
client sees the same 64 entities); watch the generator's CPU and loop lag.

Run: ``python -m loadtest.blaster --port 8097``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import msgpack
from aiohttp import WSMsgType, web

from .frames import SIO_CONNECT, SIO_EVENT, encode_event, encode_packet, packet_type_hint

__all__ = ["Blaster", "main"]

_packb = msgpack.Packer(use_bin_type=True).pack


class Blaster:
    """State of the fake server."""

    def __init__(self, tick_hz: float = 10.0, featured: int = 64) -> None:
        self.tick_hz = tick_hz
        self.featured_max = featured
        self.clients: set[web.WebSocketResponse] = set()
        self.names: dict[str, str] = {}
        self.positions: dict[int, list[int]] = {}
        self.featured: list[int] = []
        self.next_eid = 1
        self.tick = 0
        self.moves = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/auth/guest", self._guest)
        app.router.add_get("/healthz", self._health)
        app.router.add_get("/socket.io/", self._socket)
        app.cleanup_ctx.append(self._ticker)
        return app

    async def _guest(self, request: web.Request) -> web.Response:
        name = str((await request.json()).get("display_name", ""))
        token = secrets.token_urlsafe(12)
        self.names[token] = name
        return web.json_response({"token": token, "user": {"id": token, "display_name": name}})

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        hs = {
            "sid": secrets.token_hex(8),
            "upgrades": [],
            "pingInterval": 25000,
            "pingTimeout": 20000,
            "maxPayload": 1_000_000,
        }
        await ws.send_str("0" + json.dumps(hs))
        eid = 0
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.BINARY:
                    continue
                data: bytes = msg.data
                t = packet_type_hint(data)
                if t == SIO_EVENT and data.find(b"\xa4move", 0, 24) >= 0:
                    if eid:
                        x, y, z, yaw, anim = msgpack.unpackb(data)["data"][1]
                        self.positions[eid] = [
                            eid,
                            round(x * 100),
                            round(y * 100),
                            round(z * 100),
                            0,
                            int(anim),
                        ]
                        self.moves += 1
                elif t == SIO_CONNECT:
                    await ws.send_bytes(encode_packet(SIO_CONNECT, {"sid": hs["sid"]}))
                elif t == SIO_EVENT:
                    pkt = msgpack.unpackb(data)
                    if pkt["data"][0] == "join" and not eid:
                        eid = await self._join()
                        self.clients.add(ws)
                        ack = {
                            "ok": True,
                            "self": eid,
                            "room": pkt["data"][1]["room"],
                            "instance": "blast",
                            "tick_hz": self.tick_hz,
                            "spawn": [0.0, 0.0, 0.0, 0.0],
                            "members": len(self.clients),
                        }
                        await ws.send_bytes(encode_packet(3, [ack], id=pkt.get("id")))
                        await ws.send_bytes(encode_event("enter", self._entered(self.featured)))
        finally:
            self.clients.discard(ws)
        return ws

    async def _join(self) -> int:
        eid = self.next_eid
        self.next_eid += 1
        self.positions[eid] = [eid, 0, 0, 0, 0, 0]
        if len(self.featured) < self.featured_max:
            self.featured.append(eid)
            packet = encode_event("enter", self._entered([eid]))
            for c in list(self.clients):
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await c.send_bytes(packet)
        return eid

    def _entered(self, eids: list[int]) -> list[dict[str, Any]]:
        return [{"eid": e, "user_id": "", "display_name": "", "roles": []} for e in eids]

    async def _ticker(self, app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(self._tick_loop())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _tick_loop(self) -> None:
        period = 1.0 / self.tick_hz
        nxt = time.monotonic()
        while True:
            nxt += period
            await asyncio.sleep(max(0.0, nxt - time.monotonic()))
            self.tick += 1
            rows = [self.positions[e] for e in self.featured if e in self.positions]
            packet = encode_event("snap", _packb([self.tick, rows, []]))
            for c in list(self.clients):
                try:
                    await c.send_bytes(packet)
                except (ConnectionError, RuntimeError):
                    self.clients.discard(c)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m loadtest.blaster", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8097)
    p.add_argument("--tick-hz", type=float, default=10.0)
    ns = p.parse_args(argv)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    web.run_app(Blaster(ns.tick_hz).app(), host=ns.host, port=ns.port, print=None)


if __name__ == "__main__":
    main()
