"""The coordinator: start the generator processes, relay, sample, report.

Each worker is a ``spawn``-ed process running :class:`loadtest.swarm.Worker` on its
own event loop (uvloop if available), connected to the coordinator by a pipe.
The coordinator waits until every worker has logged its bots in, hands out the
common start time ``t0``, relays every ``bot``/``gone`` announcement to the other
workers (so each can replay every walk), and once a second merges the workers'
stats with CPU/RSS samples of the server (``server_pid``) and of the generator
processes into one timeline row and a progress line.

Everything is bounded: login, start, run and drain each have a deadline, after
which workers are terminated. Ctrl-C (SIGINT) stops the run early but still
reports; a second Ctrl-C terminates the workers at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import psutil

from .aggregate import Aggregator, Row
from .config import LoadConfig
from .metrics import parse_prometheus
from .sysmon import HostSampler, ProcSampler, cores_of, raise_fd_limit

__all__ = ["Coordinator", "Progress", "run", "worker_entry"]

Progress = Callable[[Row, Aggregator], None]
"""Called once a second with the sealed timeline row."""


def worker_entry(cfg: LoadConfig, worker_id: int, conn: Connection) -> None:
    """Process target: run one :class:`~loadtest.swarm.Worker` until it is done."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise_fd_limit()
    from .swarm import Worker

    async def main() -> None:
        loop = asyncio.get_running_loop()
        worker = Worker(cfg, worker_id, conn.send)

        def readable() -> None:
            try:
                while conn.poll():
                    worker.deliver(conn.recv())
            except (EOFError, OSError):
                loop.remove_reader(conn.fileno())
                worker.deliver(("stop",))

        loop.add_reader(conn.fileno(), readable)
        await worker.run()

    if cfg.uvloop:
        try:
            import uvloop

            uvloop.run(main())
            return
        except ImportError:
            pass
    asyncio.run(main())


class Coordinator:
    """Runs one load test and returns its result document."""

    def __init__(self, cfg: LoadConfig, progress: Progress | None) -> None:
        self.cfg = cfg
        self._progress = progress
        self._procs: list[Any] = []
        self._conns: list[Connection] = []
        self._ready: dict[int, int] = {}
        self._done: set[int] = set()
        self._changed = asyncio.Event()
        self._interrupts = 0
        self.agg: Aggregator | None = None
        self.fatal: str | None = None
        self._early: list[tuple[int, dict[str, Any]]] = []
        self.server_ticks: dict[str, float] | None = None
        """The server's own tick durations (ms) at the end of the measured window, if it
        exports ``metahall_tick_recent_seconds`` on ``/metrics``."""

    async def run(self) -> dict[str, Any]:
        cfg = self.cfg
        loop = asyncio.get_running_loop()
        ctx = mp.get_context("spawn")
        started = time.time()
        for wid in range(cfg.procs):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker_entry, args=(cfg, wid, child), daemon=True)
            p.start()
            child.close()
            self._procs.append(p)
            self._conns.append(parent)
            loop.add_reader(parent.fileno(), self._readable, wid)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, self._interrupt)
        samplers = {
            f"worker{i}": ProcSampler(p.pid, children=False) for i, p in enumerate(self._procs)
        }
        samplers["coordinator"] = ProcSampler(os.getpid(), children=False)
        server = self._server_sampler()
        self._host = HostSampler()
        try:
            await self._drive(server, samplers)
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
            self._broadcast(("stop",))
            await self._reap()
        return self._result(started)

    async def _drive(self, server: ProcSampler | None, samplers: dict[str, ProcSampler]) -> None:
        """Wait for logins, give the start signal, then seal a timeline row every second."""
        cfg = self.cfg
        await self._until(
            lambda: len(self._ready) + len(self._done) >= cfg.procs, cfg.login_timeout_s + 60.0
        )
        t0 = time.time() * 1000.0 + 300.0
        srv_cores = cores_of(cfg.server_pid) if cfg.server_pid is not None else None
        self.agg = Aggregator(cfg, t0, cores_of(os.getpid()), srv_cores)
        for wid, payload in self._early:
            self.agg.add(wid, payload)
        self._early.clear()
        if self._interrupts:
            return
        if sum(self._ready.values()) == 0:
            self.fatal = "no bot could log in (is the server at --url up?)"
            return
        self._broadcast(("go", t0))
        end = t0 + (cfg.ramp_s + cfg.duration_s + cfg.drain_s) * 1000.0 + 12_000.0
        window_end = t0 + (cfg.ramp_s + cfg.duration_s) * 1000.0
        next_tick = t0 + 1000.0
        while len(self._done) < cfg.procs and time.time() * 1000.0 < end:
            now = time.time() * 1000.0
            if self.server_ticks is None and now >= window_end:
                self.server_ticks = await server_tick_ms(cfg.url)
            if now >= next_tick:
                self._seal(server, samplers)
                next_tick += 1000.0
                continue
            await self._until(lambda: False, (next_tick - now) / 1000.0)
        if self.agg.has_pending():
            self._seal(server, samplers)

    def _result(self, started: float) -> dict[str, Any]:
        if self.agg is None:
            self.agg = Aggregator(self.cfg, started * 1000.0)
        for wid, payload in self._early:
            self.agg.add(wid, payload)
        self._early.clear()
        return {
            "tool": "metahall-loadtest",
            "format": 1,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "config": self.cfg.to_dict(),
            "interrupted": self._interrupts > 0,
            "fatal": self.fatal,
            "summary": self.agg.summary(),
            "server_ticks_ms": self.server_ticks or None,
            "timeline": [r.to_dict() for r in self.agg.rows],
        }

    def _seal(self, server: ProcSampler | None, samplers: dict[str, ProcSampler]) -> None:
        """Close the current timeline row with fresh process samples."""
        assert self.agg is not None
        srv = server.sample() if server else None
        gen = {n: s for n, sm in samplers.items() if (s := sm.sample()) is not None}
        row = self.agg.close_row(time.time() * 1000.0, srv, gen, self._host.sample())
        if self._progress:
            self._progress(row, self.agg)

    def _server_sampler(self) -> ProcSampler | None:
        if self.cfg.server_pid is None:
            return None
        try:
            return ProcSampler(self.cfg.server_pid)
        except psutil.Error:
            return None

    async def _until(self, cond: Callable[[], bool], limit_s: float) -> None:
        deadline = time.monotonic() + limit_s
        while not cond():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    def _readable(self, wid: int) -> None:
        conn = self._conns[wid]
        try:
            while conn.poll():
                self._handle(wid, conn.recv())
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(conn.fileno())
            self._done.add(wid)
        self._changed.set()

    def _handle(self, wid: int, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind in ("bot", "gone"):
            for other, conn in enumerate(self._conns):
                if other != wid and other not in self._done:
                    with contextlib.suppress(OSError):
                        conn.send(msg)
        elif kind == "stats" or kind == "done":
            if self.agg is not None:
                self.agg.add(wid, msg[2])
            else:
                self._early.append((wid, msg[2]))
            if kind == "done":
                self._done.add(wid)
        elif kind == "ready":
            self._ready[wid] = int(msg[2])

    def _broadcast(self, msg: tuple[Any, ...]) -> None:
        for wid, conn in enumerate(self._conns):
            if wid not in self._done:
                with contextlib.suppress(OSError):
                    conn.send(msg)

    def _interrupt(self) -> None:
        self._interrupts += 1
        if self._interrupts == 1:
            self._broadcast(("stop",))
        else:
            for p in self._procs:
                if p.is_alive():
                    p.terminate()

    async def _reap(self) -> None:
        deadline = time.monotonic() + self.cfg.drain_s + 5.0
        while any(p.is_alive() for p in self._procs) and time.monotonic() < deadline:
            await self._until(lambda: False, 0.1)
        for p in self._procs:
            if p.is_alive():
                p.terminate()
            p.join(timeout=2.0)
        loop = asyncio.get_running_loop()
        for conn in self._conns:
            with contextlib.suppress(OSError, ValueError):
                loop.remove_reader(conn.fileno())
            conn.close()


async def server_tick_ms(url: str) -> dict[str, float]:
    """p50/p99/max of the server's recent tick durations in ms, from its Prometheus text
    (``metahall_tick_recent_seconds{quantile=...}``); empty when it has none or cannot answer."""
    import aiohttp

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http:
            async with http.get(url.rstrip("/") + "/metrics") as resp:
                text = await resp.text() if resp.status == 200 else ""
    except (aiohttp.ClientError, TimeoutError, OSError):
        return {}
    samples = parse_prometheus(text)
    out: dict[str, float] = {}
    for key, q in (("p50", "0.5"), ("p99", "0.99"), ("max", "1")):
        value = samples.get(f'metahall_tick_recent_seconds{{quantile="{q}"}}')
        if value is not None:
            out[key] = round(value * 1000.0, 2)
    return out


def run(cfg: LoadConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Run one load test (blocking) and return the result document."""
    raise_fd_limit()
    return asyncio.run(Coordinator(cfg, progress).run())
