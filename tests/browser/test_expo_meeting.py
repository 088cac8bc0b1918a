"""A meeting in the browser: the visitor books a slot the exhibitor published; both are
reminded; at the time the private meeting chat opens for the two of them, and the optional
peer-to-peer video call (``rtc.signal``, Chromium's fake camera) connects between them."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.conftest import ServerProcess
from tests.browser.test_expo import PASSWORD, add_user, call, login_and_join
from tests.browser.test_webclient import join

pytestmark = pytest.mark.browser

def test_meeting_reminder_private_chat_and_video(web_server: ServerProcess,
                                                 media_page: Any) -> None:
    add_user(web_server, "meetorg", "admin")
    add_user(web_server, "meethost", "exhibitor")
    org = call(web_server, "POST", "/api/auth/login",
               {"username": "meetorg", "password": PASSWORD})["token"]
    booth = call(web_server, "POST", "/api/expos/demo/exhibitors",
                 {"username": "meethost", "company": "Meet Co", "slot": "b59"}, org)["booth"]["id"]
    host_token = call(web_server, "POST", "/api/auth/login",
                      {"username": "meethost", "password": PASSWORD})["token"]
    host = media_page(viewport=(1200, 800))
    login_and_join(host, web_server.url, "meethost", query="?view=2d")
    host.click("#dock-tab-expo-desk")
    host.click("#expo-desk-tab-meetings")
    # A slot that starts in a minute: its channel opens a minute before the start, i.e. now.
    start = int(time.time() * 1000) + 62_000
    call(web_server, "POST", f"/api/expo/booths/{booth}/slots",
         {"start": start, "minutes": 15, "count": 1}, host_token)

    visitor = media_page(locale="zh-CN", viewport=(1200, 800))
    join(visitor, web_server.url, "访客甲", room="expo:demo", query="?lang=zh-CN&view=2d")
    visitor.click("#dock-tab-expo")
    visitor.locator(f".expo-booth[data-booth-id='{booth}'] .item-main").click()
    visitor.locator(".expo-book").first.click()
    # The reminder (5 minutes before) and the opening (now) reach the visitor.
    visitor.locator(".toast", has_text="提醒").wait_for()
    visitor.click("#expo-tab-mine")
    chat = visitor.locator("#expo-meeting-chat-input")
    visitor.wait_for_function("() => !document.querySelector('#expo-meeting-chat-input').disabled")
    chat.fill("您好，我想了解价格")
    visitor.locator("#expo-pane-mine .expo-chat-form button[type=submit]").click()
    host.locator(".expo-chat-log li", has_text="我想了解价格").wait_for()

    # The video call: the visitor starts it, the host accepts, both see the other.
    visitor.locator(".expo-call-start").click()
    host.locator(".expo-call-accept").click()
    for page in (visitor, host):
        page.wait_for_function(
            "() => { const v = document.querySelector('.expo-call-remote');"
            " return v && v.videoWidth > 0 && v.srcObject && v.srcObject.getVideoTracks().length > 0; }")
    assert "已接通" in (visitor.locator(".expo-call-status").text_content() or "")
    host.locator(".expo-call-end").click()
    visitor.locator(".expo-call-start").wait_for()
