"""The official socket.io JavaScript client (with socket.io-msgpack-parser) speaks our protocol."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import LiveServer, connect, guest

HERE = Path(__file__).resolve().parent
WEBCLIENT = HERE.parent.parent / "webclient"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (WEBCLIENT / "node_modules" / "socket.io-client").exists(),
    reason="node or webclient/node_modules missing (make setup installs them)",
)


async def run_node(url: str, token: str, room: str) -> dict[str, object]:
    proc = await asyncio.create_subprocess_exec(
        "node", str(HERE / "node_client.mjs"), url, token, room,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={"WEBCLIENT_DIR": str(WEBCLIENT), "PATH": "/usr/bin:/bin"},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode in (0, 2), err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


async def test_node_client_connects_joins_and_sees_a_python_client_move(server: LiveServer) -> None:
    tp, _ = await guest(server.url, "py")
    py = await connect(server.url, tp)
    ack = await py.call("join", {"room": "social:plaza"})
    x, y, z, yaw = ack["spawn"]

    async def walk() -> None:
        for i in range(60):
            await py.sio.emit("move", [x + 0.05 * i, y, z, yaw, 1])
            await asyncio.sleep(0.1)

    walker = asyncio.create_task(walk())
    try:
        tn, un = await guest(server.url, "node")
        result = await run_node(server.url, tn, "social:plaza")
    finally:
        walker.cancel()
        await py.close()
    assert result["connectError"] is None
    assert result["hello"]["proto"] == 1 and result["hello"]["user"]["id"] == un["id"]
    assert result["ack"]["ok"] is True and result["ack"]["room"] == "social:plaza"
    assert result["snaps"] >= 3 and result["sawOther"] is True


async def test_node_client_gets_auth_code_for_a_bad_token(server: LiveServer) -> None:
    result = await run_node(server.url, "v1.forged.x", "hall:main")
    assert result["connectError"]["code"] == "auth"
