"""``make bench``: what a second server process buys (issue #11, scale-out).

Two parts, each on real ``metahall serve`` processes ("nodes") in cluster mode (Redis at
``--redis-url``, one throw-away PostgreSQL database per deployment at ``--pg``), plus one plain
process (no Redis) as the reference of part 2:

1. **Avatars held.** The same step series of bots (``--steps``, total bots) runs against

   (a) ONE node (cluster mode, so the code path is the same as in (b)) holding
       ``social:plaza``; node on CPU 0, the generator (``metahall-loadtest``) on CPU 1;
   (b) TWO nodes, one owning ``social:plaza`` and the other ``social:cafe``; node 1 on CPU 0,
       node 2 on CPU 1, and the bots split evenly between the rooms by two concurrent
       ``metahall-loadtest`` runs allowed on both CPUs (``taskset -c 0,1``): on a 2-core machine
       the generator shares the cores with the nodes. Both runs log in at node 1; the bots of
       the room on node 2 follow the join redirect.

   The rooms are placed before the bots come, by the cluster itself: an anchor guest joins
   ``social:plaza`` through node 1, then another ``social:cafe`` through node 2 (a new room goes
   to the least-loaded node, and the anchors are that load), then they leave;
   ``METAHALL_EMPTY_ROOM_GRACE_S`` keeps the empty rooms (and their leases) alive between steps.
   The owners are read back from Redis (``<prefix>:room:<id>``) and the series stops if they
   are not on different nodes.

   SLO per step as in ``bench_avatar_sync`` (staleness p99 <= 250 ms, coverage >= 0.95, no
   errors), for (b) in both rooms. A missed step is *inconclusive* (not evidence) when a
   generator saturated or other processes on the machine used more than 20 % per core during the
   measured window; it is re-run once, then the series stops at the first miss.
   CPU of every node, of the generator processes and of the whole machine is sampled each second
   (psutil) and averaged over the measured window.

2. **Cost of a chat message across processes.** ``--pairs`` senders each send a direct message
   (``chat`` channel ``dm:<user_id>``) to their own receiver once a second for ``--rounds``
   seconds (spread evenly over each second; the flood guard allows 2 a second per sender):
   plain process (no Redis); cluster, receiver on the sender's node; cluster, receiver on the
   other node. Latency = receipt at the receiver's socket - just before the send, both in this
   process (one clock). Server CPU per message = CPU time (psutil ``cpu_times``) of the nodes
   during the burst minus the same connections' idle CPU over as long a window, divided by the
   messages delivered. Redis's CPU is shown too (a shared instance: indicative only).

Writes ``<out>/cluster.{json,md,png}``; logs and step details in ``<out>/tmp/cluster/``.
Every wait has a deadline; processes are stopped by pid; the Redis keys of the run are deleted
and the databases dropped at the end.

    .venv/bin/python -m loadtest.bench_cluster [--steps 100,250,375,500,625,750,1000]
        [--duration 20] [--pairs 40 --rounds 8] [--parts one,two,chat] [--update]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import string
import subprocess
import sys
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from .bench_avatar_sync import ServerProcess, _pin, _wait_healthy
from .bench_report import fmt as _f
from .bench_report import step_record
from .conn import SioConnection, SioError, connect, redirect_target
from .frames import decode_packet
from .sysmon import HostSampler, ProcSampler, cpu_model, server_commit

__all__ = ["main", "run_bench"]

REPO = Path(__file__).resolve().parent.parent
ROOM_A, ROOM_B = "social:plaza", "social:cafe"
CONTENDED_PER_CORE = 20.0
"""Other processes above this mean CPU % per core in a window make a miss inconclusive."""


# -- processes ----------------------------------------------------------------------------------


def _loadavg() -> list[float]:
    with contextlib.suppress(OSError):
        return [round(v, 2) for v in os.getloadavg()]
    return []


def _wait_quiet(limit_s: float, busy_max: float) -> dict[str, Any]:
    """Wait (at most ``limit_s``) until the machine's CPU over 3 s is below ``busy_max`` % of
    all cores (other agents' tests come and go); what was seen."""
    t0 = time.monotonic()
    busy = 100.0
    while True:
        busy = float(psutil.cpu_percent(interval=3.0))
        waited = time.monotonic() - t0
        if busy <= busy_max or waited >= limit_s:
            return {"busy_pct": round(busy, 1), "waited_s": round(waited, 1),
                    "quiet": busy <= busy_max}  # fmt: skip


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (0 when it is gone)."""
    try:
        t = psutil.Process(pid).cpu_times()
        return float(t.user + t.system)
    except psutil.Error:
        return 0.0


def _redis_pid() -> int | None:
    for p in psutil.process_iter(["name"]):
        if (p.info.get("name") or "").startswith("redis-server"):
            return int(p.pid)
    return None


class Node(ServerProcess):
    """One ``metahall serve`` of the cluster, started (and stopped) by the bench."""

    def __init__(self, name: str, cores: str | None, env: dict[str, str], log: Path) -> None:
        self.name = name
        super().__init__(cores, env, log)


async def _create_db(pg: str) -> str:
    """A new empty PostgreSQL database on ``host:port`` as user postgres; its SQLAlchemy URL."""
    import asyncpg

    host, _, port = pg.partition(":")
    name = "metahall_bench_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(
        host=host, port=int(port or 5432), user="postgres", database="postgres", timeout=10
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://postgres@{host}:{port or 5432}/{name}"


async def _drop_db(url: str) -> None:
    import asyncpg

    hostport, name = url.rsplit("@", 1)[1].split("/", 1)
    host, _, port = hostport.partition(":")
    admin = await asyncpg.connect(
        host=host, port=int(port or 5432), user="postgres", database="postgres", timeout=10
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _drop_redis_keys(redis_url: str, prefix: str) -> None:
    import redis.asyncio as aioredis

    r = aioredis.Redis.from_url(redis_url)
    try:
        keys = [k async for k in r.scan_iter(f"{prefix}:*", count=500)]
        if keys:
            await r.delete(*keys)
    finally:
        await r.aclose()


async def _room_owner(redis_url: str, prefix: str, room: str) -> str | None:
    import redis.asyncio as aioredis

    r = aioredis.Redis.from_url(redis_url)
    try:
        raw = await r.get(f"{prefix}:room:{room}")
    finally:
        await r.aclose()
    return raw.decode() if isinstance(raw, bytes) else raw


class Deployment:
    """Nodes on one fresh database: cluster mode (``redis_url``) or one plain process."""

    def __init__(
        self,
        ns: argparse.Namespace,
        label: str,
        cores: list[str | None],
        *,
        cluster: bool,
        tmp: Path,
    ) -> None:
        self.ns, self.label, self.cores, self.cluster, self.tmp = ns, label, cores, cluster, tmp
        self.prefix = f"mhbench-{uuid.uuid4().hex[:10]}"
        self.db_url = ""
        self.nodes: list[Node] = []
        self.owners: dict[str, str | None] = {}

    async def start(self) -> None:
        self.db_url = await _create_db(self.ns.pg)
        base = {k: v for k, v in os.environ.items() if not k.startswith("METAHALL_")}
        base.update({
            "METAHALL_DATABASE_URL": self.db_url,
            "METAHALL_DATA_DIR": str(self.tmp / f"data-{self.label}"),
            "METAHALL_SECRET": secrets.token_urlsafe(32),
            "METAHALL_LOG_LEVEL": "WARNING",
            "METAHALL_GUEST_LOGINS_PER_MINUTE": "1000000",
            "METAHALL_CAPACITY_SOCIAL": "10000",
            "METAHALL_EMPTY_ROOM_GRACE_S": "3600",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        })  # fmt: skip
        if self.cluster:
            base.update({"METAHALL_REDIS_URL": self.ns.redis_url, "METAHALL_REDIS_PREFIX": self.prefix})
        for i, cores in enumerate(self.cores):
            name = f"n{i + 1}"
            env = {**base, "METAHALL_NODE_ID": name}
            node = Node(name, cores, env, self.tmp / f"{self.label}-{name}.log")
            self.nodes.append(node)
            # one after another: the first one runs the migrations on the empty database
            await asyncio.to_thread(_wait_healthy, node.url, node.proc, 90.0)
            print(f"  {self.label}: {name} pid {node.pid} on CPU {cores} at {node.url}", flush=True)

    async def place(self, rooms: list[str]) -> None:
        """Room ``rooms[i]`` created by an anchor guest joining through node ``i`` (placement
        picks the least-loaded node); the owners read back from Redis."""
        async with aiohttp.ClientSession() as http:
            for i, room in enumerate(rooms):
                node = self.nodes[i % len(self.nodes)]
                user = await _guest(http, node.url, f"anchor{i}")
                conn, reader, ack, _ = await _join(http, node.url, user["token"], room)
                await conn.close()
                reader.cancel()
                if not (isinstance(ack, dict) and ack.get("ok")):
                    raise RuntimeError(f"anchor join {room} on {node.name}: {ack!r}")
        if self.cluster:
            await asyncio.sleep(0.3)
            for room in rooms:
                self.owners[room] = await _room_owner(self.ns.redis_url, self.prefix, room)
            print(f"  {self.label}: room owners in Redis {self.owners}", flush=True)

    async def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        with contextlib.suppress(Exception):
            if self.cluster:
                await _drop_redis_keys(self.ns.redis_url, self.prefix)
        with contextlib.suppress(Exception):
            if self.db_url:
                await _drop_db(self.db_url)
        shutil.rmtree(self.tmp / f"data-{self.label}", ignore_errors=True)


# -- sampling -----------------------------------------------------------------------------------


@dataclass
class Sample:
    t: float
    host: list[float]
    nodes: dict[str, float]
    gen: float


class Sampler:
    """Once a second: per-core CPU of the machine, CPU of each node and of the generator trees."""

    def __init__(self, nodes: list[Node]) -> None:
        self._nodes = {n.name: ProcSampler(n.pid, children=False) for n in nodes}
        self._gen: list[ProcSampler] = []
        self._host = HostSampler()
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def add_generator(self, pid: int) -> None:
        with contextlib.suppress(psutil.Error), self._lock:
            self._gen.append(ProcSampler(pid, children=True))

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            host = self._host.sample()
            nodes = {}
            for name, s in self._nodes.items():
                got = s.sample()
                nodes[name] = got.cpu_percent if got else 0.0
            with self._lock:
                gen = sum(g.cpu_percent for s in self._gen if (g := s.sample()) is not None)
            self.samples.append(Sample(time.time(), host, nodes, gen))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def window(self, t0: float | None, t1: float | None) -> dict[str, Any]:
        """Means over the samples taken in [t0, t1] (all samples when unknown)."""
        win = [s for s in self.samples if (t0 is None or s.t >= t0) and (t1 is None or s.t <= t1)]
        if not win:
            return {}
        ncores = len(win[0].host)
        host = [statistics.fmean(s.host[c] for s in win) for c in range(ncores)]
        nodes = {k: round(statistics.fmean(s.nodes.get(k, 0.0) for s in win), 1) for k in win[0].nodes}
        gen = statistics.fmean(s.gen for s in win)
        other = max(sum(host) - sum(nodes.values()) - gen, 0.0)
        return {
            "samples": len(win),
            "host_cpu_by_core": [round(v, 1) for v in host],
            "node_cpu": nodes,
            "node_cpu_max": {
                k: round(max(s.nodes.get(k, 0.0) for s in win), 1) for k in win[0].nodes
            },
            "generator_cpu": round(gen, 1),
            "other_cpu": round(other, 1),
            "other_cpu_per_core": round(other / ncores, 1),
        }


# -- part 1: avatars held -----------------------------------------------------------------------

_PROGRESS = re.compile(r"\[\s*-?\d+s (\w+)\s*\]")


@dataclass
class Run:
    """One ``metahall-loadtest`` process, its progress lines watched for the measured window."""

    label: str
    proc: subprocess.Popen[str]
    out: Path
    measure: list[float] = field(default_factory=list)
    thread: threading.Thread | None = None

    def watch(self, log: Path) -> None:
        def read() -> None:
            assert self.proc.stderr is not None
            with log.open("w") as fh:
                for line in self.proc.stderr:
                    fh.write(line)
                    m = _PROGRESS.search(line)
                    if m and m.group(1) == "measure":
                        self.measure.append(time.time())

        self.thread = threading.Thread(target=read, daemon=True)
        self.thread.start()


def _start_run(
    ns: argparse.Namespace, label: str, url: str, room: str, bots: int, pid: int,
    cores: str | None, tmp: Path,
) -> Run:  # fmt: skip
    out = tmp / f"{label}-{bots}"
    cmd = _pin(cores) + [
        sys.executable, "-m", "loadtest.cli", "--url", url, "--bots", str(bots),
        "--duration", str(ns.duration), "--rate", str(ns.rate), "--procs", "1",
        "--room", room, "--server-pid", str(pid), "--name-prefix", f"{label}-", "--out", str(out),
        "--no-plot",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    run = Run(label, proc, out)
    run.watch(tmp / f"{label}-{bots}.log")
    return run


def _finish(run: Run, limit_s: float) -> dict[str, Any] | None:
    try:
        run.proc.wait(timeout=limit_s)
    except subprocess.TimeoutExpired:
        run.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            run.proc.wait(10)
        if run.proc.poll() is None:
            run.proc.kill()
        print(f"  {run.label}: timed out after {limit_s:.0f} s", flush=True)
    if run.thread is not None:
        run.thread.join(5.0)
    path = run.out.with_suffix(".json")
    if not path.exists():
        return None
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def _combine(records: list[dict[str, Any]], sysm: dict[str, Any]) -> tuple[str, list[str]]:
    """The step's verdict over its rooms and why it is not a pass."""
    notes = [f"{r['label']}: {m}" for r in records for m in r["misses"]]
    verdicts = {r["verdict"] for r in records}
    if verdicts == {"pass"}:
        return "pass", notes
    contended = (sysm.get("other_cpu_per_core") or 0.0) > CONTENDED_PER_CORE
    if contended:
        notes.append(
            f"other processes used {sysm['other_cpu_per_core']:.0f} % per core (> "
            f"{CONTENDED_PER_CORE:.0f}): not evidence"
        )
    if "fail" in verdicts and not contended:
        return "fail", notes
    return "inconclusive", notes


async def _avatar_step(
    ns: argparse.Namespace, dep: Deployment, plan: list[tuple[str, str, Node, int]],
    gen_cores: str | None, total: int, tmp: Path,
) -> dict[str, Any]:  # fmt: skip
    """One step: every (label, room, owner node, bots) of ``plan`` at once; one record."""
    quiet = await asyncio.to_thread(_wait_quiet, ns.step_quiet_wait, ns.quiet_busy)
    sampler = Sampler(dep.nodes)
    load_before = _loadavg()
    sampler.start()
    entry = dep.nodes[0].url
    runs = [
        _start_run(ns, label, entry, room, bots, node.pid, gen_cores, tmp)
        for label, room, node, bots in plan
    ]
    for run in runs:
        sampler.add_generator(run.proc.pid)
    ramp = min(max(max(b for *_, b in plan) / 100.0, 3.0), 30.0)
    limit = ramp + ns.duration + 240.0
    results = await asyncio.gather(*(asyncio.to_thread(_finish, r, limit) for r in runs))
    sampler.stop()
    starts = [r.measure[0] for r in runs if r.measure]
    ends = [r.measure[-1] for r in runs if r.measure]
    t0, t1 = (max(starts) - 1.0, min(ends)) if len(starts) == len(runs) else (None, None)
    if t0 is not None and t1 is not None and t1 <= t0:  # runs not overlapping: use the union
        t0, t1 = min(starts) - 1.0, max(ends)
    sysm = sampler.window(t0, t1)
    records: list[dict[str, Any]] = []
    for (label, room, node, bots), result in zip(plan, results, strict=True):
        if result is None:
            records.append({"label": label, "room": room, "node": node.name, "bots": bots,
                            "verdict": "error", "misses": ["no result"]})  # fmt: skip
            continue
        rec = step_record(result)
        rec.update({"label": label, "room": room, "node": node.name,
                    "join_redirects": result["summary"].get("join_redirects", 0)})  # fmt: skip
        records.append(rec)
    if any(r["verdict"] == "error" for r in records):
        verdict, notes = "error", [f"{r['label']}: no result" for r in records if r["verdict"] == "error"]
    else:
        verdict, notes = _combine(records, sysm)
    saturated = [r["label"] for r in records if r.get("gen_saturated")]
    return {
        "bots": total,
        "verdict": verdict,
        "notes": notes,
        "loadavg_before": load_before,
        "quiet_wait": quiet,
        "window_offset_s": round(max(starts) - min(starts), 1) if len(starts) > 1 else 0.0,
        "system": sysm,
        "generator_saturated": saturated,
        "rooms": records,
    }


async def _avatar_series(
    ns: argparse.Namespace, label: str, n_nodes: int, tmp: Path
) -> dict[str, Any]:
    node_cores: list[str | None] = [None] * n_nodes if ns.no_pin else ["0", "1"][:n_nodes]
    gen_cores = None if ns.no_pin else ("0,1" if n_nodes == 2 else "1")
    dep = Deployment(ns, label, node_cores, cluster=True, tmp=tmp)
    rooms = [ROOM_A, ROOM_B][:n_nodes]
    doc: dict[str, Any] = {
        "nodes": n_nodes,
        "node_cores": node_cores,
        "generator_cores": gen_cores,
        "rooms": rooms,
        "loadavg_before": _loadavg(),
        "steps": [],
    }
    doc["quiet_wait"] = await asyncio.to_thread(_wait_quiet, ns.quiet_wait, ns.quiet_busy)
    doc["loadavg_before"] = _loadavg()
    print(f"\n== part 1 ({label}): {n_nodes} node(s), load average {doc['loadavg_before']},"
          f" machine busy {doc['quiet_wait']}", flush=True)  # fmt: skip
    try:
        await dep.start()
        await dep.place(rooms)
        doc["owners"] = dep.owners
        owners = [dep.owners.get(r) for r in rooms]
        if len(set(owners)) != n_nodes or None in owners:
            doc["stopped_because"] = f"placement did not put the rooms on different nodes: {owners}"
            return doc
        by_name = {n.name: n for n in dep.nodes}
        for total in ns.steps:
            shares = [total // n_nodes + (1 if i < total % n_nodes else 0) for i in range(n_nodes)]
            plan = [
                (f"{label}-{room.split(':')[1]}", room, by_name[str(dep.owners[room])], k)
                for room, k in zip(rooms, shares, strict=True)
            ]
            rec: dict[str, Any] = {}
            for attempt in range(1 + ns.retries):
                if attempt:
                    print(f"  step {total}: inconclusive, re-running once", flush=True)
                    await asyncio.sleep(ns.settle)
                print(f"  step {total} bots ({' + '.join(map(str, shares))}) ...", flush=True)
                rec = await _avatar_step(ns, dep, plan, gen_cores, total, tmp)
                rec["attempt"] = attempt + 1
                if rec["verdict"] not in ("inconclusive",):
                    break
            doc["steps"].append(rec)
            _print_step(rec)
            if any(n.proc.poll() is not None for n in dep.nodes):
                doc["stopped_because"] = f"a node died during step {total}"
                break
            if rec["verdict"] != "pass":
                doc["stopped_because"] = f"step {total} missed the SLO ({rec['verdict']})"
                break
            await asyncio.sleep(ns.settle)
        else:
            doc["stopped_because"] = "all steps passed"
    finally:
        await dep.stop()
    passing = [s["bots"] for s in doc["steps"] if s["verdict"] == "pass"]
    doc["held_at_slo"] = max(passing, default=None)
    return doc


def _print_step(rec: dict[str, Any]) -> None:
    sysm = rec.get("system") or {}
    rooms = "; ".join(
        f"{r['label']} p99 {r.get('staleness_p99_ms')} ms cov {r.get('coverage')} err {r.get('errors')}"
        f" gen {'SAT' if r.get('gen_saturated') else 'ok'}"
        for r in rec["rooms"]
    )
    print(
        f"  step {rec['bots']}: {rec['verdict']} | {rooms} | nodes {sysm.get('node_cpu')} % | "
        f"gen {sysm.get('generator_cpu')} % | other {sysm.get('other_cpu')} %"
        + (f" | {'; '.join(rec['notes'])}" if rec["notes"] else ""),
        flush=True,
    )


# -- part 2: chat across processes --------------------------------------------------------------


async def _guest(http: aiohttp.ClientSession, url: str, name: str) -> dict[str, Any]:
    for _ in range(10):
        async with http.post(f"{url}/api/auth/guest", json={"display_name": name}) as r:
            if r.status == 200:
                body = await r.json()
                return {"token": body["token"], "id": body["user"]["id"]}
            if r.status != 429:
                raise RuntimeError(f"guest login: HTTP {r.status} {await r.text()}")
        await asyncio.sleep(1.0)
    raise RuntimeError("guest login: still rate limited")


async def _join(
    http: aiohttp.ClientSession, url: str, token: str, room: str
) -> tuple[SioConnection, asyncio.Task[str], Any, str]:
    """Connect and join ``room``, following at most 3 redirects; the last ack and the URL of
    the node that answered it."""
    path = "/socket.io/"
    for _ in range(4):
        conn = await connect(http, url, token, path=path)
        reader = asyncio.create_task(conn.run())
        ack = await conn.call("join", {"room": room}, 15.0)
        target = redirect_target(ack)
        if target is None:
            return conn, reader, ack, url
        await conn.close()
        await asyncio.wait([reader], timeout=2.0)
        reader.cancel()
        url, path = target
    raise RuntimeError(f"join {room}: redirect loop")


@dataclass
class Party:
    """One user of the chat part: a connection joined to a room, and DMs it received."""

    user_id: str
    conn: SioConnection
    reader: asyncio.Task[str]
    node: str
    got: dict[str, float] = field(default_factory=dict)

    def on_frame(self, frame: bytes, now_ms: float) -> None:
        try:
            data = decode_packet(frame).data
        except ValueError:
            return
        if isinstance(data, list) and len(data) > 1 and data[0] == "chat":
            msg = data[1]
            if isinstance(msg, dict) and msg.get("from", {}).get("user_id") != self.user_id:
                self.got.setdefault(str(msg.get("id")), now_ms)


async def _party(
    http: aiohttp.ClientSession, dep: Deployment, entry: Node, room: str, name: str
) -> Party:
    user = await _guest(http, entry.url, name)
    conn, reader, ack, url = await _join(http, entry.url, user["token"], room)
    if not (isinstance(ack, dict) and ack.get("ok")):
        raise RuntimeError(f"{name} join {room}: {ack!r}")
    node = next((n.name for n in dep.nodes if n.url == url.rstrip("/")), url)
    party = Party(user["id"], conn, reader, node)
    conn.on_frame = party.on_frame
    return party


def _words(rng: random.Random) -> str:
    return " ".join(
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 7)))
        for _ in range(5)
    )


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, max(0, math.ceil(q * len(v)) - 1))], 2)


async def _burst(
    ns: argparse.Namespace, senders: list[Party], receivers: list[Party], nodes: list[Node],
    label: str,
) -> dict[str, Any]:  # fmt: skip
    """Idle window, then ``rounds`` x ``pairs`` DMs; latency and CPU per message."""
    rng = random.Random(zlib.crc32(label.encode()))
    redis_pid = _redis_pid()
    length = float(ns.rounds)
    pids = {n.name: n.pid for n in nodes}
    loadavg = _loadavg()
    # idle: same connections, no messages, as long as the burst
    idle0 = {k: _cpu_s(p) for k, p in pids.items()}
    r_idle0 = _cpu_s(redis_pid) if redis_pid else 0.0
    await asyncio.sleep(length)
    idle = {k: _cpu_s(p) - idle0[k] for k, p in pids.items()}
    r_idle = (_cpu_s(redis_pid) - r_idle0) if redis_pid else 0.0
    sent: dict[str, float] = {}
    ack_ms: list[float] = []
    errors: dict[str, int] = {}
    n = len(senders)
    start = time.monotonic() + 0.2

    async def one(i: int, k: int) -> None:
        await asyncio.sleep(max(0.0, start + k + i / n - time.monotonic()))
        s, r = senders[i], receivers[i]
        t_ms = time.time() * 1000.0
        t = time.perf_counter()
        try:
            ack = await s.conn.call("chat", {"channel": f"dm:{r.user_id}", "text": _words(rng)}, 10.0)
        except (SioError, TimeoutError):
            errors["no_ack"] = errors.get("no_ack", 0) + 1
            return
        if isinstance(ack, dict) and ack.get("ok", True) and "id" in ack:
            sent[str(ack["id"])] = t_ms
            ack_ms.append((time.perf_counter() - t) * 1000.0)
        else:
            err = ack.get("error", {}) if isinstance(ack, dict) else {}
            code = str(err.get("code") if isinstance(err, dict) else err)
            errors[code] = errors.get(code, 0) + 1

    c0 = {k: _cpu_s(p) for k, p in pids.items()}
    r0 = _cpu_s(redis_pid) if redis_pid else 0.0
    await asyncio.gather(*(one(i, k) for k in range(ns.rounds) for i in range(n)))
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:  # bounded wait for the last deliveries
        if sum(1 for p in receivers for m in p.got if m in sent) >= len(sent):
            break
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - (start - 0.2)
    burst = {k: _cpu_s(p) - c0[k] for k, p in pids.items()}
    r_burst = (_cpu_s(redis_pid) - r0) if redis_pid else 0.0
    lat = []
    for p in receivers:
        for mid, at in p.got.items():
            if mid in sent:
                lat.append(at - sent[mid])
    delivered = len(lat)
    scale = elapsed / length
    net = {k: burst[k] - idle[k] * scale for k in pids}
    per_msg = sum(net.values()) * 1000.0 / delivered if delivered else None
    return {
        "scenario": label,
        "loadavg_before": loadavg,
        "messages_sent": len(sent),
        "messages_delivered": delivered,
        "errors": errors,
        "latency_ms": {
            "p50": _quantile(lat, 0.5), "p95": _quantile(lat, 0.95), "p99": _quantile(lat, 0.99),
            "max": round(max(lat), 2) if lat else None,
        },  # fmt: skip
        "ack_ms": {"p50": _quantile(ack_ms, 0.5), "p99": _quantile(ack_ms, 0.99)},
        "burst_s": round(elapsed, 2),
        "node_cpu_ms": {k: round(v * 1000.0, 1) for k, v in burst.items()},
        "node_idle_cpu_ms": {k: round(v * 1000.0 * scale, 1) for k, v in idle.items()},
        "cpu_ms_per_msg": None if per_msg is None else round(per_msg, 3),
        "cpu_ms_per_msg_by_node": {
            k: round(v * 1000.0 / delivered, 3) if delivered else None for k, v in net.items()
        },
        "redis_cpu_ms_per_msg": round((r_burst - r_idle * scale) * 1000.0 / delivered, 3)
        if delivered and redis_pid
        else None,
    }


async def _chat_part(ns: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    quiet = await asyncio.to_thread(_wait_quiet, ns.quiet_wait, ns.quiet_busy)
    doc: dict[str, Any] = {"loadavg_before": _loadavg(), "quiet_wait": quiet, "scenarios": []}
    print(f"\n== part 2: chat, load average {doc['loadavg_before']}, machine busy {quiet}", flush=True)
    timeout = aiohttp.ClientTimeout(total=30)
    # plain: one process, no Redis
    plain = Deployment(ns, "chat-plain", [None if ns.no_pin else "0"], cluster=False, tmp=tmp)
    try:
        await plain.start()
        await plain.place([ROOM_A])
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:
            n1 = plain.nodes[0]
            s = [await _party(http, plain, n1, ROOM_A, f"ps{i}") for i in range(ns.pairs)]
            r = [await _party(http, plain, n1, ROOM_A, f"pr{i}") for i in range(ns.pairs)]
            await asyncio.sleep(1.5)
            res = await _burst(ns, s, r, plain.nodes, "plain process (no Redis)")
            res.update({"nodes": 1, "node_cores": plain.cores})
            doc["scenarios"].append(res)
            _print_chat(res)
            for p in s + r:
                await p.conn.close()
    finally:
        await plain.stop()
    # cluster: senders on n1; receivers on n1 (same node) and on n2 (other node)
    cores: list[str | None] = [None, None] if ns.no_pin else ["0", "1"]
    dep = Deployment(ns, "chat-cluster", cores, cluster=True, tmp=tmp)
    try:
        await dep.start()
        await dep.place([ROOM_A, ROOM_B])
        doc["owners"] = dep.owners
        if dep.owners.get(ROOM_A) == dep.owners.get(ROOM_B):
            doc["stopped_because"] = f"rooms on one node: {dep.owners}"
            return doc
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:
            n1 = dep.nodes[0]
            s = [await _party(http, dep, n1, ROOM_A, f"cs{i}") for i in range(ns.pairs)]
            same = [await _party(http, dep, n1, ROOM_A, f"cr{i}") for i in range(ns.pairs)]
            other = [await _party(http, dep, n1, ROOM_B, f"co{i}") for i in range(ns.pairs)]
            where = {
                "senders": sorted({p.node for p in s}),
                "same": sorted({p.node for p in same}),
                "other": sorted({p.node for p in other}),
            }
            doc["where"] = where
            await asyncio.sleep(2.5)  # presence in Redis settled (heartbeat is 1 s)
            for label, recv in (("cluster, same node", same), ("cluster, other node", other)):
                res = await _burst(ns, s, recv, dep.nodes, label)
                res.update({"nodes": 2, "node_cores": cores, "senders_on": where["senders"],
                            "receivers_on": sorted({p.node for p in recv})})  # fmt: skip
                doc["scenarios"].append(res)
                _print_chat(res)
                await asyncio.sleep(1.0)
            for p in s + same + other:
                await p.conn.close()
    finally:
        await dep.stop()
    return doc


def _print_chat(res: dict[str, Any]) -> None:
    lat = res["latency_ms"]
    print(
        f"  {res['scenario']}: {res['messages_delivered']}/{res['messages_sent']} delivered, "
        f"errors {res['errors']}, latency p50 {lat['p50']} p99 {lat['p99']} ms, "
        f"CPU {res['cpu_ms_per_msg']} ms/msg {res['cpu_ms_per_msg_by_node']}, "
        f"redis {res['redis_cpu_ms_per_msg']} ms/msg",
        flush=True,
    )


# -- report ---------------------------------------------------------------------------------------


def _redis(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if v > 0 else "below noise"


def _step_rows(series: dict[str, Any]) -> list[str]:
    rows = []
    for st in series["steps"]:
        sysm = st.get("system") or {}
        node_cpu = " / ".join(
            f"{k} {_f(v)}" for k, v in (sysm.get("node_cpu") or {}).items()
        )
        node_max = " / ".join(_f(v) for v in (sysm.get("node_cpu_max") or {}).values())
        rooms = [r for r in st["rooms"] if "staleness_p99_ms" in r]
        stale = "<br>".join(
            f"{r['room']}: {_f(r['staleness_p50_ms'])} / {_f(r['staleness_p99_ms'])}" for r in rooms
        )
        cov = " / ".join(_f(r["coverage"], 3) for r in rooms)
        lat = " / ".join(_f(r["latency_p99_ms"]) for r in rooms)
        err = " / ".join(str(r["errors"]) for r in rooms)
        gen_max = " / ".join(
            _f(max((v for k, v in r["gen_cpu_by_proc"].items() if k.startswith("worker")), default=None))
            for r in rooms
        )
        lag = " / ".join(_f(r["gen_loop_lag_p99_ms"]) for r in rooms)
        verdict = st["verdict"]
        if st["generator_saturated"]:
            verdict += " (generator saturated: not evidence)"
        rows.append(
            f"| {st['bots']} | {verdict} | {stale} | {cov} | {lat} | {err} | {node_cpu}"
            f" (max {node_max}) | {_f(sysm.get('generator_cpu'))} | {gen_max} | {lag} |"
            f" {_f(sysm.get('other_cpu'))} | {' '.join(map(str, st['loadavg_before']))} |"
        )
    return rows


def _cpu_line(name: str, series: dict[str, Any], which: str) -> str | None:
    """Where the CPU went at the held step (``which`` = held) or at the first miss."""
    held = series.get("held_at_slo")
    steps = series.get("steps", [])
    st = next((x for x in steps if x["bots"] == held), None) if which == "held" else next(
        (x for x in steps if x["verdict"] != "pass"), None
    )
    sysm = (st or {}).get("system") or {}
    if not sysm:
        return None
    nodes = sysm["node_cpu"]
    total = sum(nodes.values())
    per100 = total / st["bots"] * 100.0
    return (
        f"- {name}, {st['bots']} avatars ({st['verdict']}): nodes {total:.0f} % of a core in all"
        f" ({', '.join(f'{k} {v:.0f}' for k, v in nodes.items())}), {per100:.1f} % per 100"
        f" avatars; generator {sysm['generator_cpu']:.0f} %; other {sysm['other_cpu']:.0f} %;"
        f" machine per core {' / '.join(f'{v:.0f}' for v in sysm['host_cpu_by_core'])} %."
    )


def _reading(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Where the CPU went at the largest passing step and at the first miss of each series."""
    out = [
        line
        for name, series in (("1 node", a), ("2 nodes", b))
        for which in ("held", "miss")
        if series and (line := _cpu_line(name, series, which)) is not None
    ]
    return ["**Where the CPU went** (means over the measured window):", "", *out] if out else []


def write_markdown(doc: dict[str, Any], path: Path) -> None:
    m = doc["machine"]
    a = doc.get("one_node") or {}
    b = doc.get("two_nodes") or {}
    lines = [
        "# Cluster: avatars held by 1 vs 2 processes, and the cost of a cross-process chat message",
        "",
        f"{m['cpus']} × {m['cpu']} · Python {m['python']} · PostgreSQL and Redis on this machine."
        " Runs of `python -m loadtest.bench_cluster` that made these figures:",
        "",
        *(
            f"- {r.get('date')}: `{' '.join(r.get('argv') or []) or '(defaults)'}`"
            f" ({', '.join(r.get('parts') or ['one', 'two', 'chat'])}; server code {r.get('commit') or '?'};"
            f" {_f(r.get('elapsed_s'))} s;"
            f" load average at start {' '.join(map(str, r.get('loadavg_start') or []))})"
            for r in doc.get("runs", [])
        ),
        *(f"- Note: {n}" for n in doc.get("notes", [])),
        "",
        "The machine is shared with other agents' tests and browsers, which come and go. Each"
        " part waits (bounded) for a quiet moment; the \"other\" column is CPU used by processes"
        " that were neither the nodes nor the generator during the measured window (100 = one"
        " core): **a step with much \"other\" CPU is noisy**, and a miss under it is not counted"
        " as evidence. The load average before each part and step is recorded too.",
        "",
        "## 1. Avatars held at the SLO",
        "",
        f"Bots walk at {doc['rate_hz']:g} moves/s, {doc['duration_s']:g} s measured per step "
        "(after a ramp of bots/100 s, at least 3), each step a fresh set of guests. SLO per step, "
        "in every room: view staleness p99 ≤ 250 ms, coverage ≥ 0.95, no errors (as "
        "`bench_avatar_sync`). Both deployments are cluster mode (Redis + PostgreSQL), so the "
        "only difference is the number of nodes.",
        "",
        f"- **1 node** (room `{ROOM_A}`): node on CPU {','.join(map(str, a.get('node_cores') or []))},"
        " generator "
        f"(`metahall-loadtest`, coordinator + 1 worker process) on CPU {a.get('generator_cores')}.",
        f"- **2 nodes**: rooms `{ROOM_A}` and `{ROOM_B}`, placed by the cluster itself (an"
        " anchor guest joined each before the bots; a new room goes to the least-loaded node) and"
        f" read back from Redis `<prefix>:room:<id>`: {b.get('owners')}; n1 on CPU"
        f" {(b.get('node_cores') or [None])[0]}, n2 on CPU {(b.get('node_cores') or [None, None])[-1]};"
        " bots split evenly between the rooms by two concurrent `metahall-loadtest` runs (each"
        f" coordinator + 1 worker) allowed on CPUs {b.get('generator_cores')} — **the generator"
        " shares both cores with the nodes** (a 2-core machine has no third core for it). Both"
        " runs log in at n1; the bots of the room on n2 follow the join redirect there.",
        "",
        f"**Held at the SLO: 1 node {_f(a.get('held_at_slo'))} avatars"
        f" ({a.get('stopped_because', '–')}); 2 nodes {_f(b.get('held_at_slo'))} avatars"
        f" ({b.get('stopped_because', '–')}).**",
        "",
    ]
    head = (
        "| bots (total) | verdict | staleness p50 / p99 ms | coverage | latency p99 ms | errors"
        " | node CPU mean % (max) | generator CPU % (all its processes) | generator worker CPU %"
        " | gen loop lag p99 ms | other CPU % | load avg before |"
    )
    sep = "|---:|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|"
    for title, series in (("1 node", a), ("2 nodes", b)):
        if not series:
            continue
        lines += [
            f"### {title} (run {series.get('date', '?')}; load average before:"
            f" {' '.join(map(str, series.get('loadavg_before', [])))})",
            "",
            head,
            sep,
            *_step_rows(series),
            "",
        ]
        for st in series["steps"]:
            for note in st["notes"]:
                lines.append(f"- step {st['bots']}: {note}")
            for r in st["rooms"]:
                for why in r.get("gen_saturated_because") or []:
                    lines.append(f"- step {st['bots']} {r['label']}: generator saturated: {why}")
        lines.append("")
    lines += [*_reading(a, b), ""]
    if doc.get("reading"):  # the interpretation written for these figures (kept in the JSON)
        lines += [f"**Reading.** {doc['reading']}", ""]
    lines += [
        "Node CPU is each node's process (100 = one core), generator CPU all generator processes"
        " together (coordinators + workers), both averaged over the measured window from psutil"
        " samples each second. A step is *inconclusive* (not evidence either way) when it missed"
        " the SLO while a generator saturated (a worker > 90 % CPU or loop/send lag p99 > 100 ms)"
        f" or other processes used > {CONTENDED_PER_CORE:.0f} % per core; it is re-run"
        " (`--retries`, default once) and the series stops at the first step that is not a pass."
        " With 2 nodes the generator's load lands on the nodes' cores, so the 2-node figure is a"
        " lower bound of what two"
        " processes hold when the bots run elsewhere.",
        "",
    ]
    chat = doc.get("chat") or {}
    if chat:
        lines += [
            "## 2. Cost of a direct message across processes",
            "",
            f"Run {chat.get('date', '?')}; load average before:"
            f" {' '.join(map(str, chat.get('loadavg_before', [])))}. "
            f"{doc['pairs']} senders each send one `chat` `dm:<user_id>` a second to their own "
            f"receiver for {doc['rounds']} s (spread evenly over each second: "
            f"{doc['pairs']} messages/s in all; the flood guard allows 2/s per sender). "
            "Latency: just before the send → the message read from the receiver's WebSocket, both"
            " in the bench process (one clock; the bench's own event loop is included). CPU per"
            " message: `cpu_times` of the node processes over the burst minus their idle CPU with"
            " the same connections over as long a window just before, divided by the messages"
            " delivered. Plain: one process on CPU 0, no Redis (same PostgreSQL). Cluster: n1 on"
            f" CPU 0 and n2 on CPU 1, senders in `{ROOM_A}`, receivers in `{ROOM_A}` (same node)"
            f" or in `{ROOM_B}` (other node); rooms placed {chat.get('owners')}, so connections"
            f" were {chat.get('where')}. The bench client (unpinned) shares the cores.",
            "",
            "| scenario | delivered / sent | errors | latency p50 / p95 / p99 / max ms | ack p50 / p99 ms"
            " | server CPU ms per message (by node) | Redis CPU ms per message | load avg before |",
            "|---|---:|---|---:|---:|---:|---:|---|",
        ]
        for s in chat.get("scenarios", []):
            lat, ack = s["latency_ms"], s["ack_ms"]
            by_node = ", ".join(f"{k} {_f(v, 3)}" for k, v in s["cpu_ms_per_msg_by_node"].items())
            lines.append(
                f"| {s['scenario']} | {s['messages_delivered']} / {s['messages_sent']} |"
                f" {s['errors'] or 0} | {_f(lat['p50'], 1)} / {_f(lat['p95'], 1)} /"
                f" {_f(lat['p99'], 1)} / {_f(lat['max'], 1)} | {_f(ack['p50'], 1)} /"
                f" {_f(ack['p99'], 1)} | {_f(s['cpu_ms_per_msg'], 2)} ({by_node}) |"
                f" {_redis(s['redis_cpu_ms_per_msg'])} | {' '.join(map(str, s['loadavg_before']))} |"
            )
        lines += [
            "",
            "In cluster mode every DM is addressed to the user's Socket.IO room `u:<id>` through"
            " python-socketio's `AsyncRedisManager`: the sending node delivers to its own"
            " connections at once and publishes the emit on Redis (two emits per DM: the"
            " receiver and the sender's own copy); every node reads every publish and delivers"
            " to its local members. Before that the sending node asks Redis whether the"
            " receiver is online (one pipelined round trip) when the receiver is not local."
            " Redis CPU is of the machine's shared `redis-server` (other agents use it too).",
            "",
        ]
    if doc.get("errors"):
        lines += ["## Problems", ""] + [f"- {e}" for e in doc["errors"]] + [""]
    path.write_text("\n".join(lines))


def plot(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax3) = plt.subplots(1, 2, figsize=(12, 4.8))
    colours = {"pass": "tab:green", "fail": "tab:red", "inconclusive": "tab:orange"}
    ax2 = ax.twinx()
    for key, style, name in (("one_node", "-", "1 node"), ("two_nodes", "--", "2 nodes")):
        series = doc.get(key) or {}
        steps = [s for s in series.get("steps", []) if any("staleness_p99_ms" in r for r in s["rooms"])]
        if not steps:
            continue
        x = [s["bots"] for s in steps]
        y = [max(r.get("staleness_p99_ms") or 0 for r in s["rooms"]) for s in steps]
        ax.plot(x, y, style, color="tab:blue", label=f"{name}: staleness p99 (worst room)")
        for xi, yi, s in zip(x, y, steps, strict=True):
            ax.scatter([xi], [yi], color=colours.get(s["verdict"], "k"), zorder=3)
        cpu = [sum((s.get("system") or {}).get("node_cpu", {}).values()) for s in steps]
        ax2.plot(x, cpu, style, color="tab:purple", label=f"{name}: node CPU, all nodes (%)")
    ax.axhline(250, color="tab:red", linewidth=0.8, label="SLO staleness p99")
    ax.set_xlabel("bots (avatars, total)")
    ax.set_ylabel("view staleness p99 (ms)")
    worst = [max(r.get("staleness_p99_ms") or 0 for r in st["rooms"])
             for k in ("one_node", "two_nodes") for st in (doc.get(k) or {}).get("steps", [])
             if st["rooms"]]  # fmt: skip
    if max(worst, default=0) > 1000:
        ax.set_yscale("log")
    ax2.set_ylabel("CPU of the nodes (% of one core)")
    ax2.set_ylim(0, 220)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="best")
    a, b = doc.get("one_node") or {}, doc.get("two_nodes") or {}
    held_a = a.get("held_at_slo") or "not established"
    held_b = b.get("held_at_slo") or "not established"
    ax.set_title(
        f"avatars held at the SLO: 1 node {held_a}, 2 nodes {held_b}"
        " (green pass, red fail, orange inconclusive)",
        fontsize=9,
    )
    ax.grid(True, linewidth=0.3)
    scen = (doc.get("chat") or {}).get("scenarios", [])
    if scen:
        labels = [s["scenario"].replace(", ", ",\n").replace(" (", "\n(") for s in scen]
        p50 = [s["latency_ms"]["p50"] or 0 for s in scen]
        p99 = [s["latency_ms"]["p99"] or 0 for s in scen]
        xs = range(len(scen))
        ax3.bar([i - 0.2 for i in xs], p50, 0.4, label="latency p50 (ms)", color="tab:blue")
        ax3.bar([i + 0.2 for i in xs], p99, 0.4, label="latency p99 (ms)", color="tab:cyan")
        ax3.set_xticks(list(xs), labels, fontsize=8)
        ax3.set_ylabel("DM latency send → receipt (ms)")
        ax4 = ax3.twinx()
        ax4.plot(list(xs), [s["cpu_ms_per_msg"] or 0 for s in scen], "o-", color="tab:purple",
                 label="server CPU ms / message")  # fmt: skip
        ax4.set_ylabel("server CPU per message (ms)")
        ax4.set_ylim(0, max([1.0] + [(s["cpu_ms_per_msg"] or 0) * 1.3 for s in scen]))
        h1, l1 = ax3.get_legend_handles_labels()
        h2, l2 = ax4.get_legend_handles_labels()
        ax3.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left")
        ax3.set_title("direct message: plain vs cluster same node vs other node", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# -- main -----------------------------------------------------------------------------------------


async def run_bench(ns: argparse.Namespace) -> dict[str, Any]:
    out = Path(ns.out)
    tmp = out / "tmp" / "cluster"
    tmp.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()
    base: dict[str, Any] = {}
    if ns.update and (out / "cluster.json").exists():
        base = json.loads((out / "cluster.json").read_text())
    run = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "argv": ns.argv,
           "parts": sorted(ns.parts), "loadavg_start": _loadavg(), "commit": server_commit()}  # fmt: skip
    doc: dict[str, Any] = {
        "bench": "cluster",
        "date": run["date"],
        "argv": ns.argv,
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "loadavg_start": _loadavg(),
        "rate_hz": ns.rate,
        "duration_s": ns.duration,
        "steps": ns.steps,
        "pairs": ns.pairs,
        "rounds": ns.rounds,
        "slo": {"staleness_p99_ms": 250, "coverage_min": 0.95, "errors": 0},
        "errors": [],
    }
    if base:
        kept = {k: base[k] for k in ("one_node", "two_nodes", "chat") if k in base}
        for key, part in (("one_node", "one"), ("two_nodes", "two"), ("chat", "chat")):
            if part in ns.parts:
                kept.pop(key, None)
        runs = base.get("runs") or [{k: base.get(k) for k in ("date", "argv", "loadavg_start",
                                                                "elapsed_s")}]  # fmt: skip
        for part in kept.values():
            part.setdefault("date", base.get("date"))
        doc.update(kept)
        doc["runs"] = runs
        doc["errors"] = [e for e in base.get("errors", [])]
        doc["notes"] = list(base.get("notes", []))
        if base.get("reading") and {"one", "two"}.isdisjoint(ns.parts):
            doc["reading"] = base["reading"]
    doc.setdefault("runs", []).append(run)
    try:
        for key, n, part in (("one_node", 1, "one"), ("two_nodes", 2, "two")):
            if part in ns.parts:
                try:
                    doc[key] = await _avatar_series(ns, f"{n}node", n, tmp)
                    doc[key]["date"] = run["date"]
                except (RuntimeError, OSError, SioError) as exc:
                    doc["errors"].append(f"{run['date']} part 1, {n} node(s): {exc}")
                    print(f"part 1 ({n} nodes) failed: {exc}", flush=True)
                await asyncio.sleep(ns.settle)
        if "chat" in ns.parts:
            try:
                doc["chat"] = await _chat_part(ns, tmp)
                doc["chat"]["date"] = run["date"]
            except (RuntimeError, OSError, SioError, TimeoutError) as exc:
                doc["errors"].append(f"{run['date']} part 2: {exc!r}")
                print(f"part 2 failed: {exc!r}", flush=True)
    finally:
        doc["elapsed_s"] = run["elapsed_s"] = round(time.monotonic() - t_start, 1)
        used = {doc[k].get("date") for k in ("one_node", "two_nodes", "chat") if k in doc}
        doc["runs"] = [r for r in doc["runs"] if r is run or r.get("date") in used]
        await asyncio.to_thread(_write, doc, out)
    return doc


def _write(doc: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "cluster.json").write_text(json.dumps(doc, indent=1) + "\n")
    write_markdown(doc, out / "cluster.md")
    try:
        plot(doc, out / "cluster.png")
    except Exception as exc:  # the figures are in the .md and .json anyway
        print(f"plot failed: {exc!r}", file=sys.stderr)


async def _services_missing(ns: argparse.Namespace) -> str:
    """Why the bench cannot run here ("" when Redis and PostgreSQL answer)."""
    import asyncpg
    import redis.asyncio as aioredis

    r = aioredis.Redis.from_url(ns.redis_url, socket_connect_timeout=3)
    try:
        await r.ping()
    except (aioredis.RedisError, OSError) as exc:
        return f"Redis at {ns.redis_url} not reachable ({exc})"
    finally:
        await r.aclose()
    host, _, port = ns.pg.partition(":")
    try:
        conn = await asyncpg.connect(host=host, port=int(port or 5432), user="postgres",
                                     database="postgres", timeout=3)  # fmt: skip
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL at {ns.pg} not reachable ({exc})"
    await conn.close()
    return ""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m loadtest.bench_cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--steps", default="100,250,375,500,625,750,1000", help="total bots per step")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds per step")
    p.add_argument("--rate", type=float, default=10.0, help="moves per bot per second")
    p.add_argument("--retries", type=int, default=1, help="re-runs of an inconclusive step (1)")
    p.add_argument("--settle", type=float, default=3.0, help="pause between steps, s")
    p.add_argument("--pairs", type=int, default=40, help="DM senders (and receivers) (40)")
    p.add_argument("--rounds", type=int, default=8, help="DMs per sender, one a second (8)")
    p.add_argument("--parts", default="one,two,chat",
                   help="one (1 node), two (2 nodes), chat; avatars = one,two (all three)")
    p.add_argument("--update", action="store_true",
                   help="keep the parts not run from the existing <out>/cluster.json (re-run one"
                        " part that a busy machine spoiled)")  # fmt: skip
    p.add_argument("--quiet-wait", type=float, default=60.0,
                   help="before each part, wait at most this many s for a quieter machine (60)")
    p.add_argument("--step-quiet-wait", type=float, default=20.0,
                   help="the same before each step, at most this many s (20)")  # fmt: skip
    p.add_argument("--quiet-busy", type=float, default=50.0,
                   help="... until all cores together are at most this %% busy (50)")  # fmt: skip
    p.add_argument("--redis-url", default=os.environ.get("METAHALL_BENCH_REDIS_URL",
                                                         "redis://127.0.0.1:6379/0"))
    p.add_argument("--pg", default=os.environ.get("METAHALL_BENCH_PG", "127.0.0.1:5432"),
                   help="PostgreSQL host:port, user postgres without password")  # fmt: skip
    p.add_argument("--no-pin", action="store_true", help="no taskset")
    p.add_argument("--out", default=str(REPO / "bench" / "results"))
    ns = p.parse_args(argv)
    ns.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        ns.steps = [int(s) for s in ns.steps.split(",") if s.strip()]
    except ValueError:
        p.error("--steps is a comma-separated list of integers")
    ns.parts = {x.strip() for x in ns.parts.replace("avatars", "one,two").split(",") if x.strip()}
    if not ns.parts or not ns.parts <= {"one", "two", "chat"} or ns.pairs < 1 or ns.rounds < 1:
        p.error("--parts is a list of one, two, chat (avatars = one,two); --pairs, --rounds >= 1")
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        ns.no_pin = True
        print("fewer than 2 CPUs or no taskset: not pinning", file=sys.stderr)
    missing = asyncio.run(_services_missing(ns))
    if missing:
        print(f"bench_cluster skipped: {missing} (cluster mode needs both)", file=sys.stderr)
        return 0
    doc = asyncio.run(run_bench(ns))
    a, b = doc.get("one_node") or {}, doc.get("two_nodes") or {}
    print(f"\nheld at the SLO: 1 node {a.get('held_at_slo')}, 2 nodes {b.get('held_at_slo')}")
    print(f"wrote {ns.out}/cluster.json, .md and .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
