"""The moderator dashboard in Chromium: open a flagged case, replay it, mute the user.

The users are python-socketio clients on an event loop in a background thread; the moderator is
a real browser page. The server is its own `metahall serve` process with a moderator account
made by `metahall user add`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import aiohttp
import pytest

from tests.browser.conftest import ROOT, ServerProcess, _require
from tests.helpers import RecordingClient, connect

pytestmark = pytest.mark.browser
T = TypeVar("T")
PASSWORD = "mod-pass-2024"


class UserSide:
    """An asyncio loop in a thread for the python-socketio users."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def mod_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    _require()
    server = ServerProcess(tmp_path_factory.mktemp("metahall-moderation"))
    env = dict(os.environ, METAHALL_DATA_DIR=str(server.data_dir), METAHALL_LOG_LEVEL="WARNING")
    made = subprocess.run(
        [sys.executable, "-m", "server.cli", "user", "add", "mod1", "--role", "moderator",
         "--display-name", "审核员"], input=PASSWORD + "\n", capture_output=True, text=True,
        cwd=ROOT, env=env, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _user(url: str, name: str, lang: str) -> tuple[RecordingClient, list[float], str]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/auth/guest", json={"display_name": name}) as resp:
            body = await resp.json()
    client = await connect(url, body["token"], lang=lang)
    ack = await client.call("join", {"room": "social:cafe"})
    assert ack["ok"], ack
    return client, list(ack["spawn"]), body["user"]["id"]


async def _scene(url: str) -> dict[str, Any]:
    troll, (tx, _, tz, _), troll_id = await _user(url, "Troll", "zh-CN")
    witness, (wx, _, wz, _), _ = await _user(url, "Witness", "en")
    mx, mz = (tx + wx) / 2 + 1.0, (tz + wz) / 2
    for step in range(1, 13):  # both walk towards the middle for a second and a bit
        f = min(1.0, step * 0.45 / max(0.1, ((mx - tx) ** 2 + (mz - tz) ** 2) ** 0.5))
        await troll.sio.emit("move", [tx + (mx - tx) * f, 0.0, tz + (mz - tz) * f, 0.0, 1])
        await witness.sio.emit("move", [wx + (mx - 2 - wx) * f, 0.0, wz + (mz - wz) * f, 0.0, 1])
        await asyncio.sleep(0.1)
    assert (await witness.call("chat", {"channel": "room", "text": "hello everyone"}))["ok"]
    flagged = await troll.call("chat", {"channel": "room", "text": "click here for free coins"})
    assert flagged["ok"], flagged
    return {"troll": troll, "witness": witness, "troll_id": troll_id,
            "message_id": flagged["id"]}


def scrub(page: Any, value: int) -> None:
    """Drag the time slider to ``value`` (0..1000) as a user would."""
    page.eval_on_selector("#scrub", "(el, v) => { el.value = String(v);"
                                    " el.dispatchEvent(new Event('input')); }", value)


def test_moderator_replays_a_flagged_case_and_mutes_the_user(
        mod_server: ServerProcess, open_page: Any) -> None:
    users = UserSide()
    try:
        scene = users.run(_scene(mod_server.url))
        page = open_page(locale="zh-CN", viewport=(1280, 900))
        page.goto(f"{mod_server.url}/app/dashboard/index.html")
        page.fill("#login-username", "mod1")
        page.fill("#login-password", PASSWORD)
        page.click("#form-login button[type=submit]")
        page.wait_for_function("() => window.metahallDashboard.state.signedIn")
        assert page.inner_text("#who").startswith("审核员")
        page.locator("#live[data-state=on]").wait_for()

        item = page.locator(".case-item", has_text="click here")
        item.wait_for()
        assert item.get_attribute("data-severity") == "2"
        item.click()
        page.wait_for_function("() => window.metahallDashboard.state.caseId !== null")
        flagged = page.locator(f"#case-chat li[data-message-id='{scene['message_id']}']")
        assert "flagged" in (flagged.get_attribute("class") or "")
        assert flagged.inner_text().endswith("click here for free coins")
        assert page.locator("#case-chat li").count() >= 2
        legend = page.inner_text("#legend")
        assert "Troll" in legend and "Witness" in legend and "涉事" in legend

        # Replay: from the start, play for a while, pause; scrub to the end.
        scrub(page, 0)
        assert page.locator("#case-chat li.future").count() == page.locator("#case-chat li").count()
        page.select_option("#speed", "1")
        page.click("#play")
        page.wait_for_function("() => window.metahallDashboard.state.playing")
        page.wait_for_function("() => window.metahallDashboard.state.t > 300")
        page.click("#play")
        state = page.evaluate("() => window.metahallDashboard.state")
        assert not state["playing"] and 0 < state["t"] < state["span"]
        scrub(page, 1000)
        assert page.locator("#case-chat li.future").count() == 0
        red = page.evaluate("""() => {
            const c = document.getElementById('map');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) {
              if (d[i] > 180 && d[i + 1] < 90 && d[i + 2] < 90) n++;
            }
            return n; }""")
        assert red > 30  # the involved user's trail and dot are drawn

        # Act: mute the user for 10 minutes with a note.
        page.select_option("#act-action", "mute")
        page.select_option("#act-user", scene["troll_id"])
        page.select_option("#act-duration", "600")
        page.select_option("#act-reason", "spam")
        page.click("#act-submit")
        assert page.inner_text("#act-result") == "请先填写说明。"  # a note is required
        page.fill("#act-note", "请不要发广告链接")
        page.click("#act-submit")
        page.locator("#act-result[data-kind=ok]").wait_for()
        page.locator("#no-cases").wait_for()  # the case left the open list

        troll: RecordingClient = scene["troll"]
        notice = users.run(troll.wait("moderation"))
        assert notice["action"] == "mute" and notice["note"] == "请不要发广告链接"
        assert "禁言" in notice["message"] and notice["reason"] == "垃圾信息或广告"
        ack = users.run(troll.call("chat", {"channel": "room", "text": "still here"}))
        assert ack["ok"] is False and ack["error"]["code"] == "muted"

        page.select_option("#lang", "en")
        assert page.inner_text("header.bar h1") == "Moderation"
        users.run(troll.close())
        users.run(scene["witness"].close())
    finally:
        users.close()


def test_only_moderators_get_in(mod_server: ServerProcess, open_page: Any) -> None:
    users = UserSide()
    try:
        async def register() -> None:
            body = {"username": "citizen1", "password": "citizen-pass-1", "display_name": "Cit"}
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{mod_server.url}/api/auth/register", json=body) as resp:
                    assert resp.status == 201

        users.run(register())
    finally:
        users.close()
    page = open_page(allow=("status of 401",))
    page.goto(f"{mod_server.url}/app/dashboard/index.html")
    page.fill("#login-username", "mod1")
    page.fill("#login-password", "wrong-password")
    page.click("#form-login button[type=submit]")
    page.locator("#login-error", has_text="Wrong username or password.").wait_for()
    page.fill("#login-username", "citizen1")
    page.fill("#login-password", "citizen-pass-1")
    page.click("#form-login button[type=submit]")
    page.locator("#login-error", has_text="not a moderator").wait_for()
    assert page.evaluate("() => sessionStorage.getItem('metahall.mod.token')") is None
    csp = page.evaluate(
        "async () => (await fetch(location.href)).headers.get('content-security-policy')")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
