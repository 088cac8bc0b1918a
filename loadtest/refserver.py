"""A reference avatar-sync server speaking the same protocol subset as metahall.

It exists to test the load generator and to measure the generator's own capacity
without the real server: python-socketio (msgpack) on aiohttp, guest tokens, one
room, ``join`` / ``move``, and a 10 Hz tick that sends each client a ``snap`` of the
changed entities among its 64 nearest within 30 m (plus ``enter`` / ``gone``).
``move`` is caught at the Engine.IO layer and snaps go out pre-encoded through
``sio.eio.send``, as DESIGN.md recommends, so it stays cheap.

Run: ``python -m loadtest.refserver --port 8099``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import msgpack
import numpy as np
import socketio
from aiohttp import web

__all__ = ["RefServer", "main"]

_packb = msgpack.Packer(use_bin_type=True).pack
_SNAP_PREFIX = b"\x83\xa4type\x02\xa4data\x92\xa4snap"
_SNAP_SUFFIX = _packb("nsp") + _packb("/")
_MOVE_TAG = b"\xa4move"


@dataclass(slots=True)
class _Member:
    sid: str
    eio_sid: str
    eid: int
    slot: int
    visible: set[int] = field(default_factory=set)
    last_tick: int = 0


class _Sio(socketio.AsyncServer):  # type: ignore[misc]
    """Catches ``move`` before python-socketio's event machinery."""

    ref: RefServer

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if isinstance(data, bytes) and data.find(_MOVE_TAG, 0, 24) >= 0:
            self.ref.on_move(eio_sid, data)
            return
        await super()._handle_eio_message(eio_sid, data)


class RefServer:
    """Everything of the reference server; :meth:`app` builds the aiohttp application."""

    def __init__(
        self,
        tick_hz: float = 10.0,
        radius: float = 30.0,
        k: int = 64,
        spawn_jitter: float = 2.0,
        capacity: int = 20_000,
    ) -> None:
        self.tick_hz, self.radius, self.k = tick_hz, radius, k
        self.spawn_jitter = spawn_jitter
        self.tokens: dict[str, str] = {}
        self.names: dict[int, str] = {}
        self.members: dict[str, _Member] = {}
        self.by_eio: dict[str, _Member] = {}
        self.pos = np.zeros((capacity, 4))
        self.anim = np.zeros(capacity, dtype=np.int64)
        self.moved = np.zeros(capacity, dtype=np.int64)
        self.active = np.zeros(capacity, dtype=bool)
        self.eids = np.zeros(capacity, dtype=np.int64)
        self.tick = 0
        self.moves = 0
        self.bad_moves = 0
        self._next_slot = 0
        self._rng = np.random.default_rng(7)
        self.sio = _Sio(async_mode="aiohttp", serializer="msgpack", cors_allowed_origins="*")
        self.sio.ref = self
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        self.sio.on("join", self._join)

    def app(self) -> web.Application:
        app = web.Application()
        self.sio.attach(app)
        app.router.add_post("/api/auth/guest", self._guest)
        app.router.add_get("/api/rooms/{room}/layout", self._layout)
        app.router.add_get("/healthz", self._health)
        app.cleanup_ctx.append(self._ticker)
        return app

    # -- HTTP -------------------------------------------------------------------

    async def _guest(self, request: web.Request) -> web.Response:
        body = await request.json()
        name = str(body.get("display_name", ""))[:32]
        if not name:
            return web.json_response({"error": {"code": "bad_request", "message": ""}}, status=422)
        token = secrets.token_urlsafe(16)
        self.tokens[token] = name
        user = {"id": token[:8], "display_name": name, "roles": ["citizen"]}
        return web.json_response({"token": token, "user": user})

    async def _layout(self, request: web.Request) -> web.Response:
        b = {"min_x": -100.0, "max_x": 100.0, "min_z": -100.0, "max_z": 100.0}
        return web.json_response({"id": request.match_info["room"], "bounds": b, "features": []})

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    # -- Socket.IO --------------------------------------------------------------

    async def _connect(self, sid: str, environ: Any, auth: Any) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if token not in self.tokens:
            raise socketio.exceptions.ConnectionRefusedError({"code": "auth"})
        await self.sio.save_session(sid, {"name": self.tokens[token]})

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        m = self.members.pop(sid, None)
        if m is not None:
            self.by_eio.pop(m.eio_sid, None)
            self.active[m.slot] = False

    async def _join(self, sid: str, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("room"), str):
            return {"ok": False, "error": {"code": "bad_request", "message": "room"}}
        if sid in self.members:
            return {"ok": False, "error": {"code": "bad_request", "message": "joined"}}
        slot = self._next_slot
        if slot >= len(self.active):
            return {"ok": False, "error": {"code": "full", "message": ""}}
        self._next_slot += 1
        eid = slot + 1
        j = self.spawn_jitter
        x, z = (float(v) for v in self._rng.uniform(-j, j, 2)) if j else (0.0, 0.0)
        self.pos[slot] = (x, 0.0, z, 0.0)
        self.eids[slot], self.moved[slot], self.active[slot] = eid, self.tick + 1, True
        self.names[slot] = (await self.sio.get_session(sid)).get("name", "")
        m = _Member(sid, self.sio.manager.eio_sid_from_sid(sid, "/"), eid, slot)
        self.members[sid] = m
        self.by_eio[m.eio_sid] = m
        return {
            "ok": True,
            "self": eid,
            "room": data["room"],
            "instance": data["room"] + "#1",
            "tick_hz": self.tick_hz,
            "spawn": [x, 0.0, z, 0.0],
            "members": len(self.members),
        }

    def on_move(self, eio_sid: str, frame: bytes) -> None:
        m = self.by_eio.get(eio_sid)
        try:
            x, y, z, yaw, anim = msgpack.unpackb(frame)["data"][1]
            ok = m is not None and all(math.isfinite(v) for v in (x, y, z, yaw))
        except (ValueError, TypeError, KeyError, IndexError):
            ok = False
        if not ok or m is None:
            self.bad_moves += 1
            return
        self.pos[m.slot] = (x, y, z, yaw)
        self.anim[m.slot] = int(anim)
        self.moved[m.slot] = self.tick + 1
        self.moves += 1

    # -- tick -------------------------------------------------------------------

    async def _ticker(self, app: web.Application) -> Any:
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
            await self.step()

    async def step(self) -> None:
        """One tick: per member, diff the view and send ``enter`` and ``snap``."""
        n = self._next_slot
        slots = np.flatnonzero(self.active[:n])
        if slots.size == 0:
            return
        xz = self.pos[slots][:, [0, 2]]
        ints = np.empty((slots.size, 6), dtype=np.int64)
        ints[:, 0] = self.eids[slots]
        ints[:, 1:4] = np.rint(self.pos[slots, :3] * 100.0)
        turns = np.mod(self.pos[slots, 3], 2 * math.pi) / (2 * math.pi)
        ints[:, 4] = np.rint(turns * 65536) % 65536
        ints[:, 5] = self.anim[slots]
        moved = self.moved[slots]
        index_of = {int(s): i for i, s in enumerate(slots)}
        r2 = self.radius * self.radius
        for m in list(self.members.values()):
            me = index_of.get(m.slot)
            if me is None:
                continue
            d2 = ((xz - xz[me]) ** 2).sum(axis=1)
            d2[me] = np.inf
            inside = np.flatnonzero(d2 <= r2)
            if inside.size > self.k:
                inside = inside[np.argpartition(d2[inside], self.k - 1)[: self.k]]
            vis = set(slots[inside].tolist())
            entered = vis - m.visible
            gone = [int(self.eids[s]) for s in m.visible - vis]
            if entered:
                ents = [self._entity(s) for s in entered]
                await self.sio.emit("enter", ents, to=m.sid)
            changed = inside[moved[inside] > m.last_tick]
            new = [index_of[s] for s in entered]
            rows_idx = np.union1d(changed, np.asarray(new, dtype=np.int64))
            m.visible, m.last_tick = vis, self.tick
            if rows_idx.size == 0 and not gone:
                continue
            body = _packb([self.tick, ints[rows_idx].tolist(), gone])
            try:
                await self.sio.eio.send(m.eio_sid, _SNAP_PREFIX + _packb(body) + _SNAP_SUFFIX)
            except (KeyError, ValueError, ConnectionError):
                continue

    def _entity(self, slot: int) -> dict[str, Any]:
        name = self.names.get(slot, "")
        return {"eid": int(self.eids[slot]), "user_id": "", "display_name": name, "roles": []}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m loadtest.refserver", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8099)
    p.add_argument("--tick-hz", type=float, default=10.0)
    ns = p.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    web.run_app(RefServer(tick_hz=ns.tick_hz).app(), host=ns.host, port=ns.port, print=None)


if __name__ == "__main__":
    main()
