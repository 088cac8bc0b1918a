"""Real ``metahall serve`` processes forming a cluster on this machine's PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.helpers import (  # noqa: F401 (re-exported)
    REDIS_URL,
    drop_redis_prefix,
    free_port,
    redis_available,
)


@dataclass
class Node:
    node_id: str
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        fh = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port",
             str(self.port)], env=self.env, stdout=fh, stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2])
        fh.close()

    async def wait_ready(self, within_s: float = 120.0) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + within_s
        async with aiohttp.ClientSession() as http:
            while loop.time() < end:
                assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-3000:]
                try:
                    async with http.get(f"{self.url}/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"node {self.node_id} not ready: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """kill -9: no clean-up at all, leases must expire on their own."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@dataclass
class ClusterUnderTest:
    nodes: list[Node] = field(default_factory=list)
    prefix: str = ""

    def __getitem__(self, i: int) -> Node:
        return self.nodes[i]


@asynccontextmanager
async def cluster(tmp: Path, database_url: str, n: int = 2,
                  extra_env: dict[str, str] | None = None) -> AsyncIterator[ClusterUnderTest]:
    """``n`` nodes sharing one database, one Redis key prefix and one token secret."""
    prefix = "mhtest-" + uuid.uuid4().hex[:10]
    base = {k: v for k, v in os.environ.items() if not k.startswith("METAHALL_")}
    base.update({
        "METAHALL_DATABASE_URL": database_url, "METAHALL_REDIS_URL": REDIS_URL,
        "METAHALL_REDIS_PREFIX": prefix, "METAHALL_SECRET": secrets.token_urlsafe(32),
        "METAHALL_DATA_DIR": str(tmp), "METAHALL_LEASE_TTL_S": "2",
        "METAHALL_LOG_LEVEL": "INFO", "METAHALL_UVLOOP": "0", **(extra_env or {}),
    })
    cut = ClusterUnderTest(prefix=prefix)
    for i in range(n):
        port = free_port()
        env = {**base, "METAHALL_NODE_ID": f"n{i + 1}", "METAHALL_PORT": str(port)}
        cut.nodes.append(Node(f"n{i + 1}", port, env, tmp / f"n{i + 1}.log"))
    try:
        for node in cut.nodes:
            node.start()
        await asyncio.gather(*(node.wait_ready() for node in cut.nodes))
        yield cut
    finally:
        for node in cut.nodes:
            node.stop()
        await drop_redis_prefix(prefix)
