"""What moderation adds to a chat message: hooks on vs off, with 10,000 terms.

    python -m loadtest.bench_moderation                 # both parts, writes bench/results/
    python -m loadtest.bench_moderation --skip-e2e      # only the in-process part

Part 1, in process (precise): the server's ``chat`` handler is called directly for the same
stream of messages, once as served (mute check, 10,000-term filter, flood guard, plug-ins,
verdict recorder, evidence capture on flags) and once with the hooks off (the bare chat
router). Messages are paced so every user stays under the chat rate limit (1.5 msg/s), users
never repeat a line, and about 10 % of lines match a term (block, flag or redact) as in
``moderation.bench_filter``. Fan-out is sent to a null outbox, so the difference is the
moderation work alone. Reports per-message handler time p50/p99 (CPU time of the thread).

Part 2, end to end: a real ``metahall serve`` process per mode on loopback, 20 users in one
room each sending 1.5 messages a second; latency is the client's emit-to-ack time (includes
the fan-out to 20 clients and the python-socketio client). Also the server's CPU per message.
On a shared 2-core machine trust the in-process figures first; p99 end to end includes
scheduling noise from the load generator on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .sysmon import free_port

__all__ = ["main"]

USERS_E2E = 20
RATE = 1.5
"""Messages per second per user: under the server's chat limit (2/s, burst 8)."""


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100.0 * len(ordered)))]


def _summary(us: list[float]) -> dict[str, float]:
    return {"n": len(us), "p50_us": round(_pct(us, 50), 1), "p99_us": round(_pct(us, 99), 1),
            "mean_us": round(statistics.fmean(us), 1) if us else float("nan"),
            "max_us": round(max(us), 1) if us else float("nan")}


def write_terms(path: Path, count: int) -> None:
    from moderation.bench_filter import make_terms

    path.write_text("".join(f"{t.text}\t{t.action}\n" for t in make_terms(count)),
                    encoding="utf-8")


def lines_for(user: int, k: int, i: int) -> str:
    """User ``user``'s ``k``-th message (global index ``i``): distinct per user, ~10 % match."""
    from moderation.bench_filter import MATCHING, ORDINARY

    if (i * 7919) % 10 == 0:
        return MATCHING[(user + k) % len(MATCHING)]
    return f"{ORDINARY[(user + k * 5) % len(ORDINARY)]} {user % 97}"


# -- part 1: in process ---------------------------------------------------------------------
class _NullOutbox:
    def emit(self, sid: str, event: str, data: Any) -> None:
        return None

    def send_snap(self, sid: str, snap: bytes) -> None:
        return None

    def backlogged(self, sid: str) -> bool:
        return False

    def disconnect(self, sid: str) -> None:
        return None


async def _in_process(terms: Path, messages: int, users: int) -> dict[str, Any]:
    from rooms.chat import ChatRouter
    from rooms.client import Client
    from rooms.errors import MetahallError
    from server.app import App
    from server.auth.service import UserInfo
    from server.directory import seed_rooms
    from server.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="bench-mod-"))
    settings = Settings.from_env({"METAHALL_DATA_DIR": str(data), "METAHALL_LOG_LEVEL": "WARNING",
                                  "METAHALL_MODERATION_TERMS": str(terms)})
    app = App(settings)
    await app.db.migrate()
    await seed_rooms(app.db, True)
    await app.mod.start()
    null = _NullOutbox()
    app.realtime.chat.outbox = null  # fan-out costs the same either way: leave it out
    on = app.realtime.handlers["chat"]
    off = ChatRouter(app.realtime.presence, null).handle
    rooms = ["hall:main", "expo:demo", "social:plaza", "social:cafe"]
    clients = []
    for u in range(users):
        user = UserInfo(f"u{u:031d}", f"User {u}", ("citizen",))
        client = Client(sid=f"s{u}", user=user, lang="zh-CN" if u % 2 else "en")
        await app.registry.join_or_create(rooms[u % len(rooms)], client, {})
        client.ready = True
        app.realtime.by_user.setdefault(user.id, set()).add(client)
        clients.append(client)
    results: dict[str, Any] = {}
    for mode, handler in (("off", off), ("on", on), ("off2", off), ("on2", on)):
        times: list[float] = []
        outcomes: dict[str, int] = {}
        start = time.perf_counter()
        per_s = users * RATE
        for client in clients:  # every run starts with the same flood-guard state
            app.moderation.flood.forget(client.user.id)
        gc.collect()
        for i in range(messages):
            due = start + i / per_s
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            u = i % users
            text = lines_for(u, i // users, i)
            t0 = time.thread_time_ns()
            try:
                await handler(clients[u], {"channel": "room", "text": text})
                outcome = "ok"
            except MetahallError as exc:
                outcome = exc.code
            times.append((time.thread_time_ns() - t0) / 1000)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        await app.mod.idle()
        results[mode] = {**_summary(times), "outcomes": outcomes}
    stats = app.moderation.callbacks.stats
    results["callbacks"] = {f"{hook}:{name}": round(s.total_s / s.calls * 1e6, 2)
                            for (hook, name), s in stats.items() if s.calls}
    results["terms"] = len(app.moderation.terms)
    await app.mod.stop()
    for task in list(app.tasks):
        task.cancel()
    await asyncio.gather(*app.tasks, return_exceptions=True)
    await app.db.close()
    return results


# -- part 2: end to end ---------------------------------------------------------------------
def _serve(mode: str, port: int, data: str, terms: str) -> None:
    """Child process: ``metahall serve`` with the hooks on or off."""
    from aiohttp import web

    from rooms.chat import allow_all
    from server.app import create_app
    from server.http_api import APP_KEY
    from server.settings import Settings

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    settings = Settings.from_env({"METAHALL_DATA_DIR": data, "METAHALL_LOG_LEVEL": "WARNING",
                                  "METAHALL_MODERATION_TERMS": terms,
                                  "METAHALL_GUEST_LOGINS_PER_MINUTE": "100000"})
    web_app = create_app(settings)
    if mode == "off":
        rt = web_app[APP_KEY].realtime
        rt.chat.gate = allow_all
        rt.on("chat", rt._chat)  # the bare router: no mute check, no recorder
    web.run_app(web_app, host="127.0.0.1", port=port, print=None, access_log=None)


async def _e2e_mode(mode: str, terms: Path, seconds: float) -> dict[str, Any]:
    import aiohttp
    import psutil
    import socketio

    port = free_port()
    data = tempfile.mkdtemp(prefix=f"bench-mod-{mode}-")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loadtest.bench_moderation", "--serve", mode, "--port", str(port),
        "--data", data, "--terms-file", str(terms))
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(url + "/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            tokens = []
            for u in range(USERS_E2E):
                async with http.post(url + "/api/auth/guest",
                                     json={"display_name": f"Bench {u}"}) as resp:
                    tokens.append((await resp.json())["token"])
        clients = []
        for tok in tokens:
            sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
            await sio.connect(url, auth={"token": tok}, transports=["websocket"])
            await sio.call("join", {"room": "social:plaza"})
            clients.append(sio)
        server = psutil.Process(proc.pid)
        latencies: list[float] = []
        outcomes: dict[str, int] = {}
        counter = iter(range(10**9))

        async def user(u: int, sio: socketio.AsyncClient, until: float, record: bool) -> None:
            k = 0
            await asyncio.sleep(random.random() / RATE)
            while time.perf_counter() < until:
                i = next(counter)
                t0 = time.perf_counter()
                ack = await sio.call("chat", {"channel": "room",
                                              "text": lines_for(u, k, i)}, timeout=10)
                if record:
                    latencies.append((time.perf_counter() - t0) * 1e6)
                    key = "ok" if ack.get("ok") else ack["error"]["code"]
                    outcomes[key] = outcomes.get(key, 0) + 1
                k += 1
                await asyncio.sleep(max(0.0, 1 / RATE - (time.perf_counter() - t0)))

        warm = time.perf_counter() + 3
        await asyncio.gather(*(user(u, c, warm, False) for u, c in enumerate(clients)))
        cpu0 = sum(server.cpu_times()[:2])
        end = time.perf_counter() + seconds
        await asyncio.gather(*(user(u, c, end, True) for u, c in enumerate(clients)))
        cpu = sum(server.cpu_times()[:2]) - cpu0
        for sio in clients:
            await sio.disconnect()
        return {**_summary(latencies), "outcomes": outcomes,
                "server_cpu_us_per_msg": round(cpu / max(1, len(latencies)) * 1e6, 1)}
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


# -- report ---------------------------------------------------------------------------------
def _markdown(res: dict[str, Any]) -> str:
    ip = res["in_process"]
    rows = ["# Moderation cost per chat message (hooks on vs off)", "",
            f"{res['terms']:,} terms; {ip['on']['n']} messages per run, ~10 % matching a term; "
            f"machine: {res['machine']}.", "",
            "## In process: the chat handler (thread CPU time, µs)", "",
            "| run | p50 | p99 | mean | max | outcomes |", "| --- | --- | --- | --- | --- | --- |"]
    for mode in ("off", "on", "off2", "on2"):
        r = ip[mode]
        rows.append(f"| {mode} | {r['p50_us']} | {r['p99_us']} | {r['mean_us']} | {r['max_us']} "
                    f"| {', '.join(f'{k} {v}' for k, v in sorted(r['outcomes'].items()))} |")
    rows += ["", f"**Added by moderation: p50 {res['added_in_process']['p50_us']} µs, "
             f"p99 {res['added_in_process']['p99_us']} µs per message** (best of two runs "
             "each).", "", "Mean time per callback (µs):", ""]
    rows += [f"- `{name}`: {us}" for name, us in ip["callbacks"].items()]
    if "e2e" in res:
        rows += ["", f"## End to end: emit → ack over Socket.IO ({USERS_E2E} users in one room, "
                 f"{RATE} msg/s each)", "",
                 "| hooks | n | p50 µs | p99 µs | max µs | server CPU µs/msg | outcomes |",
                 "| --- | --- | --- | --- | --- | --- | --- |"]
        for mode in ("off", "on"):
            r = res["e2e"][mode]
            rows.append(f"| {mode} | {r['n']} | {r['p50_us']} | {r['p99_us']} | {r['max_us']} | "
                        f"{r['server_cpu_us_per_msg']} | "
                        f"{', '.join(f'{k} {v}' for k, v in sorted(r['outcomes'].items()))} |")
        a = res["added_e2e"]
        rows += ["", f"Added end to end: p50 {a['p50_us']} µs, p99 {a['p99_us']} µs "
                 "(noisier: client and server share the machine)."]
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_moderation", description=__doc__.split("\n")[0])
    p.add_argument("--terms", type=int, default=10_000)
    p.add_argument("--messages", type=int, default=6000)
    p.add_argument("--users", type=int, default=400)
    p.add_argument("--seconds", type=float, default=30.0, help="end-to-end measuring time")
    p.add_argument("--skip-e2e", action="store_true")
    p.add_argument("--out", default="bench/results/moderation")
    p.add_argument("--serve", choices=("on", "off"), help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--terms-file", help=argparse.SUPPRESS)
    args, _ = p.parse_known_args(argv)
    if args.serve:
        _serve(args.serve, args.port, args.data, args.terms_file)
        return 0
    terms = Path(tempfile.mkdtemp(prefix="bench-terms-")) / "terms.txt"
    write_terms(terms, args.terms)
    ip = asyncio.run(_in_process(terms, args.messages, args.users))
    res: dict[str, Any] = {
        "terms": ip["terms"], "machine": f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "in_process": ip,
        "added_in_process": {
            q: round(min(ip["on"][q], ip["on2"][q]) - min(ip["off"][q], ip["off2"][q]), 1)
            for q in ("p50_us", "p99_us", "mean_us")},
    }
    if not args.skip_e2e:
        e2e = {m: asyncio.run(_e2e_mode(m, terms, args.seconds)) for m in ("off", "on")}
        res["e2e"] = e2e
        res["added_e2e"] = {q: round(e2e["on"][q] - e2e["off"][q], 1)
                            for q in ("p50_us", "p99_us")}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(_markdown(res), encoding="utf-8")
    print(_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
