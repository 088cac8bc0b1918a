"""kill -9 chaos: acknowledged writes survive a SIGKILL of the server at a random moment.

Starts a real ``metahall serve`` process (own data directory, free loopback port; SQLite by
default, PostgreSQL with ``--database-url``), then, round after round:

* many clients act at once over Socket.IO: citizens take numbers (``queue.take``), staff call
  and finish them (``counter.next`` / ``counter.finish``), citizens rate the service
  (``ticket.rate``), visitors share their contact with booths (``lead.share`` with consent),
  users file reports (``report``) and a moderator warns users (``mod.action``) -- reports and
  actions append to the hash-chained audit log;
* every write the server ACKNOWLEDGED is recorded (ticket id and number, call, finish, rating,
  lead id, report id, action id and its audit seq);
* after a seeded random delay the server gets SIGKILL mid-traffic, and is started again on the
  same data;
* then every acknowledged item must be there: tickets with their numbers (no number given
  twice), called/finished tickets not back in the queue, waiting tickets in their queue order
  (each citizen's ``queue.mine`` after the restart: same number, positions in number order),
  ratings, leads, reports, moderator actions, and an audit entry for each report and action,
  with ``metahall audit verify`` passing over the whole chain.

Usage::

    python -m loadtest.chaos --rounds 30 --seed 1 [--database-url URL | --postgres HOST:PORT] \\
        [--out bench/results/chaos.json]

One progress line per round; the JSON summary (rounds, writes acknowledged, kill points, items
lost -- must be 0 --, restart times) goes to ``--out`` and standard output. Exit status 1 when
anything acknowledged was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from .sysmon import free_port

__all__ = ["ChaosConfig", "run_chaos", "main"]

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "chaos-pass-1"
REASONS = ("spam", "harassment", "other")


@dataclass
class ChaosConfig:
    rounds: int = 3
    seed: int = 1
    database_url: str | None = None
    citizens: int = 24
    staff: int = 4
    visitors: int = 8
    reporters: int = 6
    kill_after_s: tuple[float, float] = (0.8, 3.0)
    """Uniform range of the delay from the start of a round's traffic to the SIGKILL."""
    data_dir: Path | None = None
    quiet: bool = False


@dataclass
class Ledger:
    """Everything the server acknowledged, across rounds."""

    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    """ticket id -> {number, service_id, user_id, state: waiting|called|done}"""
    ratings: dict[str, int] = field(default_factory=dict)
    leads: dict[str, tuple[str, str]] = field(default_factory=dict)
    """lead id -> (booth id, user id)"""
    reports: set[str] = field(default_factory=set)
    actions: dict[str, int] = field(default_factory=dict)
    """moderator action id -> its audit seq"""
    acked: int = 0
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def ack(self) -> None:
        self.acked += 1


# -- the server process ---------------------------------------------------------------------
class ServerProc:
    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        self.data_dir = data_dir
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("METAHALL_")},
            "METAHALL_DATA_DIR": str(data_dir), "METAHALL_LOG_LEVEL": "WARNING",
            "METAHALL_GUEST_LOGINS_PER_MINUTE": "1000000",
            "METAHALL_LOGIN_ATTEMPTS_PER_MINUTE": "10000", "METAHALL_UVLOOP": "0",
            "PYTHONPATH": str(ROOT),
        }
        if database_url:
            self.env["METAHALL_DATABASE_URL"] = database_url
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None
        self.log = data_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def setup_accounts(self, staff: int) -> None:
        """Staff and moderator accounts before the first start (what ``metahall user add``
        does), in this process: no second Python start-up."""
        from server.app import App
        from server.settings import Settings

        app = App(Settings.from_env(self.env))
        try:
            await app.db.migrate()
            await app.accounts.register("chaos-mod", PASSWORD, "chaos-mod", roles="moderator")
            for i in range(staff):
                await app.accounts.register(f"chaos-staff{i:02d}", PASSWORD, f"staff{i}",
                                            roles="staff")
        finally:
            await app.db.close()

    async def start(self) -> float:
        """Start ``metahall serve``; the seconds until ``/healthz`` answers."""
        t0 = time.perf_counter()
        fh = self.log.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port",
            str(self.port), env=self.env, cwd=str(ROOT), stdout=fh, stderr=fh)
        fh.close()
        async with aiohttp.ClientSession() as http:
            for _ in range(1200):  # at most ~120 s
                if self.proc.returncode is not None:
                    raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
                try:
                    async with http.get(f"{self.url}/healthz",
                                        timeout=aiohttp.ClientTimeout(total=2)) as r:
                        if r.status == 200:
                            return time.perf_counter() - t0
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"server not ready: {self.log.read_text()[-3000:]}")

    async def kill9(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                await self.kill9()


# -- clients ---------------------------------------------------------------------------------
class Bot:
    latency: dict[str, list[float]] = defaultdict(list)
    """event -> ack round trips (s), over every bot of the run."""

    def __init__(self, token: str, user_id: str) -> None:
        self.token = token
        self.user_id = user_id
        self.sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)

    async def connect(self, url: str) -> None:
        await self.sio.connect(url, auth={"token": self.token}, transports=["websocket"],
                               wait_timeout=10)

    async def call(self, event: str, data: Any) -> dict[str, Any]:
        t0 = time.perf_counter()
        ack = await self.sio.call(event, data, timeout=10)
        if len(Bot.latency[event]) < 100_000:
            Bot.latency[event].append(time.perf_counter() - t0)
        return ack if isinstance(ack, dict) else {"ok": False, "error": {"code": "bad_ack"}}

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.sio.disconnect(), 3)
        except Exception:  # the server may be dead: nothing to say goodbye to
            pass


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(url, json=body) as r:
        data = await r.json()
        if r.status != 200:
            raise RuntimeError(f"{url}: {r.status} {data}")
        return dict(data)


class Round:
    """One round of traffic against a running server."""

    def __init__(self, cfg: ChaosConfig, srv: ServerProc, ledger: Ledger, rng: random.Random,
                 services: list[str], counters: list[dict[str, Any]], booths: list[str],
                 index: int) -> None:
        self.cfg, self.srv, self.ledger, self.rng = cfg, srv, ledger, rng
        self.services, self.counters, self.booths = services, counters, booths
        self.index = index
        self.bots: list[Bot] = []
        self.citizens: dict[str, Bot] = {}
        self.finished: dict[str, asyncio.Event] = {}
        self.owner: dict[str, str] = {}

    def err(self, what: str, ack: dict[str, Any] | None = None) -> None:
        code = ack.get("error", {}).get("code", "?") if ack else "exception"
        self.ledger.errors[f"{what}:{code}"] += 1

    async def connect_all(self, http: aiohttp.ClientSession) -> tuple[list[Bot], list[Bot],
                                                                       list[Bot], Bot]:
        url = self.srv.url

        async def guest(name: str) -> Bot:
            body = await _post(http, f"{url}/api/auth/guest", {"display_name": name})
            return Bot(body["token"], body["user"]["id"])

        async def login(name: str) -> Bot:
            body = await _post(http, f"{url}/api/auth/login",
                               {"username": name, "password": PASSWORD})
            return Bot(body["token"], body["user"]["id"])

        r, c = self.index, self.cfg
        citizens = list(await asyncio.gather(*(guest(f"r{r}c{i}") for i in range(c.citizens))))
        visitors = list(await asyncio.gather(*(guest(f"r{r}v{i}") for i in range(c.visitors))))
        reporters = list(await asyncio.gather(*(guest(f"r{r}p{i}") for i in range(c.reporters))))
        staff = list(await asyncio.gather(*(login(f"chaos-staff{i:02d}") for i in range(c.staff))))
        mod = await login("chaos-mod")
        self.bots = [*citizens, *visitors, *reporters, *staff, mod]
        await asyncio.gather(*(b.connect(url) for b in self.bots))
        self.citizens = {b.user_id: b for b in citizens}
        return citizens, visitors + reporters, staff, mod

    # -- behaviours ----------------------------------------------------------------------------
    async def citizen(self, bot: Bot) -> None:
        led = self.ledger
        for _ in range(1000):
            svc = self.rng.choice(self.services)
            ack = await bot.call("queue.take", {"service_id": svc})
            if not ack.get("ok"):
                self.err("take", ack)
                await asyncio.sleep(0.05)
                continue
            t = ack["ticket"]
            led.ack()
            led.tickets[t["id"]] = {"number": t["number"], "service_id": svc,
                                    "user_id": bot.user_id, "state": "waiting"}
            done = self.finished.setdefault(t["id"], asyncio.Event())
            self.owner[t["id"]] = bot.user_id
            await done.wait()
            score = self.rng.randint(1, 5)
            ack = await bot.call("ticket.rate", {"ticket_id": t["id"], "score": score,
                                                 "comment": "chaos"})
            if ack.get("ok"):
                led.ack()
                led.ratings[t["id"]] = score
            else:
                self.err("rate", ack)

    async def staff(self, bot: Bot, counter: dict[str, Any]) -> None:
        led, cid = self.ledger, counter["id"]
        ack = await bot.call("counter.open", {"counter_id": cid})
        if not ack.get("ok"):
            self.err("open", ack)
        for _ in range(100_000):
            ack = await bot.call("counter.next", {"counter_id": cid})
            if not ack.get("ok"):
                self.err("next", ack)
                state = await bot.call("counter.state", {"counter_id": cid})
                cur = None
                for c in state.get("counters", []) if state.get("ok") else []:
                    cur = c.get("current")
                if isinstance(cur, dict) and cur.get("id"):
                    await self._finish(bot, cur["id"])
                else:
                    await asyncio.sleep(0.1)
                continue
            t = ack.get("ticket")
            if not t:
                await asyncio.sleep(0.02)
                continue
            led.ack()
            if t["id"] in led.tickets and led.tickets[t["id"]]["state"] == "waiting":
                led.tickets[t["id"]]["state"] = "called"
            await asyncio.sleep(self.rng.uniform(0.0, 0.03))
            await self._finish(bot, t["id"])

    async def _finish(self, bot: Bot, ticket_id: str) -> None:
        ack = await bot.call("counter.finish", {"ticket_id": ticket_id, "outcome": "served"})
        if not ack.get("ok"):
            self.err("finish", ack)
            return
        self.ledger.ack()
        if ticket_id in self.ledger.tickets:
            self.ledger.tickets[ticket_id]["state"] = "done"
        ev = self.finished.get(ticket_id)
        if ev is not None:
            ev.set()

    async def visitor(self, bot: Bot) -> None:
        led = self.ledger
        booths = list(self.booths)
        self.rng.shuffle(booths)
        for booth in booths:
            lang = self.rng.choice(("zh-CN", "en"))
            ack = await bot.call("lead.share", {
                "booth_id": booth, "consent": True, "lang": lang,
                "contact": {"email": f"{bot.user_id}@example.org"}})
            if ack.get("ok"):
                led.ack()
                led.leads[ack["lead"]["id"]] = (booth, bot.user_id)
            else:
                self.err("lead", ack)
            await self.reporter_turn(bot)

    async def reporter_turn(self, bot: Bot) -> None:
        targets = [u for u in self.citizens if u != bot.user_id]
        if not targets:
            return
        ack = await bot.call("report", {"user_id": self.rng.choice(targets),
                                        "reason": f"chaos report {self.rng.random():.6f}"})
        if ack.get("ok"):
            self.ledger.ack()
            self.ledger.reports.add(ack["report_id"])
        else:
            self.err("report", ack)

    async def reporter(self, bot: Bot) -> None:
        for _ in range(10_000):
            await self.reporter_turn(bot)

    async def moderator(self, bot: Bot) -> None:
        for _ in range(10_000):
            target = self.rng.choice(list(self.citizens))
            ack = await bot.call("mod.action", {"action": "warn", "user_id": target,
                                                "reason": self.rng.choice(REASONS),
                                                "note": "chaos warning"})
            if ack.get("ok"):
                self.ledger.ack()
                a = ack["action"]
                self.ledger.actions[a["id"]] = int(a["audit_seq"])
            else:
                self.err("mod", ack)

    async def run_until_kill(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        citizens, others, staff, mod = await self.connect_all(http)
        visitors = others[: self.cfg.visitors]
        reporters = others[self.cfg.visitors:]
        workers = [asyncio.create_task(self.citizen(b)) for b in citizens]
        workers += [asyncio.create_task(self.staff(b, self.counters[i % len(self.counters)]))
                    for i, b in enumerate(staff)]
        workers += [asyncio.create_task(self.visitor(b)) for b in visitors]
        workers += [asyncio.create_task(self.reporter(b)) for b in reporters]
        workers.append(asyncio.create_task(self.moderator(mod)))
        before = self.ledger.acked
        delay = self.rng.uniform(*self.cfg.kill_after_s)
        await asyncio.sleep(delay)
        acked_at_kill = self.ledger.acked
        await self.srv.kill9()
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await asyncio.gather(*(b.close() for b in self.bots))
        return {"kill_after_s": round(delay, 3), "acked": self.ledger.acked - before,
                "acked_at_kill": acked_at_kill - before}


# -- verification ----------------------------------------------------------------------------
async def verify_chain_of(srv: ServerProc, db_url: str) -> Any:
    """The audit chain check of ``metahall audit verify`` (same function, same key from the
    data directory's secret), without starting another Python for it."""
    from server.db.engine import Database
    from server.moderation_audit import audit_key, verify_audit
    from server.settings import Settings

    settings = Settings.from_env(srv.env)
    db = Database(db_url)
    try:
        return await verify_audit(db, audit_key(settings.load_secret()), None)
    finally:
        await db.close()


async def verify(srv: ServerProc, db_url: str, ledger: Ledger,
                 bots_by_user: dict[str, str]) -> dict[str, Any]:
    """Compare the ledger with the database and the restarted server. Returns lost items."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    lost: dict[str, list[Any]] = defaultdict(list)
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT id, number, service_id, user_id, status, day, seq, priority, sort_key "
                "FROM hall_tickets"))).all()
            tickets = {r.id: r for r in rows}
            ratings = {r.ticket_id: r.score for r in (await conn.execute(text(
                "SELECT ticket_id, score FROM hall_ratings"))).all()}
            leads = {r.id: (r.booth_id, r.user_id) for r in (await conn.execute(text(
                "SELECT id, booth_id, user_id FROM expo_leads"))).all()}
            reports = {r.id for r in (await conn.execute(text("SELECT id FROM reports"))).all()}
            actions = {r.id: r.audit_seq for r in (await conn.execute(text(
                "SELECT id, audit_seq FROM mod_actions"))).all()}
            audit = (await conn.execute(text("SELECT seq, action, data FROM audit_log"))).all()
    finally:
        await engine.dispose()
    seen_numbers: dict[tuple[str, str, int], str] = {}
    for r in tickets.values():
        key = (r.service_id, r.day, r.seq)
        if key in seen_numbers:
            lost["duplicate_number"].append(r.number)
        seen_numbers[key] = r.id
    for tid, t in ledger.tickets.items():
        row = tickets.get(tid)
        if row is None or row.number != t["number"] or row.service_id != t["service_id"] \
                or row.user_id != t["user_id"]:
            lost["tickets"].append(tid)
        elif t["state"] == "called" and row.status == "waiting":
            lost["calls"].append(tid)
        elif t["state"] == "done" and row.status != "done":
            lost["finishes"].append(tid)
    lost["ratings"] = [k for k, v in ledger.ratings.items() if ratings.get(k) != v]
    lost["leads"] = [k for k, v in ledger.leads.items() if leads.get(k) != v]
    lost["reports"] = [k for k in ledger.reports if k not in reports]
    lost["actions"] = [k for k, seq in ledger.actions.items() if actions.get(k) != seq]
    audited_reports, audited_actions = set(), {}
    for a in audit:
        data = json.loads(a.data or "{}")
        if a.action == "report" and data.get("report_id"):
            audited_reports.add(data["report_id"])
        if data.get("action_id"):
            audited_actions[data["action_id"]] = a.seq
    lost["audit_reports"] = [k for k in ledger.reports if k not in audited_reports]
    lost["audit_actions"] = [k for k, seq in ledger.actions.items()
                             if audited_actions.get(k) != seq]
    chain = await verify_chain_of(srv, db_url)  # what ``metahall audit verify`` runs
    if not chain.ok:
        lost["audit_chain"].append(f"seq {chain.first_bad_seq}: {chain.problem}")
    # Queue order as the restarted server sees it: each waiting citizen's number and position.
    waiting = [(tid, t) for tid, t in ledger.tickets.items()
               if t["state"] == "waiting" and tid in tickets and tickets[tid].status == "waiting"
               and t["user_id"] in bots_by_user]
    # The stored queue order (the hall's own: priority, then sort key, then number).
    expected: dict[str, int] = {}
    queues: dict[str, list[Any]] = defaultdict(list)
    for r in tickets.values():
        if r.status == "waiting":
            queues[r.service_id].append(r)
    for rows_ in queues.values():
        rows_.sort(key=lambda r: (-r.priority, r.sort_key, r.seq, r.id))
        expected.update({r.id: i + 1 for i, r in enumerate(rows_)})

    async def mine(user_id: str, token: str) -> list[dict[str, Any]]:
        bot = Bot(token, user_id)
        await bot.connect(srv.url)
        try:
            ack = await bot.call("queue.mine", {})
            return list(ack.get("tickets", [])) if ack.get("ok") else []
        finally:
            await bot.close()

    users = sorted({t["user_id"] for _, t in waiting})
    gate = asyncio.Semaphore(8)

    async def one(u: str) -> tuple[str, list[dict[str, Any]]]:
        async with gate:
            return u, await mine(u, bots_by_user[u])

    views = dict(await asyncio.gather(*(one(u) for u in users)))
    order_checked = 0
    for tid, t in waiting:
        got = [m for m in views.get(t["user_id"], []) if m.get("id") == tid]
        if not got or got[0].get("number") != t["number"]:
            lost["queue_entries"].append(tid)
            continue
        order_checked += 1
        if got[0].get("position") != expected.get(tid):
            lost["queue_order"].append((tid, got[0].get("position"), expected.get(tid)))
    return {"lost": {k: v for k, v in lost.items() if v},
            "lost_count": sum(len(v) for v in lost.values()),
            "queue_positions_checked": order_checked, "audit_entries": len(audit)}


# -- the run ---------------------------------------------------------------------------------
async def _catalogue(srv: ServerProc, db_url: str) -> tuple[list[str], list[dict[str, Any]],
                                                           list[str]]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{srv.url}/api/hall/counters") as r:
            counters = [c for c in await r.json() if c.get("active", True)]
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            booths = [r.id for r in (await conn.execute(text(
                "SELECT id FROM expo_booths ORDER BY id"))).all()]
    finally:
        await engine.dispose()
    counters = [c for c in counters if c.get("services")]
    services = sorted({s for c in counters for s in c["services"]})
    return services, counters, booths


async def run_chaos(cfg: ChaosConfig) -> dict[str, Any]:
    rng = random.Random(cfg.seed)
    own_dir = cfg.data_dir is None
    data_dir = cfg.data_dir or Path(tempfile.mkdtemp(prefix="metahall-chaos-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    srv = ServerProc(data_dir, cfg.database_url)
    db_url = cfg.database_url or f"sqlite+aiosqlite:///{(data_dir / 'metahall.db').resolve()}"
    ledger = Ledger()
    tokens: dict[str, str] = {}
    rounds: list[dict[str, Any]] = []
    say = (lambda *_: None) if cfg.quiet else (lambda *a: print(*a, flush=True))
    try:
        await srv.setup_accounts(cfg.staff)
        first_start = await srv.start()
        services, counters, booths = await _catalogue(srv, db_url)
        counters = counters[: cfg.staff]
        say(f"chaos: server {srv.url} db={'postgresql' if cfg.database_url else 'sqlite'} "
            f"start {first_start:.2f} s; {len(services)} services, {len(counters)} counters, "
            f"{len(booths)} booths")
        async with aiohttp.ClientSession() as http:
            for i in range(cfg.rounds):
                rnd = Round(cfg, srv, ledger, rng, services, counters, booths, i)
                info = await rnd.run_until_kill(http)
                tokens.update({b.user_id: b.token for b in rnd.bots})
                restart_s = await srv.start()
                check = await verify(srv, db_url, ledger, tokens)
                info.update({"round": i + 1, "restart_s": round(restart_s, 3),
                             "lost": check["lost"], "lost_count": check["lost_count"],
                             "queue_positions_checked": check["queue_positions_checked"],
                             "audit_entries": check["audit_entries"],
                             "audit_chain_ok": not check["lost"].get("audit_chain")})
                rounds.append(info)
                say(f"round {i + 1}/{cfg.rounds}: killed after {info['kill_after_s']:.2f} s, "
                    f"{info['acked']} writes acked this round ({ledger.acked} total), "
                    f"restart {restart_s:.2f} s, {check['queue_positions_checked']} queue "
                    f"positions checked, audit {check['audit_entries']} entries, "
                    f"lost {check['lost_count']}")
        await srv.stop()
    finally:
        await srv.kill9()
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    restarts = [r["restart_s"] for r in rounds]
    return {
        "database": "postgresql" if cfg.database_url else "sqlite",
        "seed": cfg.seed, "rounds": len(rounds),
        "clients": {"citizens": cfg.citizens, "staff": cfg.staff, "visitors": cfg.visitors,
                    "reporters": cfg.reporters, "moderators": 1},
        "writes_acknowledged": ledger.acked,
        "acknowledged": {"tickets": len(ledger.tickets),
                         "calls": sum(1 for t in ledger.tickets.values() if t["state"] != "waiting"),
                         "finishes": sum(1 for t in ledger.tickets.values() if t["state"] == "done"),
                         "ratings": len(ledger.ratings), "leads": len(ledger.leads),
                         "reports": len(ledger.reports), "mod_actions": len(ledger.actions)},
        "kill_points_s": [r["kill_after_s"] for r in rounds],
        "items_lost": sum(r["lost_count"] for r in rounds),
        "restart_s": {"min": min(restarts, default=0.0), "max": max(restarts, default=0.0),
                      "mean": round(sum(restarts) / len(restarts), 3) if restarts else 0.0},
        "refused_or_failed_calls": dict(sorted(ledger.errors.items())),
        "ack_ms_p50": {k: round(sorted(v)[len(v) // 2] * 1000, 1)
                       for k, v in sorted(Bot.latency.items()) if v},
        "per_round": rounds,
    }


async def _with_fresh_postgres(cfg: ChaosConfig, host: str) -> dict[str, Any]:
    """Run on a throw-away PostgreSQL database (created here, dropped afterwards)."""
    import uuid

    import asyncpg

    h, _, port = host.partition(":")
    user = os.environ.get("METAHALL_TEST_PG_USER", "postgres")
    name = "metahall_chaos_" + uuid.uuid4().hex[:10]
    admin = await asyncpg.connect(host=h, port=int(port or 5432), user=user, database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    cfg.database_url = f"postgresql+asyncpg://{user}@{h}:{port or 5432}/{name}"
    try:
        return await run_chaos(cfg)
    finally:
        admin = await asyncpg.connect(host=h, port=int(port or 5432), user=user,
                                      database="postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loadtest.chaos", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database-url", default=None)
    p.add_argument("--postgres", default=None, metavar="HOST[:PORT]",
                   help="run on a throw-away database on this PostgreSQL server "
                        "(user METAHALL_TEST_PG_USER, default postgres), dropped afterwards")
    p.add_argument("--citizens", type=int, default=24)
    p.add_argument("--staff", type=int, default=4)
    p.add_argument("--out", default=None, help="write the JSON summary here too")
    args = p.parse_args(argv)
    cfg = ChaosConfig(rounds=max(1, min(1000, args.rounds)), seed=args.seed,
                      database_url=args.database_url, citizens=args.citizens, staff=args.staff)
    if args.postgres and not args.database_url:
        summary = asyncio.run(_with_fresh_postgres(cfg, args.postgres))
    else:
        summary = asyncio.run(run_chaos(cfg))
    text = json.dumps(summary, indent=2, ensure_ascii=False)
    short = {k: v for k, v in summary.items() if k != "per_round"}
    print(json.dumps(short, indent=2, ensure_ascii=False))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0 if summary["items_lost"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
