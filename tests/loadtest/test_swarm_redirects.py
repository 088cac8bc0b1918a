"""Bots in a cluster: a ``join`` answered with a redirect sends the bot's lean WebSocket to the
node that runs the room, where it joins again and walks; a redirect loop is an error, not a hang."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from loadtest.config import LoadConfig
from loadtest.conn import redirect_target, socket_url
from loadtest.runner import run
from tests.helpers import LiveServer, start_server


def test_socket_url_takes_the_socketio_path() -> None:
    assert socket_url("http://h:1") == "ws://h:1/socket.io/?EIO=4&transport=websocket"
    assert socket_url("https://h/", "/node/n2/socket.io") == \
        "wss://h/node/n2/socket.io/?EIO=4&transport=websocket"


def test_redirect_target_reads_only_a_usable_redirect() -> None:
    ok = {"ok": True, "redirect": {"node": "n2", "url": "http://f:8080", "path": "/node/n2/socket.io/"}}
    assert redirect_target(ok) == ("http://f:8080", "/node/n2/socket.io/")
    assert redirect_target({"ok": True, "self": 3, "room": "hall:main"}) is None
    for bad in (None, [], {"ok": False, "redirect": ok["redirect"]},
                {"ok": True, "redirect": "n2"},
                {"ok": True, "redirect": {"url": "ftp://f", "path": "/x/"}},
                {"ok": True, "redirect": {"url": "http://f", "path": "x/"}}):
        assert redirect_target(bad) is None


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    """Two servers on one database and token key: ``a`` sends every join to ``b``."""
    a = await start_server(tmp_path)
    b = await start_server(tmp_path)

    async def place(room_id: str) -> dict[str, Any] | None:
        return {"node": "b", "url": b.url, "path": "/socket.io/"}

    a.app.registry.place = place
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_bots_follow_the_join_redirect_and_walk_on_the_rooms_node(
        pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    seen: dict[str, int] = {}

    async def count_b_members() -> None:
        while True:
            for room in b.app.registry.rooms():
                seen[room.id] = max(seen.get(room.id, 0), len(room.clients))
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(count_b_members())
    try:
        cfg = LoadConfig(url=a.url, bots=4, duration_s=2.0, ramp_s=0.3, drain_s=1.0, observers=4)
        doc = await asyncio.to_thread(run, cfg)
    finally:
        watcher.cancel()
    s = doc["summary"]
    assert s["errors_total"] == 0 and s["disconnects"] == 0, s["errors"]
    assert s["join_redirects"] == 4 and s["connected_max"] == 4
    assert s["staleness_ms"]["n"] > 0 and s["coverage"]["mean"] >= 0.9
    assert s["moves_per_s"] == pytest.approx(40, rel=0.3)
    assert seen.get("hall:main") == 4  # they walked on b
    assert not list(a.app.registry.rooms())  # and never joined on a


async def test_a_redirect_loop_is_counted_as_an_error(tmp_path: Path) -> None:
    a = await start_server(tmp_path)

    async def place(room_id: str) -> dict[str, Any] | None:
        return {"node": "a", "url": a.url, "path": "/socket.io/"}

    a.app.registry.place = place
    try:
        cfg = LoadConfig(url=a.url, bots=2, duration_s=1.0, ramp_s=0.2, drain_s=0.5, observers=1)
        doc = await asyncio.to_thread(run, cfg)
    finally:
        await a.close()
    s = doc["summary"]
    assert s["errors"] == {"join_redirect_loop": 2}
    assert s["join_redirects"] == 2 * 3 and s["connected_max"] == 0
