"""The browser client, driven through Debian's Chromium against a real server.

Positions are read from the client's read-only debug hook ``window.metahall.state``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from tests.browser.conftest import ServerProcess

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>'


def state(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.metahall.state")  # type: ignore[no-any-return]


def join(
    page: Any, url: str, name: str, room: str = "hall:main", query: str = ""
) -> dict[str, Any]:
    """Signs in as a guest through the landing page and enters `room` from the room list."""
    page.goto(f"{url}/{query}")
    page.fill("#guest-name", name)
    page.click("#form-guest button[type=submit]")
    page.click(f"#room-list button[data-room-id='{room}']")
    page.wait_for_function("() => window.metahall.state.connection === 'joined'")
    return state(page)


def entity(page: Any, eid: int) -> dict[str, Any] | None:
    return page.evaluate("eid => window.metahall.state.entities[eid] ?? null", eid)  # type: ignore[no-any-return]


def test_two_visitors_see_each_other_move_and_chat_safely(
    web_server: ServerProcess, open_page: Any
) -> None:
    alice, bob = open_page(), open_page()
    a = join(alice, web_server.url, "Alice")
    # Bob watches on the 2D map: the same world state, and it leaves the CPU to Alice's 3D view.
    b = join(bob, web_server.url, "Bob", query="?view=2d")
    a_eid = a["self"]["eid"]
    assert a["room"] == b["room"] == "hall:main" and a_eid != b["self"]["eid"]
    assert a["view"] == "3d" and a["webgl"] is True

    # Both spawn somewhere in the lobby, possibly farther apart than the 30 m area of interest:
    # Alice walks to the guide desk first (keyboard only: G for places, type, Enter).
    alice.focus("#view")
    alice.keyboard.press("g")
    alice.keyboard.type("Guide")
    alice.keyboard.press("Enter")
    alice.wait_for_function("() => window.metahall.state.target !== null")
    alice.wait_for_function("() => window.metahall.state.target === null", timeout=30_000)
    a = state(alice)

    # Bob sees Alice once she is in his area of interest.
    bob.wait_for_function("eid => eid in window.metahall.state.entities", arg=a_eid)
    before = entity(bob, a_eid)
    assert before is not None

    # Alice walks with the keyboard (backwards: the desk is in front of her).
    alice.focus("#view")
    alice.keyboard.down("KeyS")
    alice.wait_for_function(
        "([x, z]) => { const s = window.metahall.state.self;"
        " return Math.hypot(s.x - x, s.z - z) > 2.5; }",
        arg=[a["self"]["x"], a["self"]["z"]],
    )
    alice.keyboard.up("KeyS")
    alice.wait_for_function("() => window.metahall.state.self.anim === 0")
    moved = state(alice)["self"]
    assert state(alice)["movesSent"] >= 2

    # ...and Bob's view of her follows, to where she stopped.
    bob.wait_for_function(
        "([eid, x, z]) => { const e = window.metahall.state.entities[eid];"
        " return e && Math.hypot(e.x - x, e.z - z) < 0.3; }",
        arg=[a_eid, moved["x"], moved["z"]],
    )
    after = entity(bob, a_eid)
    assert after is not None
    assert math.hypot(after["x"] - before["x"], after["z"] - before["z"]) > 2.0

    # Chat: Enter on the view opens the chat input; the message reaches Bob.
    alice.focus("#view")
    alice.keyboard.press("Enter")
    assert alice.evaluate("() => document.activeElement.id") == "chat-input"
    alice.keyboard.type("hello from Alice")
    alice.keyboard.press("Enter")
    alice.locator(".chat-log .msg-text", has_text="hello from Alice").wait_for()
    bob.locator(".chat-log .msg-text", has_text="hello from Alice").wait_for()
    assert bob.locator(".chat-log .msg-chat .msg-from", has_text="Alice").count() >= 1

    # An HTML/script payload is shown as text, never interpreted.
    alice.fill("#chat-input", XSS)
    alice.press("#chat-input", "Enter")
    shown = bob.locator(".chat-log .msg-text", has_text="<img src=x")
    shown.wait_for()
    assert shown.first.text_content() == XSS
    for page in (alice, bob):
        assert page.locator(".chat-log img, .chat-log script, .chat-log b").count() == 0
        assert page.evaluate("() => window.__pwned ?? null") is None

    # Unread badge: Bob's "Room" tab is active, so his "Nearby" and "Direct" show none; switch
    # him to Nearby and a room message counts as unread on the Room tab.
    bob.click("#chat-tab-near")
    alice.fill("#chat-input", "second message")
    alice.press("#chat-input", "Enter")
    bob.locator("#chat-tab-room .badge:not([hidden])", has_text="1").wait_for()


def test_language_follows_the_browser_and_the_switch_changes_texts(
    web_server: ServerProcess, open_page: Any
) -> None:
    zh = open_page(locale="zh-CN")
    zh.goto(web_server.url)
    assert zh.evaluate("() => window.metahall.lang") == "zh-CN"
    assert zh.text_content("#identity-title") == "您是谁？"
    assert zh.get_attribute("html", "lang") == "zh-CN"

    page = open_page(locale="en-US")
    join(page, web_server.url, "Lang")
    assert page.text_content("#chat-tab-room .tab-label") == "Room"
    assert page.text_content("#leave-room") == "Leave"
    page.click("#app .lang-btn[data-lang='zh-CN']")
    assert page.evaluate("() => window.metahall.lang") == "zh-CN"
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.text_content("#chat-tab-room .tab-label") == "房间"
    assert page.text_content("#leave-room") == "离开"
    assert page.text_content("#room-name") == "市民服务中心"
    assert "已连接" in (page.text_content("#conn-text") or "")
    assert page.get_attribute("#view", "aria-label") == "房间画面。用 W A S D 或方向键行走。"
    page.click("#app .lang-btn[data-lang='en']")
    assert page.text_content("#chat-tab-room .tab-label") == "Room"
    assert page.text_content("#room-name") == "Citizen Service Hall"


def test_2d_map_renders_and_walks(web_server: ServerProcess, open_page: Any) -> None:
    page = open_page()
    join(page, web_server.url, "Mapper")
    page.click("#toggle-view")
    page.wait_for_function("() => window.metahall.state.view === '2d'")
    assert page.is_visible("#view-2d") and not page.is_visible("#view-3d")
    # The map draws the room: many distinct colours, not a blank canvas.
    colours = page.evaluate(
        """() => { const c = document.getElementById('view-2d'); const g = c.getContext('2d');
        const d = g.getImageData(0, 0, c.width, c.height).data; const seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 97)
          seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        return seen.size; }"""
    )
    assert colours > 20
    start = state(page)["self"]
    page.focus("#view")
    page.keyboard.down("ArrowUp")  # north, up the map
    page.wait_for_function("z => window.metahall.state.self.z < z - 1.5", arg=start["z"])
    page.keyboard.up("ArrowUp")
    # Click-to-walk on the map.
    box = page.locator("#view-2d").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_function(
        "() => window.metahall.state.target !== null || window.metahall.state.self.anim === 1"
    )
    # The choice is remembered and can be undone.
    page.click("#toggle-view")
    page.wait_for_function("() => window.metahall.state.view === '3d'")


def test_keyboard_only_places_panel_and_accessible_names(
    web_server: ServerProcess, open_page: Any
) -> None:
    page = open_page()
    join(page, web_server.url, "Keys")
    page.focus("#view")
    page.keyboard.press("g")  # Places
    page.wait_for_function("() => window.metahall.state.panels.open === 'places'")
    page.keyboard.type("Counter 3")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.metahall.state.target !== null")
    assert page.evaluate("() => document.activeElement.id") == "view"
    page.keyboard.press("?")
    assert page.is_visible("#help")
    page.keyboard.press("Escape")
    assert not page.is_visible("#help")
    # Every visible control has an accessible name.
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, input, select, [tabindex]')]
        .filter(el => el.offsetParent !== null || el === document.getElementById('view'))
        .filter(el => !(el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
                        || (el.labels && el.labels.length) || el.textContent.trim()))
        .map(el => el.outerHTML.slice(0, 120))"""
    )
    assert unnamed == []


def test_two_hundred_avatars_use_instancing_and_few_name_tags(
    web_server: ServerProcess, open_page: Any
) -> None:
    page = open_page()
    join(page, web_server.url, "Crowd", query="?crowd=200")
    page.wait_for_function("() => (window.metahall.state.render?.instances ?? 0) >= 201")
    page.wait_for_timeout(1500)
    s = state(page)
    render = s["render"]
    assert render["tags"] <= 20
    # Draw calls stay flat: the crowd is a few instanced meshes, not one mesh per avatar.
    assert render["calls"] < 120, render
    # Our CPU time per frame (interpolation, instance matrices, tags; three.js' own render() call
    # excluded, it is the software GPU here) stays well inside a 60 Hz frame.
    assert s["frameMs"] < 8, s


def test_session_expired_is_explained(web_server: ServerProcess, open_page: Any) -> None:
    page = open_page()
    page.goto(web_server.url)
    forged = {
        "token": "v1.forged.x",
        "user": {"id": "nobody", "display_name": "Ghost", "roles": []},
        "avatar": {"model": "capsule", "color": "#2e86de"},
    }
    page.evaluate("s => sessionStorage.setItem('metahall.session', JSON.stringify(s))", forged)
    page.goto(f"{web_server.url}/?room=hall:main")
    page.wait_for_selector("#refusal:not([hidden])")
    assert "expired" in (page.text_content("#refusal-text") or "")
    assert state(page)["connection"] == "refused"
    page.click("#refusal-back")
    page.wait_for_selector("#identity:not([hidden])")


def test_rejoins_the_same_room_after_the_server_restarts(
    tmp_path: Any, open_page: Any, chromium: Any
) -> None:
    server = ServerProcess(tmp_path / "data")
    server.start()
    try:
        page = open_page(
            allow=("WebSocket connection to", "ERR_CONNECTION_REFUSED", "Failed to load resource")
        )
        join(page, server.url, "Phoenix", room="social:plaza")
        server.stop(crash=True)  # as abrupt as a network drop
        page.wait_for_function("() => window.metahall.state.connection === 'reconnecting'")
        assert page.is_visible("#view-notice")
        assert "reconnecting" in (page.text_content("#conn-text") or "").lower()
        server.start()
        page.wait_for_function(
            "() => window.metahall.state.connection === 'joined'"
            " && window.metahall.state.joins === 2",
            timeout=30_000,
        )
        s = state(page)
        assert s["room"] == "social:plaza"
        assert not page.is_visible("#view-notice")
        log = json.dumps(s["chat"])
        assert "system" in log
    finally:
        server.stop()
