"""The stage in the browser: an exhibitor goes live with Chromium's fake camera and microphone,
a visitor walks to the stage and watches (the relayed video plays), asks a question the speaker
sees and answers. Chromium is launched here with fake media devices (the package's browser has
none); the server is the browser suite's.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import ServerProcess
from tests.browser.test_hall_ui import STAFF_PASSWORD, add_user, login_and_join
from tests.browser.test_webclient import join, state

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("METAHALL_STAGE_SHOTS", "/tmp/metahall-stage-shots"))


def http(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    req = urllib.request.Request(url, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.mark.timeout(300)  # two browsers, a walk of 60 m, WebRTC in and out
def test_speaker_goes_live_and_a_visitor_at_the_stage_watches(
        web_server: ServerProcess, media_page: Any) -> None:
    add_user(web_server, "stage-admin", "admin")
    add_user(web_server, "stage-speaker", "exhibitor")
    url = web_server.url
    admin = http("POST", f"{url}/api/auth/login",
                 {"username": "stage-admin", "password": STAFF_PASSWORD})["token"]
    speaker_id = http("POST", f"{url}/api/auth/login",
                      {"username": "stage-speaker", "password": STAFF_PASSWORD})["user"]["id"]
    now = int(time.time() * 1000)
    talk = http("POST", f"{url}/api/stage/talks", {
        "room": "expo:demo", "title": {"zh-CN": "未来的城市服务", "en": "City services of the future"},
        "speaker_id": speaker_id, "start": now - 60_000, "end": now + 3_600_000, "mode": "live",
    }, admin)["talk"]
    http("POST", f"{url}/api/stage/talks", {
        "room": "expo:demo", "title": {"zh-CN": "展商交流会", "en": "Exhibitor meet-up"},
        "speaker_id": speaker_id, "start": now + 3_700_000, "end": now + 5_400_000,
        "mode": "embed", "embed_url": "https://live.example.com/meetup.m3u8"}, admin)

    # The speaker (Chinese UI) opens the stage panel and goes live with the fake camera.
    speaker = media_page(locale="zh-CN", viewport=(1100, 720))
    login_and_join(speaker, url, "stage-speaker", room="expo:demo", query="?view=2d&lang=zh-CN")
    assert "stage" in state(speaker)["panels"]["available"]
    speaker.click("#dock-tab-stage")
    speaker.locator(".stage-now-title", has_text="未来的城市服务").wait_for()
    speaker.click(".stage-go-live")
    speaker.locator(".stage-end-live").wait_for()
    assert "您正在直播" in (speaker.text_content(".stage-speaker-text") or "")

    # A visitor (English UI) sees it live; too far away to watch, walks to the stage, watches.
    viewer = media_page(viewport=(1100, 720))
    join(viewer, url, "Visitor", room="expo:demo", query="?view=2d&lang=en")
    viewer.click("#dock-tab-stage")
    viewer.locator(".stage-now .stage-badge.live").wait_for()
    viewer.click(".stage-watch")
    viewer.locator(".stage-view-text", has_text="Stand in front of the stage").wait_for()
    at_stage = "() => window.metahall.state.self && window.metahall.state.self.z < -21"
    for attempt in range(3):  # a walk can stall on a loaded machine (a skipped tick, a bump):
        viewer.click(".stage-walk")  # ask again from where the avatar stands
        try:
            viewer.wait_for_function(at_stage, timeout=45_000)
            break
        except PlaywrightTimeout:
            assert attempt < 2, "the visitor never reached the stage"
    viewer.click(".stage-watch")
    viewer.wait_for_function(
        "() => { const v = document.querySelector('.stage-video');"
        " return v && !v.hidden && v.videoWidth > 0 && v.currentTime > 0.3; }", timeout=30_000)
    t0 = viewer.evaluate("document.querySelector('.stage-video').currentTime")
    viewer.wait_for_timeout(1500)
    t1, width, paused = viewer.evaluate(
        "(() => { const v = document.querySelector('.stage-video');"
        " return [v.currentTime, v.videoWidth, v.paused]; })()")
    assert t1 > t0 + 0.5 and width > 0 and paused is False, (t0, t1, width, paused)
    assert viewer.text_content(".stage-view-text") == "Watching live"
    # Switched to 3D, the view shows the same video on the stage's screen.
    viewer.click("#toggle-view")
    viewer.wait_for_function("() => document.documentElement.dataset.stageScreen === 'on'")
    shot(viewer, "stage-viewer-3d")

    # Q&A: the visitor asks; the speaker sees it at once and marks it answered.
    viewer.fill("#stage-ask-input", "Will the recording be online?")
    viewer.click(".stage-ask-btn")
    question = speaker.locator(".stage-q", has_text="Will the recording be online?")
    question.wait_for()
    speaker.wait_for_function("() => !!document.querySelector('.stage-q .stage-vote')")
    shot(viewer, "stage-viewer-en")
    shot(speaker, "stage-speaker-zh")
    question.locator(".stage-q-answer").click()
    viewer.locator(".stage-q .stage-badge.answered").wait_for()
    assert speaker.locator(".stage-talk").count() == 2

    # The speaker ends the broadcast: the visitor is told.
    speaker.click(".stage-end-live")
    viewer.locator(".stage-view-text", has_text="The broadcast has ended").wait_for()
    assert viewer.evaluate("document.querySelector('.stage-video').hidden") is True
    assert talk["id"]
