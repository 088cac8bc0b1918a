"""Social spaces in the browser: create a private space from the Spaces panel, invite someone
with a link (they enter; a stranger without it, or with it once used up, is told why), host
tools (mute, remove), emotes, tables, and the directory. Screenshots of the panels in both
languages go to ``$METAHALL_SCREENSHOTS`` when it is set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ServerProcess

pytestmark = pytest.mark.browser


def state(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.metahall.state")  # type: ignore[no-any-return]


def sign_in(page: Any, url: str, name: str, query: str = "") -> None:
    page.goto(f"{url}/{query}")
    page.fill("#guest-name", name)
    page.click("#form-guest button[type=submit]")
    page.wait_for_selector("#room-list button")


def joined(page: Any) -> None:
    page.wait_for_function("() => window.metahall.state.connection === 'joined'")


def shot(page: Any, name: str) -> None:
    out = os.environ.get("METAHALL_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(out) / f"{name}.png"))


def test_private_space_invite_link_host_tools_and_emotes(web_server: ServerProcess,
                                                         open_page: Any) -> None:
    url = web_server.url
    owner = open_page(viewport=(1200, 800))
    sign_in(owner, url, "Olivia", "?view=2d")
    owner.click("#room-list button[data-room-id='social:plaza']")
    joined(owner)
    assert {"space", "spaces"} <= set(state(owner)["panels"]["available"])

    # The directory lists the plazas with live counts; create a private space from the form.
    owner.click("#dock-tab-spaces")
    plaza = owner.locator(".social-space[data-room='social:plaza']")
    plaza.wait_for()
    assert "1 of 500 here" in (plaza.text_content() or "")
    assert "You are here" in (plaza.text_content() or "")
    shot(owner, "social-spaces-en")
    owner.click(".social-create-toggle")
    owner.fill(".social-create input[name=name]", "Olivia's book club")
    owner.fill(".social-create textarea[name=description]", "Tuesdays, tea")
    owner.fill(".social-create input[name=capacity]", "12")
    owner.select_option(".social-create select[name=privacy]", "private")
    owner.click(".social-create button[type=submit]")
    owner.wait_for_url("**?room=social%3As-*")
    joined(owner)
    room = state(owner)["room"]
    assert room.startswith("social:s-")
    owner.wait_for_function(
        "() => document.querySelector('#room-name').textContent === \"Olivia's book club\"")

    # Host tools: an invite link for one person.
    owner.click("#dock-tab-space")
    owner.locator(".space-host").wait_for()
    assert owner.text_content(".space-badges") == "Private · Owner · 1 of 12 here"
    owner.select_option(".space-invite-uses", "1")
    owner.click(".space-invite")
    link_box = owner.locator(".space-invite-link input")
    link_box.wait_for()
    link = link_box.input_value()
    assert f"room={room}" in link and "invite=" in link
    owner.locator(".space-invite-row", has_text="Active link").wait_for()
    shot(owner, "social-space-host-en")

    # A stranger without the link is told the space is private (in Chinese).
    guest = open_page(locale="zh-CN", viewport=(1200, 800))
    sign_in(guest, url, "Bao", "?view=2d")
    guest.goto(f"{url}/?room={room}&view=2d")
    guest.locator("#refusal").wait_for()
    assert guest.text_content("#refusal-text") == "这是私密空间，需要主持人的邀请链接才能进入。"
    assert state(guest)["refusal"]["reason"] == "space_private"
    guest.click("#refusal-back")

    # With the link they come in (and the link is used up).
    guest.goto(link + "&view=2d")
    joined(guest)
    assert state(guest)["room"] == room
    assert "invite=" not in guest.url  # the token is dropped from the address
    guest.locator("#toasts", has_text="已接受邀请").wait_for()

    third = open_page(viewport=(1000, 700), allow=("status of 403",))  # the refused redemption
    sign_in(third, url, "Cyd", "?view=2d")
    third.goto(link + "&view=2d")
    third.locator("#refusal").wait_for()
    assert third.text_content("#refusal-text") == "This invite link has already been used."

    # The owner sees how the guest came in (the allow list of the private space).
    owner.click("#dock-tab-space")
    owner.click("#dock-tab-space")  # reopened: the lists are loaded again
    owner.locator(".space-allowed", has_text="came with an invite link").wait_for()
    assert "Bao" in (owner.text_content(".space-allow-list") or "")

    # Emotes: the guest waves; the owner's chat says so, and the guest's tag shows it.
    guest.click("#dock-tab-space")
    guest.click(".space-emote[data-emote='wave']")
    for page in (owner, guest):
        page.click("#chat-tab-system")
    owner.locator(".chat-log", has_text="Bao: Wave").wait_for()
    guest.locator(".chat-log", has_text="Bao：挥手").wait_for()
    shot(guest, "social-space-zh")
    guest.click("#chat-tab-room")

    # People here, with host tools: mute, then remove.
    person = owner.locator(f".space-person[data-user-id='{state(guest)['user']['id']}']")
    person.wait_for()
    person.locator(".space-mute").click()
    guest.locator("#toasts", has_text="主持人已在此空间将你禁言").wait_for()
    guest.fill("#chat-input", "hello?")
    guest.press("#chat-input", "Enter")
    guest.locator(".chat-error", has_text="禁言").wait_for()
    person.locator(".space-kick").click()
    guest.locator("#landing").wait_for()
    # the notice may be written a moment after the landing shows (slow machines)
    guest.locator("#rooms-error", has_text="主持人已请你离开该空间").wait_for()
    guest.goto(f"{url}/?room={room}&view=2d")
    guest.locator("#refusal").wait_for()
    assert "主持人已请你离开此空间" in (guest.text_content("#refusal-text") or "")

    # The owner locks the space; the directory (in Chinese now) shows it, with the count.
    owner.click(".space-lock")
    owner.wait_for_function(
        "() => document.querySelector('.space-lock').getAttribute('aria-pressed') === 'true'")
    owner.click("#app .lang-btn[data-lang='zh-CN']")
    assert "私密 · 已锁定 · 创建者" in (owner.text_content(".space-badges") or "")
    shot(owner, "social-space-host-zh")
    owner.click("#dock-tab-spaces")
    mine = owner.locator(f".social-space[data-room='{room}']")
    mine.wait_for()
    assert "1 / 12 人" in (mine.text_content() or "") and "已锁定" in (mine.text_content() or "")
    shot(owner, "social-spaces-zh")


def test_tables_are_private_rooms_with_their_own_chat(web_server: ServerProcess,
                                                      open_page: Any) -> None:
    url = web_server.url
    a = open_page()
    b = open_page(locale="zh-CN")
    for page, name in ((a, "Ana"), (b, "Bei")):
        sign_in(page, url, name, "?view=2d")
        page.click("#room-list button[data-room-id='social:cafe']")
        joined(page)
        page.click("#dock-tab-space")
        page.locator(".space-table[data-table='C']").wait_for()
        page.locator(".space-table[data-table='C'] button").click()  # walk there
        page.wait_for_function("() => window.metahall.state.target === null"
                               " && window.metahall.state.self.anim === 0", timeout=20_000)
        page.locator(".space-table[data-table='C'] .space-table-join").click()
        page.locator(".space-table[data-table='C'] .space-table-leave").wait_for()
    a.wait_for_function("() => (window.metahall.state.social.tables.C ?? []).length === 2")
    a.fill(".space-table-chat input", "just us two")
    a.press(".space-table-chat input", "Enter")
    b.locator(".space-chat-log", has_text="just us two").wait_for()
    text = b.text_content(".space-table[data-table='C']") or ""
    assert "2 / 8 个座位" in text and "Ana" in text
    b.locator(".space-table[data-table='C'] .space-table-leave").click()
    a.wait_for_function("() => (window.metahall.state.social.tables.C ?? []).length === 1")
