"""Service hall benchmark: citizens take numbers across the catalogue while counters serve.

Starts its own server (``python -m server.cli serve``) on a fresh data directory (or a
PostgreSQL URL), creates staff and admin accounts first (as ``metahall user add`` does), adds
counters to reach ``--counters`` through the admin HTTP API, then:

* ``--citizens`` guests connect over Socket.IO (lean frames, one WebSocket each) and, at
  ``--rate`` per second, each takes a number (``queue.take``) for one of the services, round
  robin; the ack round trip is the **ticket issue latency** (it includes the committed write);
* every counter's staff bot loops ``counter.next`` → a service time (exponential, mean
  ``--serve-ms``) → ``counter.finish``; each call moves everyone behind in that queue, which is
  the **queue update fan-out** the server pays for;
* citizens only count what they receive (no decoding), so the generator stays light.

The server's own view comes from its ``/metrics``: store time per issue, CPU time and messages
of every fan-out flush. Server and generator CPU are sampled with psutil.

Usage::

    python -m loadtest.bench_hall [--citizens 2000] [--counters 20] [--rate 200]
        [--serve-ms 400] [--after 10] [--join] [--database-url URL] [--out bench/results]

writes ``<out>/hall.json`` and ``<out>/hall.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from .conn import SioConnection, connect
from .metrics import parse_prometheus, summarize
from .sysmon import (
    HostSampler,
    ProcSampler,
    cpu_model,
    free_port,
    raise_fd_limit,
    server_commit,
)

__all__ = ["main", "run_bench"]

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-pass-1"
FREEZE_KEY = "server_gc_freeze_after_warmup"
_QUEUE_UPDATE = b"\xacqueue.update"
_QUEUE_CALLED = b"\xacqueue.called"


# -- the server under test --------------------------------------------------------------------

_GC_FREEZE_HOOK = """
import gc, os, threading, time

def _wait(flag):
    while not os.path.exists(flag):
        time.sleep(0.2)
    gc.freeze()
    os.unlink(flag)

_flag = os.environ.get("BENCH_GC_FREEZE_FLAG")
if _flag:
    threading.Thread(target=_wait, args=(_flag,), daemon=True).start()
"""


def server_env(data_dir: Path, database_url: str | None, gc_freeze: bool = False) -> dict[str, str]:
    env = {
        **os.environ,
        "METAHALL_DATA_DIR": str(data_dir),
        "METAHALL_LOG_LEVEL": "WARNING",
        "METAHALL_GUEST_LOGINS_PER_MINUTE": "1000000",
        "METAHALL_LOGIN_ATTEMPTS_PER_MINUTE": "10000",
        "METAHALL_CAPACITY_HALL": "5000",
        "PYTHONPATH": str(ROOT),
    }
    if database_url:
        env["METAHALL_DATABASE_URL"] = database_url
    if gc_freeze:  # experiment: what a gc.freeze() after warm-up would give
        hook = data_dir / "gc-hook"
        hook.mkdir(exist_ok=True)
        (hook / "sitecustomize.py").write_text(_GC_FREEZE_HOOK, encoding="utf-8")
        env["PYTHONPATH"] = f"{hook}{os.pathsep}{env['PYTHONPATH']}"
        env["BENCH_GC_FREEZE_FLAG"] = str(data_dir / "gc-freeze-now")
    return env


_SETUP = """
import asyncio, sys
from server.app import App
from server.settings import Settings

async def main(n: int, password: str) -> None:
    app = App(Settings.from_env())
    await app.db.migrate()
    await app.accounts.register("bench-admin", password, "bench-admin", roles="admin")
    for i in range(n):
        await app.accounts.register(f"bench-staff{i:02d}", password, f"staff{i}", roles="staff")
    await app.db.close()

asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
"""


async def _accounts(env: dict[str, str], staff: int) -> None:
    """The admin and staff accounts, in one process before the server starts (what
    ``metahall user add`` does, without starting Python 21 times)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _SETUP,
        str(staff),
        PASSWORD,
        env=env,
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"account setup failed: {err.decode()[-800:]}")


async def _start_server(env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "serve",
        "--port",
        str(port),
        env=env,
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    if b"serving" not in line:
        raise RuntimeError(f"server did not start: {line!r}")
    return proc


# -- metrics ----------------------------------------------------------------------------------
def _delta(before: dict[str, float], after: dict[str, float], key: str) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


def histogram_quantile(
    before: dict[str, float], after: dict[str, float], name: str, q: float
) -> float | None:
    """Upper bound of the bucket holding the q-quantile of what was observed in between."""
    buckets: list[tuple[float, float]] = []
    for key, value in after.items():
        if key.startswith(name + "_bucket{"):
            le = re.search(r'le="([^"]+)"', key)
            if le:
                bound = float("inf") if le.group(1) == "+Inf" else float(le.group(1))
                buckets.append((bound, value - before.get(key, 0.0)))
    buckets.sort()
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    for bound, count in buckets:
        if count >= q * total:
            return bound
    return None


async def _scrape(http: aiohttp.ClientSession, url: str) -> dict[str, float]:
    async with http.get(f"{url}/metrics") as resp:
        return parse_prometheus(await resp.text())


# -- bots -------------------------------------------------------------------------------------
@dataclass
class Citizen:
    conn: SioConnection
    updates: int = 0
    update_bytes: int = 0
    called: int = 0

    def on_frame(self, frame: bytes, now_ms: float) -> None:
        head = frame[:40]
        if _QUEUE_UPDATE in head:
            self.updates += 1
            self.update_bytes += len(frame)
        elif _QUEUE_CALLED in head:
            self.called += 1


@dataclass
class Results:
    take_ms: list[float] = field(default_factory=list)
    take_at: list[float] = field(default_factory=list)
    take_errors: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    served: int = 0
    empty_calls: int = 0
    next_ms: list[float] = field(default_factory=list)
    loop_lag_ms: list[float] = field(default_factory=list)


async def _login(http: aiohttp.ClientSession, url: str, username: str) -> str:
    async with http.post(f"{url}/api/auth/login", json={"username": username, "password": PASSWORD}) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"login {username}: {body}")
        return str(body["token"])


async def _guest(http: aiohttp.ClientSession, url: str, i: int) -> str:
    async with http.post(f"{url}/api/auth/guest", json={"display_name": f"citizen{i}"}) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"guest: {body}")
        return str(body["token"])


async def _bounded(n: int, limit: int, fn: Any) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(i: int) -> Any:
        async with gate:
            return await fn(i)

    return list(await asyncio.gather(*(one(i) for i in range(n))))


def _extra_counters(services: list[str], have: int, want: int) -> list[dict[str, Any]]:
    """Counters c13.. along the side walls, each serving two services round robin."""
    out = []
    for k, n in enumerate(range(have + 1, want + 1)):
        side = -58.0 if k % 2 == 0 else 58.0
        z = -24.0 + 6.0 * (k // 2)
        pair = [services[(2 * k) % len(services)], services[(2 * k + 1) % len(services)]]
        out.append(
            {
                "id": f"c{n}",
                "name": {"zh-CN": f"{n}号窗口", "en": f"Counter {n}"},
                "x": side,
                "z": z,
                "services": pair,
            }
        )
    return out


async def _staff_loop(
    conn: SioConnection,
    counter_id: str,
    serve_s: float,
    stop: asyncio.Event,
    res: Results,
    rng: random.Random,
) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        ack = await conn.call("counter.next", {"counter_id": counter_id}, 30.0)
        res.next_ms.append((time.perf_counter() - t0) * 1000)
        ticket = ack.get("ticket") if ack.get("ok") else None
        if ticket is None:
            res.empty_calls += 1
            await asyncio.sleep(0.2)
            continue
        res.calls += 1
        await asyncio.sleep(rng.expovariate(1.0 / serve_s))
        done = await conn.call("counter.finish", {"ticket_id": ticket["id"], "outcome": "served"}, 30.0)
        if done.get("ok"):
            res.served += 1


async def _loop_lag(stop: asyncio.Event, res: Results) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(0.05)
        res.loop_lag_ms.append(max(0.0, (time.perf_counter() - t0 - 0.05) * 1000))


def _cpu_mean(samples: list[float]) -> float | None:
    return round(sum(samples) / len(samples), 1) if samples else None


async def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-hall-"))
    env = server_env(data_dir, args.database_url, args.gc_freeze)
    print(f"setting up accounts in {data_dir} ...", flush=True)
    await _accounts(env, args.counters)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = await _start_server(env, port)
    print(f"server pid={server.pid} url={url}", flush=True)
    res = Results()
    conns: list[SioConnection] = []
    readers: list[asyncio.Task[str]] = []
    try:
        timeout = aiohttp.ClientTimeout(total=60)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            admin = await _login(http, url, "bench-admin")
            async with http.get(f"{url}/api/hall/services") as resp:
                services = [s["id"] for s in await resp.json()]
            async with http.get(f"{url}/api/hall/counters") as resp:
                have = len(await resp.json())
            extra = _extra_counters(services, have, args.counters)
            if extra:
                async with http.post(
                    f"{url}/api/hall/import",
                    json={"counters": extra},
                    headers={"Authorization": f"Bearer {admin}"},
                ) as resp:
                    assert resp.status == 200, await resp.text()

            def start(conn: SioConnection) -> None:
                conns.append(conn)
                readers.append(asyncio.create_task(conn.run()))

            staff_tokens = await _bounded(
                args.counters, 8, lambda i: _login(http, url, f"bench-staff{i:02d}")
            )
            staff = []
            for i, tok in enumerate(staff_tokens):
                conn = await connect(http, url, tok)
                start(conn)
                ack = await conn.call("counter.open", {"counter_id": f"c{i + 1}"}, 30.0)
                assert ack.get("ok"), ack
                staff.append(conn)

            print(f"connecting {args.citizens} citizens ...", flush=True)
            tokens = await _bounded(args.citizens, 64, lambda i: _guest(http, url, i))

            async def citizen(i: int) -> Citizen:
                conn = await connect(http, url, tokens[i])
                c = Citizen(conn)
                conn.on_frame = c.on_frame
                start(conn)
                if args.join:
                    ack = await conn.call("join", {"room": "hall:main"}, 30.0)
                    assert ack.get("ok"), ack
                return c

            citizens: list[Citizen] = await _bounded(args.citizens, 64, citizen)
            if args.gc_freeze:  # warmed up: what is alive now goes to the permanent generation
                await asyncio.to_thread(Path(env["BENCH_GC_FREEZE_FLAG"]).touch)
            await asyncio.sleep(1.0)

            sampler = ProcSampler(server.pid or 0)
            me = ProcSampler(os.getpid(), children=False)
            host = HostSampler()
            before = await _scrape(http, url)
            stop = asyncio.Event()
            rng = random.Random(7)
            workers = [
                asyncio.create_task(_staff_loop(conn, f"c{i + 1}", args.serve_ms / 1000, stop, res, rng))
                for i, conn in enumerate(staff)
            ]
            lag = asyncio.create_task(_loop_lag(stop, res))
            server_cpu: dict[str, list[float]] = {"take": [], "serve": []}
            gen_cpu: dict[str, list[float]] = {"take": [], "serve": []}
            host_cpu: dict[str, list[float]] = {"take": [], "serve": []}
            phase = "take"

            async def sample() -> None:
                while not stop.is_set():
                    await asyncio.sleep(1.0)
                    s, g = sampler.sample(), me.sample()
                    host_cpu[phase].append(sum(host.sample()))
                    if s:
                        server_cpu[phase].append(s.cpu_percent)
                    if g:
                        gen_cpu[phase].append(g.cpu_percent)

            sampling = asyncio.create_task(sample())

            print(
                f"taking numbers at {args.rate}/s with {args.counters} counters serving ...",
                flush=True,
            )
            t_start = time.perf_counter()

            async def take(i: int) -> None:
                delay = t_start + i / args.rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                t0 = time.perf_counter()
                ack = await citizens[i].conn.call(
                    "queue.take", {"service_id": services[i % len(services)]}, 30.0
                )
                res.take_ms.append((time.perf_counter() - t0) * 1000)
                res.take_at.append(t0 - t_start)
                if not ack.get("ok"):
                    code = ack["error"]["code"]
                    res.take_errors[code] = res.take_errors.get(code, 0) + 1

            await asyncio.gather(*(take(i) for i in range(len(citizens))))
            take_s = time.perf_counter() - t_start
            mid = await _scrape(http, url)
            phase = "serve"
            await asyncio.sleep(args.after)
            stop.set()
            await asyncio.gather(*workers, lag, sampling, return_exceptions=True)
            after = await _scrape(http, url)
            total_s = time.perf_counter() - t_start
    finally:
        for conn in conns:
            await conn.close()
        for t in readers:
            t.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        server.terminate()
        try:
            await asyncio.wait_for(server.wait(), 20)
        except TimeoutError:
            server.kill()

    fan_s = _delta(before, after, "metahall_hall_fanout_seconds_sum")
    flushes = _delta(before, after, "metahall_hall_fanout_seconds_count")
    msgs = _delta(before, after, "metahall_hall_fanout_messages_total")
    out_events = {
        ev: _delta(before, after, f'metahall_events_out_total{{event="{ev}"}}')
        for ev in ("queue.update", "counter.update", "queue.called", "hall.board", "queue.done")
    }
    received = sum(c.updates for c in citizens)
    result: dict[str, Any] = {
        "config": {
            "citizens": args.citizens,
            "services": len(services),
            "counters": args.counters,
            "rate_per_s": args.rate,
            "serve_ms_mean": args.serve_ms,
            "after_s": args.after,
            "join": args.join,
            FREEZE_KEY: args.gc_freeze,
            "database": "postgresql" if args.database_url else "sqlite (WAL, FULL)",
        },
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "server_commit": server_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu": cpu_model(),
        },
        "take": {
            "issued": len(res.take_ms) - sum(res.take_errors.values()),
            "errors": res.take_errors,
            "seconds": round(take_s, 2),
            "achieved_rate_per_s": round(len(res.take_ms) / take_s, 1),
            "ack_ms": summarize(res.take_ms),
            "server_store_ms_p50_le": _ms(
                histogram_quantile(before, mid, "metahall_hall_issue_seconds", 0.5)
            ),
            "server_store_ms_p99_le": _ms(
                histogram_quantile(before, mid, "metahall_hall_issue_seconds", 0.99)
            ),
            "ack_ms_p99_by_second": _by_second(res.take_at, res.take_ms),
        },
        "serve": {
            "calls": res.calls,
            "served": res.served,
            "empty_calls": res.empty_calls,
            "next_ack_ms": summarize(res.next_ms),
            "seconds": round(total_s, 2),
        },
        "fanout": {
            "flushes": int(flushes),
            "messages": int(msgs),
            "cpu_s": round(fan_s, 3),
            "us_per_message": round(fan_s / msgs * 1e6, 1) if msgs else None,
            "us_per_flush_mean": round(fan_s / flushes * 1e6, 1) if flushes else None,
            "ms_per_flush_p99_le": _ms(
                histogram_quantile(before, after, "metahall_hall_fanout_seconds", 0.99)
            ),
            "share_of_server_cpu": None,
            "events_out": {k: int(v) for k, v in out_events.items()},
            "queue_updates_per_call": round(out_events["queue.update"] / res.calls, 1) if res.calls else None,
            "queue_updates_received": received,
            "queue_update_bytes_mean": round(sum(c.update_bytes for c in citizens) / received, 1)
            if received
            else None,
            "citizens_called": sum(1 for c in citizens if c.called),
        },
        "server_loop_lag_ms": {
            "p50_le": _ms(histogram_quantile(before, after, "metahall_hall_loop_lag_seconds", 0.5)),
            "p99_le": _ms(histogram_quantile(before, after, "metahall_hall_loop_lag_seconds", 0.99)),
        },
        "cpu_percent": {
            "server_take": _cpu_mean(server_cpu["take"]),
            "server_serve": _cpu_mean(server_cpu["serve"]),
            "generator_take": _cpu_mean(gen_cpu["take"]),
            "generator_serve": _cpu_mean(gen_cpu["serve"]),
            "generator_loop_lag_ms": summarize(res.loop_lag_ms),
            "host_take": _cpu_mean(host_cpu["take"]),
            "host_serve": _cpu_mean(host_cpu["serve"]),
            "other_processes_take": _other(host_cpu, server_cpu, gen_cpu, "take"),
            "other_processes_serve": _other(host_cpu, server_cpu, gen_cpu, "serve"),
        },
    }
    server_cpu_s = sum(server_cpu["take"] + server_cpu["serve"]) / 100.0
    if server_cpu_s > 0:
        result["fanout"]["share_of_server_cpu"] = round(fan_s / server_cpu_s, 3)
    return result


def _by_second(at: list[float], values: list[float]) -> list[float | None]:
    """p99 of ``values`` per whole second of ``at`` (where in the run the tail was)."""
    buckets: dict[int, list[float]] = {}
    for t, v in zip(at, values, strict=True):
        buckets.setdefault(int(t), []).append(v)
    return [summarize(buckets.get(sec, []))["p99"] for sec in range(max(buckets, default=-1) + 1)]


def _other(
    host: dict[str, list[float]],
    server: dict[str, list[float]],
    gen: dict[str, list[float]],
    phase: str,
) -> float | None:
    """CPU used by processes other than the server and this generator (noise on the box)."""
    h, s, g = _cpu_mean(host[phase]), _cpu_mean(server[phase]), _cpu_mean(gen[phase])
    if h is None or s is None or g is None:
        return None
    return round(max(0.0, h - s - g), 1)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def to_markdown(r: dict[str, Any]) -> str:
    c, t, s, f, cpu = r["config"], r["take"], r["serve"], r["fanout"], r["cpu_percent"]
    a = t["ack_ms"]
    lines = [
        "# Service hall benchmark",
        "",
        f"{c['citizens']} citizens take numbers across {c['services']} services at "
        f"{c['rate_per_s']}/s while {c['counters']} counters serve (mean service "
        f"{c['serve_ms_mean']} ms, then {c['after_s']} s more serving). Database: "
        f"{c['database']}; citizens {'joined hall:main' if c['join'] else 'not in the 3D room'}"
        f"{'; server ran gc.freeze() once all had connected' if c[FREEZE_KEY] else ''}"
        ". "
        f"Machine: {r['machine']['cpus']} × {r['machine'].get('cpu') or 'CPU'}, Python "
        f"{r['machine']['python']}; server and generator share it. Measured "
        f"{r.get('date', 'at an unrecorded date')}, server code {r.get('server_commit') or 'unknown'}.",
        "",
        "## Ticket issue (`queue.take`)",
        "",
        "| issued | errors | achieved rate/s | ack p50 ms | p95 ms | p99 ms | max ms | "
        "server store p50 ≤ ms | p99 ≤ ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {t['issued']} | {t['errors'] or 0} | {t['achieved_rate_per_s']} | {a['p50']} | "
        f"{a['p95']} | {a['p99']} | {a['max']} | {t['server_store_ms_p50_le']} | "
        f"{t['server_store_ms_p99_le']} |",
        "",
        "Ack latency is the client's round trip and includes the committed write (SQLite "
        "`synchronous=FULL`; writes share commits, see server/hall_commit.py). The server "
        "columns are the store call alone, from the `metahall_hall_issue_seconds` histogram "
        "(bucket upper bounds).",
        "",
        f"p99 per second of the take phase (ms): {t['ack_ms_p99_by_second']}. Server event-loop "
        f"lag p50 ≤ {r['server_loop_lag_ms']['p50_le']} ms, p99 ≤ "
        f"{r['server_loop_lag_ms']['p99_le']} ms. A run with `--gc-freeze` (gc.freeze() in the "
        "server after warm-up) shows how much of the tail is the garbage collector's full "
        "collections.",
        "",
        "## Queue update fan-out",
        "",
        "| flushes | messages | CPU s | µs/message | µs/flush mean | flush p99 ≤ ms | "
        "share of server CPU | queue.update per call |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {f['flushes']} | {f['messages']} | {f['cpu_s']} | {f['us_per_message']} | "
        f"{f['us_per_flush_mean']} | {f['ms_per_flush_p99_le']} | {f['share_of_server_cpu']} | "
        f"{f['queue_updates_per_call']} |",
        "",
        f"Messages queued by event: {json.dumps(f['events_out'])}. Citizens received "
        f"{f['queue_updates_received']} `queue.update` frames (mean {f['queue_update_bytes_mean']} "
        f"bytes); {f['citizens_called']} were called.",
        "",
        "## Serving",
        "",
        f"{s['calls']} calls, {s['served']} served, {s['empty_calls']} empty `counter.next`; "
        f"`counter.next` ack p50 {s['next_ack_ms']['p50']} ms, p99 {s['next_ack_ms']['p99']} ms.",
        "",
        "## CPU (100 = one core)",
        "",
        "| server (take phase) | server (serve phase) | generator (take) | generator (serve) | "
        "generator loop lag p99 ms | other processes (take) | other processes (serve) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| {cpu['server_take']} | {cpu['server_serve']} | {cpu['generator_take']} | "
        f"{cpu['generator_serve']} | {cpu['generator_loop_lag_ms']['p99']} | "
        f"{cpu['other_processes_take']} | {cpu['other_processes_serve']} |",
        "",
        f"The machine has {r['machine']['cpus']} CPUs (100 per CPU). 'Other processes' is CPU "
        "used by everything else on the box during the run; a busy box shows in the tail.",
        "",
    ]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench_hall", description=__doc__.split("\n\n")[0])
    p.add_argument("--citizens", type=int, default=2000)
    p.add_argument("--counters", type=int, default=20)
    p.add_argument("--rate", type=float, default=200.0, help="numbers taken per second")
    p.add_argument("--serve-ms", type=float, default=400.0, help="mean service time")
    p.add_argument("--after", type=float, default=10.0, help="seconds of serving after taking")
    p.add_argument("--join", action="store_true", help="citizens also join hall:main")
    p.add_argument(
        "--gc-freeze",
        action="store_true",
        help="experiment: gc.freeze() in the server once everyone connected (sitecustomize)",
    )
    p.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    p.add_argument("--name", default="hall", help="result file stem (default hall)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.counters < 1 or args.citizens < 1 or args.rate <= 0:
        print("bench_hall: counts and rate must be positive", file=sys.stderr)
        return 2
    raise_fd_limit()
    try:
        result = asyncio.run(run_bench(args))
    except (RuntimeError, OSError, aiohttp.ClientError, AssertionError) as exc:
        print(f"bench_hall: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    md = to_markdown(result)
    (out / f"{args.name}.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
