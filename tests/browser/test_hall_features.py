"""The service hall in the browser, second part: appointments, the private counter chat with the
document checklist, choosing the services a counter serves, and the admin's hall setup.

Set ``METAHALL_SHOTS=DIR`` to keep screenshots of each panel (both languages) for looking at.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ServerProcess
from tests.browser.test_hall_ui import STAFF_PASSWORD, add_user, login_and_join
from tests.browser.test_webclient import join, state

pytestmark = pytest.mark.browser


def shot(page: Any, name: str) -> None:
    """A screenshot into $METAHALL_SHOTS (when set), for a person to look at."""
    out = os.environ.get("METAHALL_SHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(out) / f"{name}.png"))


def set_lang(page: Any, lang: str) -> None:
    """Switches the UI language with the room's top bar buttons."""
    page.click(f"#app .lang-btn[data-lang='{lang}']")
    page.wait_for_function("l => window.metahall.lang === l", arg=lang)


def http(server: ServerProcess, method: str, path: str, body: Any = None,
         token: str | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(
        server.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_citizen_books_sees_and_cancels_an_appointment_then_gets_a_priority_number(
    web_server: ServerProcess, open_page: Any
) -> None:
    page = open_page()
    join(page, web_server.url, "Planner", query="?view=2d&lang=en")
    page.click("#dock-tab-queue")
    # From the guide's answer straight to booking that service.
    page.fill("#queue-guide-input", "hukou")
    page.click(".queue-guide button[type=submit]")
    page.locator(".queue-service[data-service-id='hukou'] .queue-book").click()
    assert page.get_attribute("#queue-tab-appointments", "aria-selected") == "true"
    assert page.input_value("#appt-service") == "hukou"
    assert page.locator(".appt-none").is_visible()
    first = page.locator(".appt-slot:not([disabled])").first
    first.wait_for()
    start = int(first.get_attribute("data-start") or 0)
    left = int(first.get_attribute("data-left") or 0)
    assert start > time.time() * 1000 and left == 2  # counters 1 and 2 take one each
    first.click()
    confirm = page.locator(".appt-confirm")
    confirm.wait_for()
    assert "Household registration" in (confirm.text_content() or "")
    shot(page, "appointments-en")
    page.click(".appt-book")

    item = page.locator(".appt-item[data-service-id='hukou']")
    item.wait_for()
    when = item.locator(".appt-when").text_content() or ""
    assert "–" in when and ":" in when
    page.locator(".toast", has_text="Booked").wait_for()
    # The slot shows it is mine; no second booking for the same service.
    mine = page.locator(f".appt-slot[data-start='{start}']")
    mine.wait_for()
    assert "your booking" in (mine.text_content() or "")
    assert page.locator(".appt-slot:not([disabled])").count() == 0
    assert page.text_content("#queue-tab-appointments .hall-tab-badge") == "1"
    shot(page, "appointments-booked-en")

    # The booking is on the server: it is there after a reload, in Chinese too.
    page.goto(f"{web_server.url}/?lang=zh-CN&view=2d&room=hall:main")
    page.wait_for_function("() => window.metahall.state.connection === 'joined'")
    page.click("#dock-tab-queue")
    page.click("#queue-tab-appointments")
    item = page.locator(".appt-item[data-service-id='hukou']")
    item.wait_for()
    assert "户籍业务" in (item.text_content() or "")
    page.locator(".appt-slot").first.wait_for()
    shot(page, "appointments-zh")

    # Cancel: the list empties and the place is free again.
    item.locator(".appt-cancel").click()
    page.locator(".appt-none").wait_for(state="visible")
    page.wait_for_function(
        "s => document.querySelector(`.appt-slot[data-start='${s}']`)?.dataset.left === '2'", arg=start
    )

    # Book again; when the slot begins the server issues a number with priority.
    page.click(f".appt-slot[data-start='{start}']")
    page.click(".appt-book")
    item.wait_for()
    appt_id = item.get_attribute("data-appointment-id")
    db = sqlite3.connect(web_server.data_dir / "metahall.db", timeout=10)
    try:
        with db:  # the slot "began" a second ago
            db.execute(
                "UPDATE hall_appointments SET start = ? WHERE id = ?",
                (int(time.time() * 1000) - 1000, appt_id),
            )
    finally:
        db.close()
    page.locator(".toast", has_text="预约的时间到了").wait_for(timeout=10_000)
    page.locator(".appt-none").wait_for(state="visible")
    page.click("#queue-tab-take")
    ticket = page.locator(".queue-ticket[data-appointment='true']")
    ticket.wait_for()
    assert (ticket.locator(".queue-ticket-number").text_content() or "").startswith("A")
    assert "预约" in (ticket.text_content() or "") and "排在第 1 位" in (ticket.text_content() or "")
    shot(page, "take-appointment-ticket-zh")


def test_counter_chat_documents_and_the_services_a_counter_serves(
    web_server: ServerProcess, open_page: Any
) -> None:
    add_user(web_server, "desk7", "staff")
    citizen = open_page()
    staff = open_page(locale="zh-CN")
    join(citizen, web_server.url, "Mei", query="?view=2d&lang=en")
    citizen.click("#dock-tab-queue")
    citizen.click(".queue-all")
    citizen.locator(".queue-service[data-service-id='tax'] .queue-take").click()
    ticket = citizen.locator(".queue-ticket[data-status='waiting']")
    ticket.wait_for()
    number = ticket.locator(".queue-ticket-number").text_content() or ""
    # Before being called, the counter tab explains itself and offers no chat.
    citizen.click("#queue-tab-counter")
    assert citizen.locator("#queue-chat-input").is_hidden()
    assert "When your number is called" in (citizen.text_content("#queue-pane-counter") or "")
    citizen.click("#queue-tab-take")

    # Staff: counter 7 serves business licences and tax; today it only calls tax.
    login_and_join(staff, web_server.url, "desk7", query="?view=2d&lang=zh-CN")
    staff.click("#dock-tab-counter")
    staff.wait_for_function("() => document.querySelectorAll('#staff-counter option').length > 0")
    staff.select_option("#staff-counter", "c7")
    boxes = staff.locator(".staff-service-list input[data-service-id]")
    staff.locator(".staff-service input[data-service-id='business_licence']").wait_for()
    assert staff.locator(".staff-service-list input:checked").count() == 2
    assert boxes.count() >= 15  # the two configured and the others under "more"
    staff.locator(".staff-service input[data-service-id='business_licence']").uncheck()
    shot(staff, "counter-services-zh")
    staff.click(".staff-open")
    staff.wait_for_function("() => document.querySelector('.staff-status')?.dataset.open === 'true'")
    staff.wait_for_function(
        "() => [...document.querySelectorAll('.staff-queues tbody tr')]"
        ".map(r => r.dataset.serviceId).join() === 'tax'"
    )
    # Change it while open (the choice folds to one line): add business licences back.
    assert "税务办理" in (staff.text_content(".staff-services-summary") or "")
    staff.click(".staff-services-summary")
    staff.locator(".staff-service input[data-service-id='business_licence']").check()
    staff.click(".staff-apply-services")
    staff.wait_for_function("() => document.querySelectorAll('.staff-queues tbody tr').length === 2")
    staff.locator(".toast", has_text="窗口已按您选择的业务叫号").wait_for()

    staff.click(".staff-next")
    staff.wait_for_function(
        "n => document.querySelector('.staff-current-number')?.textContent === n", arg=number
    )

    # The citizen is called: the counter tab lights up; the conversation is private.
    citizen.locator("#queue-called-banner").wait_for(state="visible")
    citizen.locator(".queue-ticket[data-status='called'] .queue-talk").click()
    assert citizen.get_attribute("#queue-tab-counter", "aria-selected") == "true"
    head = citizen.text_content(".queue-counter-head") or ""
    assert number in head and "Counter 7" in head
    docs = citizen.locator(".queue-counter-docs li")
    assert docs.count() >= 2
    assert citizen.locator(".queue-counter-docs li[data-checked='true']").count() == 0
    citizen.fill("#queue-chat-input", "Hello, I need a tax certificate for 2025.")
    citizen.click("#queue-pane-counter .hall-chat-send")
    staff_log = staff.locator(".staff-current .hall-chat-log")
    staff_log.locator(".msg", has_text="tax certificate for 2025").wait_for()
    assert "Mei" in (staff_log.text_content() or "")
    staff.fill("#staff-chat-input", "好的，请出示身份证。")
    staff.click(".staff-current .hall-chat-send")
    citizen.locator(".hall-chat-log .msg", has_text="请出示身份证").wait_for()

    # The staff ticks a document; the citizen sees it checked.
    first_doc = staff.locator(".staff-docs input[data-doc-id]").first
    doc_id = first_doc.get_attribute("data-doc-id")
    first_doc.check()
    citizen.locator(f".queue-counter-docs li[data-doc-id='{doc_id}'][data-checked='true']").wait_for()
    assert "Documents checked: 1 of" in (citizen.text_content("#queue-pane-counter") or "")
    staff.wait_for_function(
        "() => /1 \\/ \\d/.test(document.querySelector('.staff-docs-head')?.textContent ?? '')"
    )
    shot(citizen, "counter-chat-en")
    shot(staff, "counter-desk-zh")
    set_lang(citizen, "zh-CN")
    set_lang(staff, "en")
    citizen.wait_for_function(
        "() => document.querySelector('#queue-tab-counter')?.textContent.includes('窗口办理')"
    )
    assert "材料已核验：1" in (citizen.text_content("#queue-pane-counter") or "")
    shot(citizen, "counter-chat-zh")
    shot(staff, "counter-desk-en")

    # Served: the conversation closes for the citizen.
    staff.click(".staff-finish-btn")
    staff.wait_for_function("() => document.querySelector('.staff-current')?.hidden === true")
    citizen.wait_for_function(
        "() => document.querySelector('#queue-pane-counter')?.dataset.ticketId === ''"
    )
    assert citizen.locator("#queue-chat-input").is_hidden()
    staff.click(".staff-close")
    staff.wait_for_function("() => document.querySelector('.staff-status')?.dataset.open === 'false'")


def test_admin_edits_a_service_and_a_counter_and_citizens_see_it(
    web_server: ServerProcess, open_page: Any
) -> None:
    add_user(web_server, "manager2", "admin")
    admin = open_page()
    login_and_join(admin, web_server.url, "manager2", query="?view=2d&lang=en")
    assert "hall-admin" in state(admin)["panels"]["available"]
    admin.click("#dock-tab-hall-admin")
    row = admin.locator(".admin-service[data-service-id='housing_fund']")
    row.wait_for()
    shot(admin, "hall-setup-en")
    row.locator(".admin-edit").click()
    form = admin.locator(".admin-form[data-kind='service']")
    form.wait_for()
    assert admin.input_value("[data-field='name.en']") == "Housing provident fund"
    assert admin.locator("[data-field='id']").is_disabled()

    # A clear error in the user's language when a name is missing; nothing is saved.
    admin.fill("[data-field='name.en']", "")
    admin.fill("[data-field='prefix']", "A")  # household registration's prefix
    admin.click(".admin-save")
    err = admin.locator(".admin-error")
    err.wait_for()
    text = err.text_content() or ""
    assert "Name (English): required" in text and "Household registration" in text
    assert admin.get_attribute("[data-field='name.en']", "aria-invalid") == "true"
    shot(admin, "hall-setup-error-en")
    # The server's own check stands behind the form: nothing was stored.
    status, body = http(web_server, "POST", "/api/auth/login",
                        {"username": "manager2", "password": STAFF_PASSWORD})
    assert status == 200
    status, err_body = http(web_server, "PUT", "/api/hall/services/housing_fund",
                            {"prefix": "F", "name": {"zh-CN": "公积金", "en": ""}}, body["token"])
    assert status == 422 and err_body["error"]["field"].endswith("name.en")
    status, svc = http(web_server, "GET", "/api/hall/services/housing_fund")
    assert svc["name"]["en"] == "Housing provident fund"

    admin.fill("[data-field='prefix']", "F")
    admin.fill("[data-field='name.en']", "Housing fund (edited)")
    admin.fill("[data-field='name.zh-CN']", "住房公积金（新）")
    admin.click(".admin-add-doc")
    admin.fill("[data-field='documents[3].id']", "payslip")
    admin.fill("[data-field='documents[3].name.zh-CN']", "近六个月工资单")
    admin.fill("[data-field='documents[3].name.en']", "Payslips of the last six months")
    admin.click(".admin-save")
    admin.locator(".toast", has_text="Saved").wait_for()
    edited = admin.locator(".admin-service[data-service-id='housing_fund']", has_text="Housing fund (edited)")
    edited.wait_for()

    # A counter: rename it in both languages.
    admin.click("#hall-admin-tab-counters")
    admin.locator(".admin-counter[data-counter-id='c11'] .admin-edit").click()
    admin.locator(".admin-form[data-kind='counter']").wait_for()
    assert admin.locator(".admin-counter-services input[value='employment']").is_checked()
    admin.fill("[data-field='name.zh-CN']", "11号窗口（就业）")
    admin.fill("[data-field='name.en']", "Counter 11 (jobs)")
    set_lang(admin, "zh-CN")
    shot(admin, "hall-setup-counter-zh")
    admin.click(".admin-save")
    admin.locator(".admin-counter[data-counter-id='c11']", has_text="11号窗口（就业）").wait_for()

    # A citizen asking the guide sees the new name (and the new document), in both languages.
    citizen = open_page()
    join(citizen, web_server.url, "Lin", query="?view=2d&lang=en")
    citizen.click("#dock-tab-queue")
    citizen.fill("#queue-guide-input", "housing fund")
    citizen.click(".queue-guide button[type=submit]")
    result = citizen.locator(".queue-service[data-service-id='housing_fund']")
    result.wait_for()
    assert "Housing fund (edited)" in (result.text_content() or "")
    assert "Payslips of the last six months" in (result.text_content() or "")
    set_lang(citizen, "zh-CN")
    citizen.wait_for_function(
        "() => document.querySelector(\".queue-service[data-service-id='housing_fund']\")"
        "?.textContent.includes('住房公积金（新）')"
    )
    counters = citizen.evaluate("async () => (await fetch('/api/hall/counters')).json()")
    c11 = next(c for c in counters if c["id"] == "c11")
    assert c11["name"] == {"zh-CN": "11号窗口（就业）", "en": "Counter 11 (jobs)"}
