"""The browser's WebRTC state channel against the real server (docs/protocol.md, "WebRTC").

After joining, the client offers a data channel over Socket.IO; once it is open, snaps arrive and
moves leave on it, and ``window.metahall.state.transport`` says ``"webrtc"``. When it closes, or
with ``?rtc=0``, or without ``RTCPeerConnection``, everything stays on (or goes back to) Socket.IO.
The other visitor is a python-socketio guest on its own event loop thread (the Playwright sync API
owns this thread's loop).
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import msgpack
import pytest

from tests.browser.conftest import ServerProcess
from tests.helpers import RecordingClient, connect, guest

pytestmark = pytest.mark.browser

T = TypeVar("T")

# Keeps a handle on every data channel the page creates, so a test can close one.
RECORD_CHANNELS = """
window.__rtcChannels = [];
const create = RTCPeerConnection.prototype.createDataChannel;
RTCPeerConnection.prototype.createDataChannel = function (...args) {
  const channel = create.apply(this, args);
  window.__rtcChannels.push(channel);
  return channel;
};
"""


class Walker:
    """A guest in a room that walks on command and records what it sees."""

    def __init__(self, url: str, name: str, room: str = "hall:main") -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client: RecordingClient = self.run(self._start(url, name))
        ack = self.run(self.client.call("join", {"room": room}))
        assert ack["ok"], ack
        self.eid: int = ack["self"]
        self.x, self.y, self.z, self.yaw = ack["spawn"]

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 15) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @staticmethod
    async def _start(url: str, name: str) -> RecordingClient:
        token, _ = await guest(url, name)
        return await connect(url, token)

    def walk(self, steps: int, dx: float = 0.25) -> None:
        """Walks along x, about 2.3 m/s, then stands still."""

        async def go() -> None:
            for _ in range(steps):
                self.x += dx
                await self.client.sio.emit("move", [round(self.x, 2), self.y, self.z, self.yaw, 1])
                await asyncio.sleep(0.11)
            await self.client.sio.emit("move", [round(self.x, 2), self.y, self.z, self.yaw, 0])

        self.run(go())

    def sees(self, eid: int, x: float, z: float, tol: float = 0.3, timeout: float = 5) -> None:
        """Waits for a snap that puts ``eid`` within ``tol`` metres of (x, z)."""

        def near(raw: bytes) -> bool:
            return any(
                e[0] == eid and math.hypot(e[1] / 100 - x, e[3] / 100 - z) < tol
                for e in msgpack.unpackb(raw)[1]
            )

        self.run(self.client.wait("snap", near, timeout=timeout), timeout=timeout + 1)

    def close(self) -> None:
        try:
            self.run(self.client.close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()


def state(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.metahall.state")  # type: ignore[no-any-return]


def join(page: Any, url: str, name: str, room: str = "hall:main", query: str = "") -> None:
    page.goto(f"{url}/{query}")
    page.fill("#guest-name", name)
    page.click("#form-guest button[type=submit]")
    page.click(f"#room-list button[data-room-id='{room}']")
    page.wait_for_function("() => window.metahall.state.connection === 'joined'")


def socketio_snaps(s: dict[str, Any]) -> int:
    """Snaps that came over Socket.IO (the world counts both, the channel its own)."""
    return int(s["snaps"]) - int(s["rtc"]["snaps"])


def sees_walker_at(page: Any, walker: Walker) -> None:
    page.wait_for_function(
        "([eid, x, z]) => { const e = window.metahall.state.entities[eid];"
        " return e && Math.hypot(e.x - x, e.z - z) < 0.3; }",
        arg=[walker.eid, walker.x, walker.z],
        timeout=5_000,
    )


def walk_browser(page: Any, key: str = "KeyS", ms: int = 700) -> dict[str, Any]:
    """Walks with the keyboard, waits until stopped; returns the new self state."""
    page.focus("#view")
    page.keyboard.down(key)
    page.wait_for_timeout(ms)
    page.keyboard.up(key)
    page.wait_for_function("() => window.metahall.state.self.anim === 0")
    return state(page)["self"]  # type: ignore[no-any-return]


def test_state_goes_over_webrtc_and_socketio_takes_over_when_the_channel_closes(
    web_server: ServerProcess, open_page: Any
) -> None:
    walker = Walker(web_server.url, "Walker")
    try:
        page = open_page()
        page.add_init_script(RECORD_CHANNELS)
        join(page, web_server.url, "Rtc", query="?view=2d")
        page.wait_for_function("() => window.metahall.state.transport === 'webrtc'", timeout=8_000)
        # The server switches too (its rtc.transport comes over Socket.IO, in order with the snaps).
        page.wait_for_function("() => window.metahall.state.rtc.server === 'webrtc'", timeout=5_000)
        label = page.locator("#conn-transport")
        assert label.is_visible() and label.text_content() == "WebRTC"
        assert label.get_attribute("aria-label") == "Live updates over a WebRTC data channel"
        s = state(page)
        assert s["rtc"]["status"] == "open" and s["rtc"]["attempts"] == 1

        # The other visitor walks: the browser follows it with snaps from the channel only.
        before = state(page)
        walker.walk(8)
        sees_walker_at(page, walker)
        after = state(page)
        assert after["transport"] == "webrtc"
        assert after["rtc"]["snaps"] > before["rtc"]["snaps"]
        assert socketio_snaps(after) == socketio_snaps(before)

        # The browser walks: its moves leave on the channel and the other visitor sees them.
        me = walk_browser(page)
        assert state(page)["rtc"]["moves"] >= 2
        walker.sees(me["eid"], me["x"], me["z"])

        # The label follows the language.
        page.click("#app .lang-btn[data-lang='zh-CN']")
        assert label.text_content() == "WebRTC 通道"
        assert label.get_attribute("aria-label") == "实时更新经由 WebRTC 数据通道"
        page.click("#app .lang-btn[data-lang='en']")

        # The channel closes: Socket.IO carries snaps and moves again, at once, silently.
        page.evaluate("() => window.__rtcChannels.at(-1).close()")
        page.wait_for_function(
            "() => window.metahall.state.transport === 'socketio'", timeout=2_000
        )
        assert label.text_content() == "WebSocket"
        before = state(page)
        walker.walk(6, dx=-0.25)
        sees_walker_at(page, walker)
        after = state(page)
        assert socketio_snaps(after) > socketio_snaps(before)
        assert after["rtc"]["snaps"] == before["rtc"]["snaps"]
        me = walk_browser(page, "KeyW")
        assert state(page)["rtc"]["moves"] == after["rtc"]["moves"]
        walker.sees(me["eid"], me["x"], me["z"])
        assert page.locator("#toasts > *").count() == 0  # the fallback is not announced

        # The next join tries again.
        page.click("#leave-room")
        page.click("#room-list button[data-room-id='social:plaza']")
        page.wait_for_function("() => window.metahall.state.connection === 'joined'")
        page.wait_for_function("() => window.metahall.state.transport === 'webrtc'", timeout=8_000)
        assert state(page)["rtc"]["attempts"] == 2
    finally:
        walker.close()


def test_rtc_0_keeps_everything_on_socketio(web_server: ServerProcess, open_page: Any) -> None:
    walker = Walker(web_server.url, "Walker")
    try:
        page = open_page(locale="zh-CN")
        join(page, web_server.url, "NoRtc", query="?view=2d&rtc=0")
        walker.walk(6)
        sees_walker_at(page, walker)
        page.wait_for_timeout(1000)
        s = state(page)
        assert s["transport"] == "socketio" and s["socketTransport"] == "websocket"
        assert s["rtc"]["status"] == "disabled" and s["rtc"]["attempts"] == 0
        assert s["rtc"]["snaps"] == 0 and s["snaps"] > 0
        label = page.locator("#conn-transport")
        assert label.is_visible() and label.text_content() == "WebSocket"
        assert label.get_attribute("aria-label") == "实时更新经由 WebSocket"
    finally:
        walker.close()


def test_without_rtcpeerconnection_the_client_stays_on_socketio(
    web_server: ServerProcess, open_page: Any
) -> None:
    page = open_page()
    page.add_init_script("delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection;")
    join(page, web_server.url, "OldBrowser", query="?view=2d")
    page.wait_for_timeout(1000)
    s = state(page)
    assert s["transport"] == "socketio" and s["rtc"]["status"] == "unsupported"
    assert s["rtc"]["attempts"] == 0
    assert page.text_content("#conn-transport") == "WebSocket"


def test_a_server_without_webrtc_capacity_leaves_the_client_on_socketio(
    tmp_path: Any, open_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METAHALL_RTC_MAX_PEERS", "0")  # every rtc.offer answers `unavailable`
    server = ServerProcess(tmp_path / "data")
    server.start()
    try:
        page = open_page()
        join(page, server.url, "Capped", query="?view=2d")
        page.wait_for_function("() => window.metahall.state.rtc.status === 'failed'", timeout=5_000)
        s = state(page)
        assert s["transport"] == "socketio" and s["rtc"]["code"] == "unavailable"
        assert s["rtc"]["attempts"] == 1 and s["connection"] == "joined"
        assert page.text_content("#conn-transport") == "WebSocket"
        assert page.locator("#toasts > *").count() == 0
        page.close()  # before the server goes, or it would try to reconnect
    finally:
        server.stop()
