"""``make bench``: how many viewers one server relays a live stage talk to.

One speaker publishes a synthetic camera (``--width``×``--height`` at ``--fps``, VP8) and
microphone (Opus) to ``stage.publish``; viewers are added in steps (``--steps``, default
1,5,10,20,40), each with its own Socket.IO connection and aiortc peer on loopback
(``stage.watch``). At each step, after the new viewers settled, for ``--duration`` seconds it
records:

* the server's CPU (100 % = one core) and memory, from its process;
* the frames each viewer received per second (video and audio) against what the speaker sent;
* the generator's own CPU, so a step where the generator saturated is not taken as evidence
  against the server.

A step passes when the 10th-percentile viewer gets at least ``--pass-ratio`` (90 %) of the
frames the speaker sent; the **measured limit** is the last step that passed before the first
one that failed. ``--kind audio`` measures the audio-only relay (a ``slides`` talk) instead.

Viewer peers do not decode what they receive: aiortc's decoder is replaced by a counter in this
process (every complete frame the jitter buffer hands over is counted), so 40 viewers cost the
generator what receiving costs, not 40 VP8 decoders. The server is a real ``metahall serve``
(the stage area check is switched off and the caps set above the steps, so that every viewer
gets the relay); it is pinned to CPU 0 and the generator to CPU 1 when the machine has two.

    .venv/bin/python -m loadtest.bench_stage [--steps 1,5,10,20,40] [--duration 15]
        [--kind video|audio] [--width 640 --height 360 --fps 30] [--out bench/results]

Writes ``<out>/stage[-audio].json`` and ``<out>/stage[-audio].md``. Every wait has a deadline;
the server is stopped by pid.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from .stage_peers import FrameCounter, SyntheticAudio, SyntheticVideo, publish, watch
from .sysmon import HostSampler, ProcSampler, cpu_model, free_port

__all__ = ["main", "run_bench", "write_markdown", "limit_of"]

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-stage-password"
ROOM = "expo:demo"


# -- viewers that count instead of decoding -------------------------------------------------
class _Counted:
    """What the stub decoder hands to the track: no pixels, just 'a frame arrived'."""

    __slots__ = ("width",)

    def __init__(self) -> None:
        self.width = 0


class _CountingDecoder:
    def decode(self, encoded_frame: Any) -> list[Any]:
        return [_Counted()]


def _stub_decoders() -> None:
    import aiortc.rtcrtpreceiver as receiver

    receiver.get_decoder = lambda codec: _CountingDecoder()  # type: ignore[assignment]


# -- the server ------------------------------------------------------------------------------
def _env(data_dir: Path, cap: int) -> dict[str, str]:
    return {**os.environ, "METAHALL_DATA_DIR": str(data_dir), "METAHALL_LOG_LEVEL": "WARNING",
            "METAHALL_GUEST_LOGINS_PER_MINUTE": "100000", "METAHALL_STAGE_REQUIRE_AREA": "false",
            "METAHALL_STAGE_MAX_VIDEO_VIEWERS": str(cap),
            "METAHALL_STAGE_MAX_AUDIO_VIEWERS": str(cap), "METAHALL_SEED_DEMO": "true",
            "PYTHONPATH": str(ROOT)}


def _add_user(env: dict[str, str], name: str, role: str) -> None:
    subprocess.run([sys.executable, "-m", "server.cli", "user", "add", name, "--role", role],
                   input=PASSWORD + "\n", text=True, cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=60)


class Server:
    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port",
             str(port)], cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self, limit_s: float = 60.0) -> None:
        deadline = time.monotonic() + limit_s
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError("the server exited during start-up")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.2)
        raise RuntimeError("the server did not come up in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


# -- clients ---------------------------------------------------------------------------------
async def _sign_in(http: aiohttp.ClientSession, url: str, name: str, guest: bool
                   ) -> tuple[str, str]:
    """(token, user id) of a guest or of an account made with ``metahall user add``."""
    if guest:
        req = http.post(f"{url}/api/auth/guest", json={"display_name": name})
    else:
        req = http.post(f"{url}/api/auth/login", json={"username": name, "password": PASSWORD})
    async with req as resp:
        resp.raise_for_status()
        body = await resp.json()
    return str(body["token"]), str(body["user"]["id"])


async def _member(url: str, token: str) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=20)
    ack = await sio.call("join", {"room": ROOM}, timeout=20)
    if not ack.get("ok"):
        raise RuntimeError(f"join refused: {ack}")
    return sio


def _caller(sio: socketio.AsyncClient) -> Any:
    async def call(event: str, data: Any, limit: float) -> Any:
        return await sio.call(event, data, timeout=limit)
    return call


@dataclass(eq=False)
class BenchViewer:
    sio: socketio.AsyncClient
    pc: Any = None
    counters: dict[str, FrameCounter] = field(default_factory=dict)
    mode: str = ""

    async def start(self, talk_id: str) -> None:
        def on_track(track: Any) -> None:
            self.counters[track.kind] = FrameCounter(track).start()
        self.pc, ack = await watch(_caller(self.sio), talk_id, on_track=on_track, ack_timeout=60)
        if not ack.get("ok") or "answer" not in ack:
            raise RuntimeError(f"watch refused: {ack}")
        self.mode = ack["mode"]

    def mark(self) -> None:
        for c in self.counters.values():
            c.mark()

    def rate(self, kind: str) -> float:
        c = self.counters.get(kind)
        return c.rate_since_mark() if c else 0.0

    async def close(self) -> None:
        for c in self.counters.values():
            await c.stop()
        with contextlib.suppress(Exception):
            if self.pc is not None:
                await asyncio.wait_for(self.pc.close(), 5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.sio.disconnect(), 5)


async def _frames_in(http: aiohttp.ClientSession, url: str) -> dict[str, float]:
    """The server's count of frames received (decoded) from the speaker, per kind."""
    out: dict[str, float] = {}
    async with http.get(f"{url}/metrics") as resp:
        for line in (await resp.text()).splitlines():
            if line.startswith("metahall_stage_frames_in{"):
                kind = line.split('kind="', 1)[1].split('"', 1)[0]
                out[kind] = float(line.rsplit(" ", 1)[1])
    return out


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def _sample_cpu(samplers: dict[str, ProcSampler], host: HostSampler, seconds: float
                      ) -> dict[str, Any]:
    for s in samplers.values():
        s.sample()
    host.sample()
    series: dict[str, list[float]] = {k: [] for k in samplers}
    rss: dict[str, float] = {}
    hosts: list[list[float]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await asyncio.sleep(1.0)
        for k, s in samplers.items():
            got = s.sample()
            if got is not None:
                series[k].append(got.cpu_percent)
                rss[k] = max(rss.get(k, 0.0), got.rss_mb)
        hosts.append(host.sample())
    out: dict[str, Any] = {}
    for k, vals in series.items():
        out[f"{k}_cpu_mean"] = round(statistics.fmean(vals), 1) if vals else None
        out[f"{k}_cpu_max"] = round(max(vals), 1) if vals else None
        out[f"{k}_rss_mb"] = rss.get(k)
    if hosts:
        out["host_cpu_mean"] = [round(statistics.fmean(c), 1) for c in zip(*hosts, strict=True)]
    return out


async def run_bench(steps: list[int], duration: float, kind: str, width: int, height: int,
                    fps: int, settle: float, pass_ratio: float, work: Path,
                    pin: bool = True) -> dict[str, Any]:
    _stub_decoders()
    env = _env(work, max(steps) + 10)
    _add_user(env, "bench-admin", "admin")
    _add_user(env, "bench-speaker", "exhibitor")
    server = Server(env, free_port(), work / "server.log")
    cores = os.cpu_count() or 1
    if pin and cores >= 2:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(server.proc.pid, {0})
            os.sched_setaffinity(0, {1})
    viewers: list[BenchViewer] = []
    speaker_sio = None
    pub = None
    records: list[dict[str, Any]] = []
    try:
        await server.ready()
        url = server.url
        async with aiohttp.ClientSession() as http:
            admin, _ = await _sign_in(http, url, "bench-admin", guest=False)
            speaker, speaker_id = await _sign_in(http, url, "bench-speaker", guest=False)
            now = int(time.time() * 1000)
            me = speaker_sio = await _member(url, speaker)
            body = {"room": ROOM, "title": {"zh-CN": "基准测试", "en": "Benchmark"},
                    "speaker_id": speaker_id, "start": now - 60_000, "end": now + 4 * 3_600_000,
                    "mode": "live" if kind == "video" else "slides"}
            async with http.post(f"{url}/api/stage/talks", json=body,
                                 headers={"Authorization": f"Bearer {admin}"}) as resp:
                if resp.status != 201:
                    raise RuntimeError(f"talk not created: {await resp.text()}")
                talk_id = (await resp.json())["talk"]["id"]
            video = SyntheticVideo(width, height, fps) if kind == "video" else None
            audio = SyntheticAudio()
            tracks: list[Any] = [audio] + ([video] if video is not None else [])
            pub, ack = await publish(_caller(me), talk_id, tracks, ack_timeout=60)
            if not ack.get("ok"):
                raise RuntimeError(f"publish refused: {ack}")
            samplers = {"server": ProcSampler(server.proc.pid, children=False),
                        "generator": ProcSampler(os.getpid(), children=False)}
            host = HostSampler()
            for n in steps:
                t_ramp = time.monotonic()
                while len(viewers) < n:
                    batch = []
                    for i in range(len(viewers), min(n, len(viewers) + 5)):
                        token, _ = await _sign_in(http, url, f"viewer {i}", guest=True)
                        sio = await _member(url, token)
                        batch.append(BenchViewer(sio))
                    await asyncio.gather(*(v.start(talk_id) for v in batch))
                    viewers.extend(batch)
                ramp_s = time.monotonic() - t_ramp
                await asyncio.sleep(settle)
                for v in viewers:
                    v.mark()
                sent0 = (video.sent if video else 0, audio.sent)
                in0 = await _frames_in(http, url)
                t0 = time.monotonic()
                cpu = await _sample_cpu(samplers, host, duration)
                dt = time.monotonic() - t0
                in1 = await _frames_in(http, url)
                ingest = {k: round((in1.get(k, 0) - in0.get(k, 0)) / dt, 1) for k in in1}
                sent_fps = ((video.sent - sent0[0]) / dt if video else 0.0,
                            (audio.sent - sent0[1]) / dt)
                vid = [v.rate("video") for v in viewers] if kind == "video" else []
                aud = [v.rate("audio") for v in viewers]
                ref = sent_fps[0] if kind == "video" else sent_fps[1]
                got = vid if kind == "video" else aud
                p10 = _pct(got, 10)
                rec = {
                    "viewers": n, "ramp_s": round(ramp_s, 1), "window_s": round(dt, 1),
                    **cpu,
                    "sent_video_fps": round(sent_fps[0], 1), "sent_audio_fps": round(sent_fps[1], 1),
                    "server_in_video_fps": ingest.get("video"),
                    "server_in_audio_fps": ingest.get("audio"),
                    "video_fps_median": round(statistics.median(vid), 1) if vid else None,
                    "video_fps_p10": round(_pct(vid, 10), 1) if vid else None,
                    "video_fps_min": round(min(vid), 1) if vid else None,
                    "audio_fps_median": round(statistics.median(aud), 1),
                    "audio_fps_p10": round(_pct(aud, 10), 1),
                    "ratio_p10": round(p10 / ref, 3) if ref else 0.0,
                    "modes": sorted({v.mode for v in viewers}),
                }
                rec["pass"] = bool(ref) and p10 >= pass_ratio * ref
                gen = rec.get("generator_cpu_mean") or 0.0
                rec["generator_saturated"] = gen >= 90.0
                records.append(rec)
                print(json.dumps(rec), flush=True)
    finally:
        server.stop()  # first: a stuck peer below must not keep the server running
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*(v.close() for v in viewers),
                                                  return_exceptions=True), 20)
        with contextlib.suppress(Exception):
            if pub is not None:
                await asyncio.wait_for(pub.close(), 5)
            if speaker_sio is not None:
                await asyncio.wait_for(speaker_sio.disconnect(), 5)
    return {
        "config": {"steps": steps, "duration_s": duration, "settle_s": settle, "kind": kind,
                   "pinned": pin and cores >= 2,
                   "video": f"{width}x{height}@{fps} VP8" if kind == "video" else None,
                   "audio": "48 kHz mono Opus, 20 ms frames", "pass_ratio": pass_ratio},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "cpu_model": cpu_model(), "load_avg_at_end": os.getloadavg()},
        "steps": records,
        "limit": limit_of(records),
        "cost": cost_fit(records, kind),
    }


def cost_fit(records: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    """Least squares of server CPU % against frames delivered per second (all viewers):
    ``cpu = fixed + per_frame × frames``. On a machine shared with other work a starved server
    delivers fewer frames and uses less CPU, but the cost per delivered frame stays what it is;
    ``projected_viewers`` is how many viewers at the full frame rate one core would carry."""
    key = "video_fps_median" if kind == "video" else "audio_fps_median"
    sent_key = "sent_video_fps" if kind == "video" else "sent_audio_fps"
    pts = [(r["viewers"] * (r.get(key) or 0.0), r.get("server_cpu_mean")) for r in records]
    pts = [(x, y) for x, y in pts if y is not None]
    if len(pts) < 2 or len({x for x, _ in pts}) < 2:
        return None
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    b = sum((x - mx) * (y - my) for x, y in pts) / sxx
    a = my - b * mx
    fps = statistics.median(r[sent_key] for r in records if r.get(sent_key))
    per_viewer = b * fps
    return {"fixed_cpu_pct": round(a, 1), "cpu_pct_per_frame": round(b, 4),
            "cpu_pct_per_viewer_at_full_rate": round(per_viewer, 1),
            "projected_viewers_per_core": int((100.0 - a) / per_viewer) if per_viewer > 0 else None}


def limit_of(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The last passing step before the first failing one (ignoring steps where the
    generator saturated, which say nothing about the server)."""
    last_ok: int | None = None
    first_bad: int | None = None
    for r in records:
        if r["pass"]:
            if first_bad is None:
                last_ok = r["viewers"]
        elif not r.get("generator_saturated") and first_bad is None:
            first_bad = r["viewers"]
    return {"last_pass": last_ok, "first_fail": first_bad}



HEADER = (
    "| viewers | server CPU % | server RSS MB | sent video fps | server in fps | video fps per viewer "
    "(median / p10 / min) | sent audio fps | audio fps (median / p10) | p10 / sent | "
    "generator CPU % | host CPU % per core | verdict |\n"
    + "| --- " * 12 + "|"
)


def write_markdown(result: dict[str, Any], path: Path) -> None:
    cfg, lim = result["config"], result["limit"]
    kind = cfg["kind"]
    rows = []
    for r in result["steps"]:
        vid = (f"{r['video_fps_median']} / {r['video_fps_p10']} / {r['video_fps_min']}"
               if r["video_fps_median"] is not None else "–")
        rows.append(
            f"| {r['viewers']} | {r.get('server_cpu_mean')} ({r.get('server_cpu_max')}) | "
            f"{r.get('server_rss_mb')} | {r['sent_video_fps'] or '–'} | "
            f"{r.get('server_in_video_fps') if kind == 'video' else r.get('server_in_audio_fps')} | {vid} | "
            f"{r['sent_audio_fps']} | {r['audio_fps_median']} / {r['audio_fps_p10']} | "
            f"{round(100 * r['ratio_p10'])} % | {r.get('generator_cpu_mean')} | "
            f"{r.get('host_cpu_mean')} | {'pass' if r['pass'] else 'FAIL'}"
            f"{' (generator saturated)' if r.get('generator_saturated') else ''} |")
    what = f"video {cfg['video']} + audio" if kind == "video" else "audio only (slides talk)"
    pinning = ("Server pinned to CPU 0, generator to CPU 1." if cfg.get("pinned")
               else "Server and generator not pinned.")
    verdict = (f"**Measured limit: {lim['last_pass']} viewers** (first failing step: "
               f"{lim['first_fail'] if lim['first_fail'] is not None else 'none up to the last step'})."
               if lim["last_pass"] is not None else "**No step passed.**")
    cost = result.get("cost")
    fit = (f"Server CPU against frames delivered (least squares over the steps): fixed "
           f"{cost['fixed_cpu_pct']} % of a core, {cost['cpu_pct_per_viewer_at_full_rate']} % per "
           f"viewer at the full frame rate, so one core would carry about "
           f"**{cost['projected_viewers_per_core']} viewers** if nothing else ran on it."
           if cost else "Too few steps for a cost fit.")
    text = f"""# Stage relay: viewers per live talk ({what})

`python -m loadtest.bench_stage --kind {kind} --steps {','.join(map(str, cfg['steps']))} \
--duration {cfg['duration_s']:g}`. One speaker (synthetic camera and microphone) publishes to a
real `metahall serve`; viewers with their own aiortc peer on loopback are added in steps; each
step is measured for {cfg['duration_s']:g} s after {cfg['settle_s']:g} s of settling. A step passes
when the 10th-percentile viewer receives at least {round(100 * cfg['pass_ratio'])} % of the frames the
speaker sent. {pinning} CPU % is of one core (mean, max); "server in" is what the server decoded
from the speaker.

{verdict}

{fit}

{HEADER}
{chr(10).join(rows)}

Machine: {result['machine']['cpus']} CPUs ({result['machine']['cpu_model']}), Python
{result['machine']['python']}; load average at the end {result['machine']['load_avg_at_end']}.
The machine is shared with other work: the host CPU column shows how busy each core was.
"""
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", default="1,5,10,20,40")
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--settle", type=float, default=4.0)
    ap.add_argument("--kind", choices=("video", "audio"), default="video")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--pass-ratio", type=float, default=0.9)
    ap.add_argument("--no-pin", action="store_true",
                    help="do not pin the server to CPU 0 and the generator to CPU 1")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args(argv)
    steps = sorted({int(s) for s in args.steps.split(",") if s.strip()})
    if not steps or steps[0] < 1:
        ap.error("--steps must be positive integers")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="metahall-stage-") as tmp:
        result = asyncio.run(run_bench(steps, args.duration, args.kind, args.width, args.height,
                                       args.fps, args.settle, args.pass_ratio, Path(tmp),
                                       pin=not args.no_pin))
    name = "stage" if args.kind == "video" else "stage-audio"
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    write_markdown(result, args.out / f"{name}.md")
    print(f"wrote {args.out / name}.json and .md; limit {result['limit']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
