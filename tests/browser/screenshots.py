"""Screenshots of the web client with a small crowd, for looking at (``make screenshots``).

    python -m tests.browser.screenshots --out bench/results/screenshots [--url URL] [--bots 36]

Starts a server (unless --url is given), lets a few dozen python-socketio bots walk into the
service hall — a queue at the guide desk, people waiting between the seats, people at the
counters — and photographs the landing page, the hall in 3D (English and Chinese UI), the 2D
map, the expo and a social space with Debian's Chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ServerProcess

COLORS = [
    "#e4572e",
    "#f3a712",
    "#29bf12",
    "#17bebb",
    "#2e86de",
    "#8e44ad",
    "#ff5d8f",
    "#5d6d7e",
    "#c0392b",
    "#16a085",
    "#d35400",
    "#2c3e50",
]
NAMES = [
    "王芳",
    "李强",
    "张伟",
    "刘洋",
    "陈静",
    "杨帆",
    "赵磊",
    "黄敏",
    "周杰",
    "吴霞",
    "徐涛",
    "孙丽",
    "Maria",
    "Tom",
    "Aisha",
    "Kenji",
    "Olga",
    "Sam",
    "Priya",
    "Lucas",
    "Chen Yu",
    "Zhou Lin",
    "马超",
    "朱琳",
    "胡军",
    "郭婷",
    "何平",
    "高远",
    "林晓",
    "罗兰",
    "梁晨",
    "宋佳",
    "郑毅",
    "谢芸",
    "韩雪",
    "唐宁",
    "冯刚",
    "于洁",
]
CHAT = [
    ("王芳", "请问办理社保卡在哪个窗口？"),
    ("Maria", "Good morning! Is this the queue for residence permits?"),
    ("李强", "3号窗口，先在引导台取号。"),
    ("Tom", "Thanks — the guide desk helped me a lot."),
]
SPEED = 5.4  # m/s, under the server's clamp


class Bot:
    """A guest that joins a room and walks a list of waypoints, then idles (or patrols)."""

    def __init__(
        self,
        url: str,
        name: str,
        color: str,
        room: str,
        plan: list[tuple[float, float]],
        *,
        patrol: bool = False,
        face: float = math.pi,
    ) -> None:
        self.url, self.name, self.color, self.room = url, name, color, room
        self.plan, self.patrol, self.face = plan, patrol, face
        self.sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
        self.x = self.z = 0.0
        self.task: asyncio.Task[None] | None = None

    async def start(self, http: aiohttp.ClientSession) -> None:
        async with http.post(
            f"{self.url}/api/auth/guest", json={"display_name": self.name}
        ) as resp:
            token = (await resp.json())["token"]
        await self.sio.connect(
            self.url, auth={"token": token}, transports=["websocket"], wait_timeout=10
        )
        ack = await self.sio.call(
            "join",
            {"room": self.room, "avatar": {"model": "capsule", "color": self.color}},
            timeout=10,
        )
        self.x, _, self.z, _ = ack["spawn"]
        self.task = asyncio.create_task(self._walk())

    async def say(self, text: str) -> None:
        await self.sio.call("chat", {"channel": "room", "text": text}, timeout=5)

    async def _walk(self) -> None:
        points = list(self.plan)
        i = 0
        yaw = self.face
        while True:
            if i < len(points):
                tx, tz = points[i]
                dx, dz = tx - self.x, tz - self.z
                dist = math.hypot(dx, dz)
                step = SPEED * 0.1
                if dist <= step:
                    self.x, self.z = tx, tz
                    i += 1
                    if i == len(points) and self.patrol:
                        points.reverse()
                        i = 1
                else:
                    self.x += dx / dist * step
                    self.z += dz / dist * step
                yaw = math.atan2(dx, dz) % (2 * math.pi)
                await self.sio.emit(
                    "move", [round(self.x, 2), 0.0, round(self.z, 2), round(yaw, 3), 1]
                )
            elif i == len(points):
                i += 1  # arrived: one idle move, facing where people look
                await self.sio.emit(
                    "move", [round(self.x, 2), 0.0, round(self.z, 2), self.face % (2 * math.pi), 0]
                )
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
        await self.sio.disconnect()


def hall_bots(url: str, n: int, rng: random.Random) -> list[Bot]:
    """People in the service hall (layout: rooms/layouts.py HALL_LAYOUT)."""
    plans: list[tuple[list[tuple[float, float]], bool, float]] = []
    # A queue at the guide desk (x 0, z 18, facing +z).
    for k in range(5):
        plans.append(([(1.5 - k * 0.3, 21.0 + k * 1.1)], False, math.pi))
    # People at counters 4–9 and a second one waiting behind some.
    for cx in (-22.5, -13.5, -4.5, 4.5, 13.5, 22.5):
        plans.append(
            (
                [(0.0, 12.0), (0.0, -20.0), (cx, -20.0), (cx + rng.uniform(-1, 1), -31.0)],
                False,
                math.pi,
            )
        )
        if rng.random() < 0.6:
            plans.append(
                (
                    [(0.0, 12.0), (0.0, -20.0), (cx, -20.0), (cx + rng.uniform(-1, 1), -28.8)],
                    False,
                    math.pi,
                )
            )
    # Waiting between the rows of seats.
    for _ in range(14):
        x = rng.choice((-1, 1)) * rng.uniform(8.5, 27.0)
        z = rng.choice((-5.5, -0.5, 4.5)) + rng.uniform(-0.2, 0.2)
        plans.append(([(x, 12.0), (x, z)], False, math.pi))
    # Walkers crossing the lobby.
    for _ in range(6):
        a = (rng.uniform(-35, 35), rng.uniform(9, 14))
        b = (rng.uniform(-35, 35), rng.uniform(-24, -18))
        plans.append(([a, (a[0], b[1]) if abs(a[0]) < 6 else (0.0, a[1]), b], True, math.pi))
    bots = []
    for i, (plan, patrol, face) in enumerate(plans[:n]):
        bots.append(
            Bot(
                url,
                NAMES[i % len(NAMES)],
                COLORS[i % len(COLORS)],
                "hall:main",
                plan,
                patrol=patrol,
                face=face,
            )
        )
    return bots


def room_bots(
    url: str, room: str, n: int, around: tuple[float, float], rng: random.Random
) -> list[Bot]:
    bots = []
    for i in range(n):
        x = around[0] + rng.uniform(-9, 9)
        z = around[1] + rng.uniform(-7, 3)
        bots.append(
            Bot(
                url,
                NAMES[(i + 7) % len(NAMES)],
                COLORS[(i + 3) % len(COLORS)],
                room,
                [(x, z)],
                patrol=False,
                face=rng.uniform(0, 2 * math.pi),
            )
        )
    return bots


async def walk_to(page: Any, x: float, z: float, limit_s: float = 25.0) -> None:
    """Walks the page's avatar to (x, z) with the arrow keys (on the 2D map, which is north-up
    and fast to draw; the 3D camera starts looking the same way, towards −z)."""
    await page.focus("#view")
    deadline = time.monotonic() + limit_s
    held: set[str] = set()
    try:
        while time.monotonic() < deadline:
            s = await page.evaluate("() => window.metahall.state.self")
            dx, dz = x - s["x"], z - s["z"]
            want = set()
            if dx > 0.5:
                want.add("ArrowRight")
            elif dx < -0.5:
                want.add("ArrowLeft")
            if dz > 0.5:
                want.add("ArrowDown")
            elif dz < -0.5:
                want.add("ArrowUp")
            for key in held - want:
                await page.keyboard.up(key)
            for key in want - held:
                await page.keyboard.down(key)
            held = want
            if not want:
                return
            await asyncio.sleep(0.05)
    finally:
        for key in held:
            await page.keyboard.up(key)


async def enter(page: Any, url: str, name: str, room: str, query: str = "") -> None:
    await page.goto(f"{url}/{query}")
    await page.fill("#guest-name", name)
    await page.click("#form-guest button[type=submit]")
    await page.click(f"#room-list button[data-room-id='{room}']")
    await page.wait_for_function(
        "() => window.metahall.state.connection === 'joined'", timeout=20000
    )
    await page.wait_for_function("() => window.metahall.state.view !== null", timeout=20000)


async def run(url: str, out: Path, n_bots: int) -> list[Path]:
    from playwright.async_api import async_playwright

    rng = random.Random(5)
    shots: list[Path] = []
    bots = hall_bots(url, n_bots, rng)
    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(b.start(http) for b in bots))
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            errors: list[str] = []

            async def new_page(locale: str = "en-US") -> Any:
                ctx = await browser.new_context(
                    locale=locale, viewport={"width": 1440, "height": 900}
                )
                page = await ctx.new_page()
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.set_default_timeout(30000)
                return page

            async def shot(page: Any, name: str) -> None:
                path = out / name
                await page.screenshot(path=str(path))
                shots.append(path)
                print(f"wrote {path}", flush=True)

            landing = await new_page()
            await landing.goto(url)
            await shot(landing, "landing.png")

            page = await new_page()
            await enter(page, url, "Li Hua", "hall:main", "?quality=high&view=2d")
            for x, z in ((6.0, 22.0), (6.0, -12.0), (9.5, -13.5)):  # round the desk, up the aisle
                await walk_to(page, x, z)
            await page.click("#toggle-view")
            await page.wait_for_function("() => window.metahall.state.view === '3d'")
            await page.focus("#view")
            for _ in range(2):
                await page.keyboard.press("-")  # zoom out a little: seats in front, counters behind
            # Let everyone arrive and talk a little.
            await asyncio.sleep(12.0)
            by_name = {b.name: b for b in bots}
            for who, text in CHAT:
                if who in by_name:
                    await by_name[who].say(text)
                    await asyncio.sleep(0.3)
            await asyncio.sleep(1.5)
            await shot(page, "hall-3d.png")
            await page.click("#app .lang-btn[data-lang='zh-CN']")
            await page.keyboard.press("Escape")
            await asyncio.sleep(0.5)
            await shot(page, "hall-3d-zh.png")
            await page.click("#app .lang-btn[data-lang='en']")
            await page.click("#toggle-view")
            await page.wait_for_function("() => window.metahall.state.view === '2d'")
            await asyncio.sleep(0.8)
            await shot(page, "hall-2d.png")
            await page.click("#leave-room")

            # The expo and a social space, with a few visitors each.
            for room, spot, name in (
                ("expo:demo", (0.0, 14.0), "expo-3d.png"),
                ("social:plaza", (0.0, 8.0), "social-3d.png"),
            ):
                extra = room_bots(url, room, 10, (spot[0], spot[1] - 6), rng)
                await asyncio.gather(*(b.start(http) for b in extra))
                p = await new_page()
                await enter(p, url, "Li Hua", room, "?quality=high&view=2d")
                await walk_to(p, *spot)
                await p.click("#toggle-view")
                await p.wait_for_function("() => window.metahall.state.view === '3d'")
                await asyncio.sleep(4.0)
                await shot(p, name)
                await asyncio.gather(*(b.stop() for b in extra))

            await browser.close()
            if errors:
                print("page errors:\n" + "\n".join(errors), file=sys.stderr)
        await asyncio.gather(*(b.stop() for b in bots), return_exceptions=True)
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/screenshots"))
    parser.add_argument("--url", default=None, help="use a running server instead of starting one")
    parser.add_argument("--bots", type=int, default=36)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    server = None
    url = args.url
    if url is None:
        server = ServerProcess(Path(tempfile.mkdtemp(prefix="metahall-shots-")))
        server.start()
        url = server.url
    try:
        asyncio.run(run(url.rstrip("/"), args.out, args.bots))
    finally:
        if server:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
