"""Proximity voice between two real browsers (Chromium with fake microphones).

Two visitors join a social space and switch voice on. Walking to the same table brings them
within hearing range: the server pairs them (``voice.peers``), they signal over ``rtc.signal``
and an audio ``RTCPeerConnection`` connects, with inbound audio (bytes and packets received)
growing on both sides. The beeping fake microphone makes each show as talking to the other
(the talk indicator). Walking apart ends the call: the connection is closed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ServerProcess

pytestmark = pytest.mark.browser

# Every RTCPeerConnection the page makes, so a test can see the voice calls close.
RECORD_PCS = """
window.__pcs = [];
const Original = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) {
  const pc = new Original(...args);
  window.__pcs.push(pc);
  return pc;
};
window.RTCPeerConnection.prototype = Original.prototype;
Object.setPrototypeOf(window.RTCPeerConnection, Original);
"""


@pytest.fixture
def voice_page(media_page: Callable[..., Any]) -> Callable[..., Any]:
    """Media pages that record their RTCPeerConnections."""
    return lambda locale="en-US": media_page(locale=locale, viewport=(1100, 700),
                                             init_script=RECORD_PCS)


def state(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.metahall.state")  # type: ignore[no-any-return]


def voice(page: Any) -> dict[str, Any]:
    return state(page)["social"]["voice"]  # type: ignore[no-any-return]


def enter(page: Any, url: str, name: str, room: str, query: str = "?view=2d") -> None:
    page.goto(f"{url}/{query}")
    page.fill("#guest-name", name)
    page.click("#form-guest button[type=submit]")
    page.click(f"#room-list button[data-room-id='{room}']")
    page.wait_for_function("() => window.metahall.state.connection === 'joined'")


def walk_to_place(page: Any, label: str) -> None:
    """Walk with the Places panel (the keyboard way around a room), then close it."""
    page.click("#dock-tab-places")
    page.locator("#panel-places .item-main", has_text=label).click()
    page.wait_for_function(
        "() => window.metahall.state.target === null && window.metahall.state.self.anim === 0",
        timeout=20_000)
    page.click("#dock-tab-places")


def wait_voice(page: Any, expr: str, arg: Any, pages: tuple[Any, ...], timeout: int) -> None:
    """wait_for_function, and on a timeout say what both sides' voice looked like."""
    try:
        page.wait_for_function(expr, arg=arg, timeout=timeout)
    except Exception as exc:
        seen = [(state(p)["user"]["display_name"], state(p)["self"], voice(p),
                 p.evaluate("() => window.__pcs.map((pc) => [pc.connectionState, pc.iceConnectionState,"
                            " pc.signalingState])")) for p in pages]
        raise AssertionError(f"{expr} not met; voice: {seen}") from exc


def screenshot(page: Any, name: str) -> None:
    out = os.environ.get("METAHALL_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(out) / f"{name}.png"))


def test_two_people_near_each_other_talk_and_walking_apart_hangs_up(
    web_server: ServerProcess, voice_page: Any
) -> None:
    a = voice_page()
    b = voice_page(locale="zh-CN")
    enter(a, web_server.url, "Alice", "social:cafe")
    enter(b, web_server.url, "Bao", "social:cafe")
    a_id = state(a)["user"]["id"]
    b_id = state(b)["user"]["id"]

    # Voice is offered in a social space; switching it on opens the (fake) microphone.
    for page in (a, b):
        bar = page.locator("#voice-bar")
        assert bar.is_visible()
        page.click("#voice-bar .voice-join")
        page.wait_for_function("() => window.metahall.state.social.voice.status === 'on'")
        v = voice(page)
        assert v["mic"] == "live" and v["audio"] == "running"
    assert a.text_content("#voice-bar .voice-join") == "Leave voice"
    assert b.text_content("#voice-bar .voice-join") == "退出语音"

    # Both walk to table A: within 8 m, so the server pairs them and they call.
    walk_to_place(a, "Table A")
    walk_to_place(b, "A 桌")
    for page, other in ((a, b_id), (b, a_id)):
        wait_voice(page, "(id) => window.metahall.state.social.voice.peers[id]?.state === 'connected'",
                   other, (a, b), 20_000)
    # Audio flows both ways: inbound bytes and packets keep growing.
    first = {id_: voice(p)["peers"][id_] for p, id_ in ((a, b_id), (b, a_id))}
    time.sleep(2.5)
    second = {id_: voice(p)["peers"][id_] for p, id_ in ((a, b_id), (b, a_id))}
    for id_ in (a_id, b_id):
        assert second[id_]["packetsReceived"] > first[id_]["packetsReceived"] > 0, (first, second)
        assert second[id_]["bytesReceived"] > first[id_]["bytesReceived"] > 0
        assert second[id_]["distance"] is not None and second[id_]["distance"] < 8
    assert voice(a)["peers"][b_id]["offer"] != voice(b)["peers"][a_id]["offer"]
    # The fake microphone beeps: Bao shows as talking to Alice now and then (talk indicator).
    a.wait_for_function("(id) => window.metahall.state.social.voice.peers[id]?.talking === true",
                        arg=b_id, timeout=10_000, polling=50)
    assert "Talking with 1 nearby" in (a.text_content("#voice-bar .voice-state") or "")
    assert "正在与附近 1 人通话" in (b.text_content("#voice-bar .voice-state") or "")
    audio_pcs = ("() => window.__pcs.filter((pc) => pc.getTransceivers()"
                 ".some((t) => t.receiver.track.kind === 'audio'))")
    # (An earlier call may have come and gone while Alice walked past Bao on her way.)
    assert a.evaluate(f"() => ({audio_pcs})().map((pc) => pc.connectionState)")[-1] == "connected"
    screenshot(a, "social-voice-en")
    screenshot(b, "social-voice-zh")

    # Mute: our microphone track stops (the call stays up).
    a.click("#voice-bar .voice-mute")
    assert voice(a)["muted"] is True
    assert a.get_attribute("#voice-bar .voice-mute", "aria-pressed") == "true"
    a.click("#voice-bar .voice-mute")

    # Bao walks away (north, with the keyboard, ~13 m): the call ends on both sides and the
    # peer connection is closed.
    b.focus("#view")
    b.keyboard.down("KeyW")
    b.wait_for_timeout(4000)
    b.keyboard.up("KeyW")
    wait_voice(a, "(id) => !(id in window.metahall.state.social.voice.peers)", b_id, (a, b), 10_000)
    wait_voice(b, "(id) => !(id in window.metahall.state.social.voice.peers)", a_id, (a, b), 10_000)
    states = a.evaluate(f"() => ({audio_pcs})().map((pc) => pc.connectionState)")
    assert states and all(st == "closed" for st in states), states
    assert "Nobody within 8 m" in (a.text_content("#voice-bar .voice-state") or "")
