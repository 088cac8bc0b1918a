"""``make bench``: the avatar-sync capacity curve on a 2-core machine.

Starts ``metahall serve`` pinned to one core (``taskset -c 0``) with a fresh data
directory, then runs ``metahall-loadtest`` pinned to the other core
(``taskset -c 1``) for each step of bots (default 100, 250, 500, 1000, 1500, 2000), and
stops after the first step that misses the SLO (staleness p99 <= 250 ms, coverage
>= 0.95, no errors) -- that step is still recorded. A step where the generator
saturated, or where other processes took the server's core, is marked
``inconclusive`` -- not evidence against the server -- and is re-run once
(``--retries``) before the series stops on it.
Writes ``bench/results/avatar-sync.{json,md,png}``; step details stay in
``bench/results/tmp/``.

    .venv/bin/python -m loadtest.bench_avatar_sync [--steps 100,250,500] [--duration 20]
    .venv/bin/python -m loadtest.bench_avatar_sync --server-url http://host:8080 --server-pid 123
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from .bench_report import plot_curve, step_record, write_markdown
from .sysmon import cpu_model, free_port

__all__ = ["main", "run_bench"]

REPO = Path(__file__).resolve().parent.parent
GUEST_LIMIT_ENV = {"METAHALL_GUEST_LOGINS_PER_MINUTE": "1000000"}
"""The bench logs in 1,500 guests from one address in seconds; lift the per-IP limit."""


def _pin(cores: str | None) -> list[str]:
    if cores is None or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", cores]


def _wait_healthy(url: str, proc: subprocess.Popen[bytes] | None, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before /healthz answered")
        with contextlib.suppress(OSError, ValueError):
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200 and json.loads(r.read()).get("ok"):
                    return
        time.sleep(0.3)
    raise RuntimeError(f"{url}/healthz did not answer within {limit_s:.0f} s")


def _server_command(port: int) -> list[str]:
    exe = Path(sys.executable).parent / "metahall"
    if exe.exists():
        return [str(exe), "serve", "--port", str(port)]
    return [sys.executable, "-m", "server.cli", "serve", "--port", str(port)]


class ServerProcess:
    """A ``metahall serve`` started (and later stopped) by a bench, pinned to ``cores``."""

    def __init__(self, cores: str | None, env: dict[str, str], log_path: Path) -> None:
        self.cores = cores
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("wb")
        self.cmd = _pin(cores) + _server_command(self.port)
        self.proc = subprocess.Popen(
            self.cmd, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


class Server(ServerProcess):
    """The avatar-sync bench's server, on a throw-away data directory."""

    def __init__(self, cores: str | None, log_path: Path) -> None:
        self._data = tempfile.TemporaryDirectory(prefix="metahall-bench-")
        env = dict(os.environ)
        env.update(GUEST_LIMIT_ENV)
        env["METAHALL_DATA_DIR"] = self._data.name
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        super().__init__(cores, env, log_path)

    def stop(self) -> None:
        super().stop()
        self._data.cleanup()


def run_step(
    ns: argparse.Namespace, url: str, server_pid: int | None, bots: int, tmp: Path
) -> dict[str, Any] | None:
    """One ``metahall-loadtest`` run under ``taskset``; its result document, or None."""
    out = tmp / f"step-{bots}"
    cmd = _pin(ns.bot_cores) + [
        sys.executable, "-m", "loadtest.cli", "--url", url, "--bots", str(bots),
        "--duration", str(ns.duration), "--rate", str(ns.rate), "--procs", str(ns.procs),
        "--room", ns.room, "--out", str(out),
    ]  # fmt: skip
    if server_pid is not None:
        cmd += ["--server-pid", str(server_pid)]
    if ns.quiet:
        cmd.append("--quiet")
    ramp = min(max(bots / 100.0, 3.0), 30.0)
    limit = ramp + ns.duration + 180.0
    print(f"\n== step {bots} bots: {' '.join(cmd)}", flush=True)
    try:
        subprocess.run(cmd, cwd=REPO, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        print(f"step {bots}: timed out after {limit:.0f} s", flush=True)
        return None
    path = out.with_suffix(".json")
    if not path.exists():
        return None
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def run_bench(ns: argparse.Namespace) -> dict[str, Any]:
    """Run the step series; return the bench document (also written to disk)."""
    out = Path(ns.out)
    tmp = out.parent / "tmp"
    server: Server | None = None
    url, pid = ns.server_url, ns.server_pid
    steps: list[dict[str, Any]] = []
    stopped = ""
    try:
        if url is None:
            server = Server(ns.server_cores, tmp / "server.log")
            url, pid = server.url, server.pid
            print(f"started {' '.join(server.cmd)} (pid {pid})", flush=True)
        _wait_healthy(url, server.proc if server else None, 60.0)
        for bots in ns.steps:
            rec: dict[str, Any] | None = None
            for attempt in range(1 + ns.retries):
                if attempt:
                    print(f"step {bots}: inconclusive, retrying", flush=True)
                    time.sleep(ns.settle)
                result = run_step(ns, url, pid, bots, tmp)
                if result is None:
                    break
                rec = step_record(result) | {"attempt": attempt + 1}
                if rec["verdict"] != "inconclusive":
                    break
            if rec is None:
                steps.append({"bots": bots, "verdict": "error", "misses": ["no result"]})
                stopped = f"step {bots} produced no result"
                break
            steps.append(rec)
            print(f"step {bots}: {rec['verdict']} {'; '.join(rec['misses'])}", flush=True)
            if server is not None and not server.alive():
                stopped = f"server died during step {bots}"
                break
            if rec["verdict"] == "fail" or (rec["verdict"] != "pass" and not ns.keep_going):
                stopped = f"step {bots} missed the SLO ({rec['verdict']})"
                break
            time.sleep(ns.settle)
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        if server is not None:
            server.stop()
    passing = [s["bots"] for s in steps if s["verdict"] == "pass"]
    if not stopped:
        unclear = [s["bots"] for s in steps if s["verdict"] != "pass"]
        stopped = "all steps passed" if not unclear else f"all steps ran; inconclusive: {unclear}"
    doc = {
        "bench": "avatar-sync",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "server": {
            "url": url,
            "started_by_bench": server is not None,
            "cores": ns.server_cores if server is not None else None,
        },
        "generator": {"cores": ns.bot_cores, "procs": ns.procs},
        "options": {"retries": ns.retries, "keep_going": ns.keep_going, "steps": ns.steps},
        "rate_hz": ns.rate,
        "duration_s": ns.duration,
        "room": ns.room,
        "slo": {"staleness_p99_ms": 250, "coverage_min": 0.95, "errors": 0},
        "steps": steps,
        "capacity_bots": max(passing, default=None),
        "stopped_because": stopped,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1) + "\n")
    write_markdown(doc, out.with_suffix(".md"))
    plot_curve(doc, out.with_suffix(".png"))
    return doc



def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m loadtest.bench_avatar_sync",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--steps", default="100,250,500,1000,1500,2000", help="bots per step")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds per step")
    p.add_argument("--rate", type=float, default=10.0, help="moves per bot per second")
    p.add_argument("--room", default="hall:main")
    p.add_argument("--procs", type=int, default=1, help="generator processes per step")
    p.add_argument("--server-url", default=None, help="use this server instead of starting one")
    p.add_argument("--server-pid", type=int, default=None, help="its pid, for CPU/RSS")
    p.add_argument("--server-cores", default="0", help="taskset CPU list for the server (0)")
    p.add_argument("--bot-cores", default="1", help="taskset CPU list for the bots (1)")
    p.add_argument("--settle", type=float, default=3.0, help="pause between steps, s")
    p.add_argument(
        "--retries",
        type=int,
        default=1,
        help="re-run a step whose generator saturated this many times (1)",
    )
    p.add_argument("--out", default=str(REPO / "bench" / "results" / "avatar-sync"))
    p.add_argument("--quiet", action="store_true", help="no per-second progress lines")
    p.add_argument(
        "--keep-going",
        action="store_true",
        help="continue after an inconclusive step (stop only at a fail)",
    )
    ns = p.parse_args(argv)
    try:
        ns.steps = [int(s) for s in ns.steps.split(",") if s.strip()]
    except ValueError:
        p.error("--steps is a comma-separated list of integers")
    if (os.cpu_count() or 1) < 2:
        ns.server_cores = ns.bot_cores = None
        print("one CPU only: not pinning server and bots", file=sys.stderr)
    doc = run_bench(ns)
    cap = doc["capacity_bots"]
    print(
        f"\ncapacity: {'not established' if cap is None else f'{cap} bots'}"
        f" ({doc['stopped_because']})"
    )
    print(f"wrote {ns.out}.json, .md and .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
