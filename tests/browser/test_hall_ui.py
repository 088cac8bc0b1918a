"""The service hall in the browser: a citizen asks the guide, takes a number and sees its
position; a staff member (a real account, logged in through the landing page) opens a counter
and calls next; the citizen gets the call banner and the path to the counter on the floor,
in 3D and on the 2D map; after being served the citizen rates the visit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from tests.browser.conftest import ROOT, ServerProcess
from tests.browser.test_webclient import join, state

pytestmark = pytest.mark.browser

STAFF_PASSWORD = "counter-pass-123"


def add_user(server: ServerProcess, username: str, role: str) -> None:
    """``metahall user add`` against the running server's data directory."""
    env = dict(os.environ, METAHALL_DATA_DIR=str(server.data_dir), METAHALL_LOG_LEVEL="WARNING")
    subprocess.run(
        [sys.executable, "-m", "server.cli", "user", "add", username, "--role", role],
        input=STAFF_PASSWORD + "\n",
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=30,
    )


def login_and_join(page: Any, url: str, username: str, room: str = "hall:main", query: str = "") -> None:
    page.goto(f"{url}/{query}")
    page.click("#tab-login")
    page.fill("#login-user", username)
    page.fill("#login-pass", STAFF_PASSWORD)
    page.click("#form-login button[type=submit]")
    page.click(f"#room-list button[data-room-id='{room}']")
    page.wait_for_function("() => window.metahall.state.connection === 'joined'")


def test_citizen_takes_a_number_and_is_called_by_staff(web_server: ServerProcess, open_page: Any) -> None:
    add_user(web_server, "desk4", "staff")
    citizen = open_page(locale="zh-CN")
    staff = open_page()
    join(citizen, web_server.url, "Citizen", query="?lang=zh-CN")
    assert "queue" in state(citizen)["panels"]["available"]
    # A citizen is not offered the staff desk or the statistics.
    assert "counter" not in state(citizen)["panels"]["available"]
    assert "hall-stats" not in state(citizen)["panels"]["available"]

    # The guide: "社保" → social insurance, with the documents to bring; take a number.
    citizen.click("#dock-tab-queue")
    assert citizen.text_content(".queue-guide-label") == "您想办理什么业务？"
    citizen.fill("#queue-guide-input", "社保")
    citizen.click(".queue-guide button[type=submit]")
    service = citizen.locator(".queue-service[data-service-id='social_insurance']")
    service.wait_for()
    assert "社保卡" in (service.text_content() or "")  # a document to bring
    service.locator(".queue-take").click()
    ticket = citizen.locator(".queue-ticket[data-status='waiting']")
    ticket.wait_for()
    number = ticket.locator(".queue-ticket-number").text_content() or ""
    assert number.startswith("D")
    assert "排在第 1 位" in (ticket.text_content() or "")

    # Staff: log in, open counter 4 (social and medical insurance), call next.
    login_and_join(staff, web_server.url, "desk4", query="?view=2d")
    assert "counter" in state(staff)["panels"]["available"]
    staff.click("#dock-tab-counter")
    staff.wait_for_function("() => document.querySelectorAll('#staff-counter option').length > 0")
    staff.select_option("#staff-counter", "c4")
    staff.click(".staff-open")
    staff.wait_for_function("() => document.querySelector('.staff-status')?.dataset.open === 'true'")
    staff.locator(".staff-queues tr[data-service-id='social_insurance']").wait_for()
    staff.click(".staff-next")
    staff.wait_for_function(
        "n => document.querySelector('.staff-current-number')?.textContent === n", arg=number
    )

    # The citizen: banner with number and counter, a path on the floor (3D), the ticket called.
    banner = citizen.locator("#queue-called-banner")
    banner.wait_for(state="visible")
    assert banner.locator(".queue-called-number").text_content() == number
    assert "4号窗口" in (banner.text_content() or "")
    citizen.wait_for_function("() => (window.metahall.state.render?.path ?? 0) >= 2")
    assert int(banner.get_attribute("data-path-points") or 0) >= 2
    citizen.locator(".queue-ticket[data-status='called']").wait_for()
    # The path survives switching to the 2D map.
    citizen.click("#toggle-view")
    citizen.wait_for_function(
        "() => window.metahall.state.view === '2d' && (window.metahall.state.render?.path ?? 0) >= 2"
    )

    # A short beep was played through Web Audio.
    assert int(banner.get_attribute("data-beeps") or 0) >= 1

    # After a reload the client asks the server (queue.mine) and shows the call again.
    citizen.goto(f"{web_server.url}/?lang=zh-CN&view=2d&room=hall:main")
    citizen.wait_for_function("() => window.metahall.state.connection === 'joined'")
    banner = citizen.locator("#queue-called-banner")
    banner.wait_for(state="visible")
    assert banner.locator(".queue-called-number").text_content() == number
    citizen.click("#dock-tab-queue")
    citizen.locator(".queue-ticket[data-status='called']").wait_for()
    # Staff ticks off the ID card; the citizen sees what is still needed.
    staff.locator(".staff-docs input[data-doc-id='id_card']").check()
    docs = citizen.locator(".queue-ticket-docs")
    docs.wait_for()
    assert "还需提供" in (docs.text_content() or "") and "社保卡" in (docs.text_content() or "")

    # Served → the path goes, the citizen may rate the visit.
    staff.click(".staff-finish-btn")
    staff.wait_for_function("() => document.querySelector('.staff-current')?.hidden === true")
    citizen.locator(".queue-rating").wait_for(state="visible")
    citizen.wait_for_function("() => (window.metahall.state.render?.path ?? 0) === 0")
    assert banner.count() == 0
    citizen.click(".queue-star:nth-of-type(5)")
    citizen.fill(".queue-comment", "很快")
    citizen.click(".queue-rating button[type=submit]")
    citizen.locator(".queue-rating").wait_for(state="hidden")
    assert citizen.locator(".queue-ticket").count() == 0

    # The staff member closes the counter again.
    staff.click(".staff-close")
    staff.wait_for_function("() => document.querySelector('.staff-status')?.dataset.open === 'false'")


def test_guide_in_english_take_and_leave(web_server: ServerProcess, open_page: Any) -> None:
    page = open_page()
    join(page, web_server.url, "Visitor", query="?view=2d&lang=en")
    page.click("#dock-tab-queue")
    assert page.text_content(".queue-guide-label") == "What do you want to do?"
    page.fill("#queue-guide-input", "business licence")
    page.click(".queue-guide button[type=submit]")
    service = page.locator(".queue-service[data-service-id='business_licence']")
    service.wait_for()
    assert "Articles of association" in (service.text_content() or "")
    # "Show the way" draws the guide's path to a counter that serves it, on the 2D map …
    assert (page.evaluate("() => window.metahall.state.render?.path ?? 0")) == 0
    service.locator(".queue-way").click()
    page.wait_for_function("() => (window.metahall.state.render?.path ?? 0) >= 2")
    # … and it is still there in 3D.
    page.click("#toggle-view")
    page.wait_for_function(
        "() => window.metahall.state.view === '3d' && (window.metahall.state.render?.path ?? 0) >= 2"
    )
    service.locator(".queue-take").click()
    ticket = page.locator(".queue-ticket[data-status='waiting']")
    ticket.wait_for()
    assert "Position 1" in (ticket.text_content() or "")
    # Taking a second number for the same service is refused politely.
    service.locator(".queue-take").click()
    page.locator(".toast", has_text="already have a number").wait_for()
    ticket.locator(".queue-leave").click()
    page.locator(".queue-none").wait_for(state="visible")
    assert page.locator(".queue-ticket").count() == 0


def test_admin_sees_hall_statistics(web_server: ServerProcess, open_page: Any) -> None:
    add_user(web_server, "manager1", "admin")
    page = open_page()
    login_and_join(page, web_server.url, "manager1", query="?view=2d")
    available = state(page)["panels"]["available"]
    assert "hall-stats" in available and "counter" in available
    page.click("#dock-tab-hall-stats")
    page.locator(".stats-services tbody tr").first.wait_for()
    assert page.locator(".stats-counters tbody tr").count() >= 1
    # Per counter as per service: waits p50/p90, served per hour and the no-show rate.
    heads = page.locator(".stats-counters th").all_text_contents()
    service_heads = page.locator(".stats-services th").all_text_contents()
    for key in ("No-show", "p50", "p90", "/ h"):
        assert any(key.lower() in h.lower() for h in heads), (key, heads)
        assert any(key.lower() in h.lower() for h in service_heads), (key, service_heads)
    row = page.locator(".stats-counters tbody tr").first.locator("td").all_text_contents()
    assert len(row) == len(heads) == 10
    assert "Today" in (page.text_content(".stats-summary") or "")
