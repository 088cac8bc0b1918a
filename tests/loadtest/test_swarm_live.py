"""A tiny swarm end to end: against python-socketio itself, and against metahall."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from loadtest import cli
from loadtest.config import LoadConfig
from loadtest.refserver import RefServer
from loadtest.runner import run
from tests.helpers import LiveServer, free_port


@pytest.fixture
async def ref_url() -> AsyncIterator[str]:
    runner = web.AppRunner(RefServer().app(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _check_clean_run(s: dict[str, Any], bots: int) -> None:
    assert s["connected_max"] == bots
    assert s["errors_total"] == 0 and s["disconnects"] == 0, s["errors"]
    assert s["protocol_errors"] == 0 and s["unmatched_positions"] == 0
    assert s["staleness_ms"]["n"] > 0 and s["latency_ms"]["n"] > 0
    # a busy test machine may delay a snap now and then; the tool itself loses nothing
    assert s["coverage"]["mean"] >= 0.9
    assert s["moves_per_s"] == pytest.approx(bots * 10, rel=0.3)
    assert s["down_bytes_per_s_per_bot"] > 0
    # snaps are most of what a walking bot receives, never more than all of it
    assert 0 < s["down_snap_bytes_per_s_per_bot"] < s["down_bytes_per_s_per_bot"]


async def test_cli_two_processes_against_python_socketio(ref_url: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = ["--url", ref_url, "--out", str(out), "--quiet"]
    argv += "--bots 6 --procs 2 --duration 2 --ramp 0.3 --observers 3".split()
    code = await asyncio.to_thread(cli.main, argv)
    assert code == 0
    doc = json.loads(out.with_suffix(".json").read_text())
    _check_clean_run(doc["summary"], 6)
    assert out.with_suffix(".png").stat().st_size > 10_000
    assert {"t_s", "staleness_p99_ms", "server_cpu"} <= doc["timeline"][0].keys()


async def test_swarm_against_metahall_server(server: LiveServer) -> None:
    cfg = LoadConfig(url=server.url, bots=5, duration_s=2.0, ramp_s=0.3, drain_s=1.0, observers=5)
    doc = await asyncio.to_thread(run, cfg)
    s = doc["summary"]
    _check_clean_run(s, 5)
    assert s["slo"]["verdict"] in ("pass", "inconclusive")


async def test_with_reconnect_bots_come_back_after_the_server_drops_them(server: LiveServer) -> None:
    """A failover drill: every bot's connection is closed by the server mid-run; with
    ``reconnect`` each connects and joins again and walks on."""
    cfg = LoadConfig(url=server.url, bots=4, duration_s=4.0, ramp_s=0.3, drain_s=1.0,
                     observers=4, reconnect=True)
    rt = server.app.realtime

    async def drop_everyone() -> int:
        for _ in range(100):  # wait until all four walk (bounded: 10 s)
            if server.app.registry.members("hall:main") == 4:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        sids = list(rt.clients)
        for sid in sids:
            await rt.sio.disconnect(sid)
        return len(sids)

    dropped, doc = await asyncio.gather(drop_everyone(), asyncio.to_thread(run, cfg))
    s = doc["summary"]
    assert dropped == 4
    assert s["disconnects"] == 4 and s["rejoins"] == 4, (s["disconnects"], s["rejoins"], s["errors"])
    assert s["walking_at_end_of_window"] == 4  # all back and walking when the window closed
    assert server.app.registry.members("hall:main") == 0  # and gone after the run


async def test_without_reconnect_dropped_bots_stay_gone(server: LiveServer) -> None:
    cfg = LoadConfig(url=server.url, bots=2, duration_s=3.0, ramp_s=0.3, drain_s=1.0, observers=2)
    rt = server.app.realtime

    async def drop_everyone() -> None:
        for _ in range(100):
            if server.app.registry.members("hall:main") == 2:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        for sid in list(rt.clients):
            await rt.sio.disconnect(sid)

    _, doc = await asyncio.gather(drop_everyone(), asyncio.to_thread(run, cfg))
    s = doc["summary"]
    assert s["disconnects"] == 2 and s["rejoins"] == 0
    assert s["walking_at_end_of_window"] == 0
