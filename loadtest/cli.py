"""``metahall-loadtest``: run a bot swarm against a metahall server and report.

Example::

    metahall-loadtest --url http://127.0.0.1:8080 --bots 1000 --duration 30 --rate 10 \\
        --server-pid $(pgrep -f 'metahall serve') --out results/run1

prints a progress line each second, a summary at the end, and writes
``<out>.json`` and ``<out>.png``. Exit status: 0 when the run completed (1 with
``--fail-on-slo`` if the SLO was missed), 2 for bad arguments, 3 if nothing could
connect at all, 130 if interrupted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .aggregate import Aggregator, Row
from .config import SLO, LoadConfig
from .report import format_summary, plot_run, progress_line, write_json
from .runner import run

__all__ = ["build_parser", "config_from_args", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="metahall-loadtest",
        description="Bot swarm for metahall: avatar-sync latency, view staleness and coverage.",
    )
    a = p.add_argument
    a("--url", default="http://127.0.0.1:8080", help="server base URL")
    a("--bots", type=int, default=100, help="number of bots (default 100)")
    a("--duration", type=float, default=30.0, help="measured seconds after the ramp (30)")
    a("--rate", type=float, default=10.0, help="move packets per bot per second (default 10)")
    a(
        "--ramp",
        type=float,
        default=None,
        help="seconds to spread connections over (default: bots/100, at least 3, at most 30)",
    )
    a(
        "--settle",
        type=float,
        default=0.0,
        help="connect nobody in the last SETTLE seconds of the ramp, so every bot is walking"
        " (with webrtc: on its channel) when the measured window starts (0)",
    )
    a("--area", type=float, default=60.0, help="side in m of the square bots walk in (60)")
    a("--room", default="hall:main", help="room to join (default hall:main)")
    a("--procs", type=int, default=1, help="generator processes (spread over cores)")
    a("--observers", type=int, default=100, help="bots that decode and score snaps (100)")
    a("--seed", type=int, default=1, help="seed of the walks")
    a("--aoi-radius", type=float, default=30.0, help="server's interest radius in m (30)")
    a("--aoi-k", type=int, default=64, help="server's nearest-entities limit (64)")
    a("--server-pid", type=int, default=None, help="sample this process' CPU and RSS")
    a("--deflate", action="store_true", help="offer permessage-deflate on the WebSockets")
    a("--reconnect", action="store_true",
      help="bots that lose their connection connect and join again (a failover drill)")
    a(
        "--transport",
        choices=("websocket", "webrtc"),
        default="websocket",
        help="websocket: all over Socket.IO (default). webrtc: moves and snaps on an aiortc"
        " data channel per bot (join, acks, enter over Socket.IO); about 2 ms of generator CPU"
        " per bot-second, so one process holds ~300 bots at 10 Hz (loadtest/README.md); use"
        " --procs beyond that",
    )
    a("--no-uvloop", action="store_true", help="use the default asyncio loop")
    a("--name-prefix", default="bot-", help="guest display name prefix (default bot-)")
    a(
        "--out",
        default=None,
        help="write <out>.json and <out>.png (default: loadtest-<time> in the current directory)",
    )
    a("--no-plot", action="store_true", help="skip the PNG")
    a("--quiet", action="store_true", help="no progress line")
    a("--slo-staleness-p99", type=float, default=250.0, help="SLO: staleness p99 ms (250)")
    a("--slo-coverage", type=float, default=0.95, help="SLO: minimum coverage (0.95)")
    a("--fail-on-slo", action="store_true", help="exit 1 when the SLO is missed")
    return p


def config_from_args(ns: argparse.Namespace) -> LoadConfig:
    """Validate the parsed arguments; raise ``ValueError`` with a readable message."""
    if ns.bots < 1 or ns.bots > 100_000:
        raise ValueError("--bots must be between 1 and 100000")
    if not 0 < ns.rate <= 20:
        raise ValueError("--rate must be in (0, 20] (the protocol allows 20 moves/s)")
    if ns.duration <= 0 or ns.procs < 1 or ns.procs > 64 or ns.area < 2:
        raise ValueError("need --duration > 0, 1 <= --procs <= 64, --area >= 2")
    if ns.aoi_radius <= 0 or ns.aoi_k < 1:
        raise ValueError("need --aoi-radius > 0 and --aoi-k >= 1")
    ramp = ns.ramp if ns.ramp is not None else min(max(ns.bots / 100.0, 3.0), 30.0)
    if not 0 <= ns.settle <= max(ramp, 0.0):
        raise ValueError("--settle must be between 0 and the ramp")
    return LoadConfig(
        url=ns.url,
        bots=ns.bots,
        duration_s=ns.duration,
        rate_hz=ns.rate,
        ramp_s=max(ramp, 0.0),
        area_m=ns.area,
        room=ns.room,
        procs=min(ns.procs, ns.bots),
        observers=max(ns.observers, 0),
        seed=ns.seed,
        radius_m=ns.aoi_radius,
        k_nearest=ns.aoi_k,
        server_pid=ns.server_pid,
        compress=ns.deflate,
        reconnect=ns.reconnect,
        uvloop=not ns.no_uvloop,
        name_prefix=ns.name_prefix,
        transport=ns.transport,
        settle_s=ns.settle,
        slo=SLO(staleness_p99_ms=ns.slo_staleness_p99, coverage_min=ns.slo_coverage),
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    try:
        cfg = config_from_args(ns)
    except ValueError as exc:
        parser.error(str(exc))
    tty = sys.stderr.isatty()

    def progress(row: Row, agg: Aggregator) -> None:
        line = progress_line(row, agg)
        sys.stderr.write(("\r\x1b[K" + line) if tty else line + "\n")
        sys.stderr.flush()

    print(
        f"metahall-loadtest: {cfg.bots} bots in {cfg.procs} process(es) -> {cfg.url} "
        f"room {cfg.room}, {cfg.rate_hz} Hz, {cfg.transport}, ramp {cfg.ramp_s:.0f} s, "
        f"measure {cfg.duration_s:.0f} s",
        file=sys.stderr,
    )
    result = run(cfg, None if ns.quiet else progress)
    if tty and not ns.quiet:
        sys.stderr.write("\n")
    out = Path(ns.out or time.strftime("loadtest-%Y%m%d-%H%M%S"))
    write_json(result, out.with_suffix(".json"))
    if not ns.no_plot:
        plot_run(result, out.with_suffix(".png"))
    print(format_summary(result))
    if result["fatal"]:
        print(f"error: {result['fatal']}", file=sys.stderr)
    png = "" if ns.no_plot else f" and {out.with_suffix('.png')}"
    print(f"wrote {out.with_suffix('.json')}{png}")
    s = result["summary"]
    if result["interrupted"]:
        return 130
    if s["connected_max"] == 0:
        return 3
    if ns.fail_on_slo and not s["slo"]["pass"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
