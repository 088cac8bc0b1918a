"""``metahall cluster`` in a subprocess on a fresh PostgreSQL database and its own Redis prefix,
driven synchronously (for Playwright's sync API, whose loop owns the test's thread)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from tests.cluster_front.conftest import REDIS_URL
from tests.helpers import drop_redis_prefix
from tests.pg import PG_HOST, PG_PORT, PG_USER

REPO = Path(__file__).resolve().parents[2]
PG_URL = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}"


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion in a thread of its own (this thread may have a loop)."""
    out: list[Any] = []
    err: list[BaseException] = []

    def target() -> None:
        try:
            out.append(asyncio.run(coro))
        except BaseException as exc:  # re-raised in the caller
            err.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join(90)
    if t.is_alive():
        raise AssertionError("coroutine still running after 90 s")
    if err:
        raise err[0]
    return out[0] if out else None


def busy(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_block(n: int) -> int:
    """A port P with P..P+n free."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + n < 65535 and not any(busy(port + k) for k in range(n + 1)):
            return port
    raise RuntimeError("no free block of ports")


class ClusterProcess:
    """``metahall cluster --procs N`` with its log in ``tmp/cluster.log``."""

    def __init__(self, tmp: Path, procs: int = 2, extra_env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.procs = procs
        self.db = "metahall_front_" + uuid.uuid4().hex[:10]
        self.prefix = "mhfront-" + uuid.uuid4().hex[:10]
        self.port = free_block(procs)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "cluster.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("METAHALL_")}
        env.update({"METAHALL_DATA_DIR": str(tmp / "var"), "METAHALL_REDIS_URL": REDIS_URL,
                    "METAHALL_REDIS_PREFIX": self.prefix,
                    "METAHALL_DATABASE_URL": f"{PG_URL}/{self.db}", "METAHALL_UVLOOP": "0",
                    "METAHALL_LOG_LEVEL": "WARNING", **(extra_env or {})})
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.public_url: str | None = None
        """What the nodes put in redirects (default: the front's URL)."""

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self, within_s: float = 150.0) -> None:
        with self.log.open("wb") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "cluster", "--procs", str(self.procs),
                 "--port", str(self.port),
                 *(["--public-url", self.public_url] if self.public_url else [])],
                env=self.env, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO)
        want = [f"n{k}" for k in range(1, self.procs + 1)]
        self.wait(lambda: self.nodes() == want, within_s, f"nodes {want} behind the front")

    def wait(self, pred: Any, within_s: float, what: str) -> None:
        end = time.monotonic() + within_s
        while not pred():
            assert self.proc is not None and self.proc.poll() is None, self.text()[-4000:]
            if time.monotonic() > end:
                raise AssertionError(f"{what} not seen in {within_s:g} s:\n{self.text()[-4000:]}")
            time.sleep(0.3)

    def nodes(self) -> list[str]:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as r:
                return [n["id"] for n in json.loads(r.read())["nodes"]]
        except (OSError, ValueError):
            return []

    def pid(self, node: str) -> int:
        """The newest pid the supervisor reported for ``node``."""
        found = re.findall(rf"^  {node} +pid (\d+) ", self.text(), re.M)
        assert found, self.text()[-3000:]
        return int(found[-1])

    def owner(self, room: str) -> str | None:
        import redis

        raw = redis.Redis.from_url(REDIS_URL).get(f"{self.prefix}:room:{room}")
        return raw.decode() if isinstance(raw, bytes) else None

    def kill(self, node: str) -> None:
        os.kill(self.pid(node), signal.SIGKILL)

    def stop(self) -> int | None:
        code = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                code = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        elif self.proc is not None:
            code = self.proc.returncode
        run_async(self._cleanup())
        return code

    async def _cleanup(self) -> None:
        import asyncpg
        await drop_redis_prefix(self.prefix)
        admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
        finally:
            await admin.close()
