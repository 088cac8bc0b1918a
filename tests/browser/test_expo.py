"""The expo in the browser: an exhibitor (invited by the organiser) edits their booth — texts,
colour, an uploaded logo; an upload that lies about its type is refused with a clear message —
a visitor already in the hall sees the change without reloading, shares their contact with
explicit consent, and the exhibitor sees the lead and exports it as CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import ROOT, ServerProcess
from tests.browser.test_webclient import join, state

pytestmark = pytest.mark.browser

PASSWORD = "expo-pass-12345"
SHOTS = os.environ.get("METAHALL_EXPO_SHOTS")  # a directory: keep screenshots of the panels


def add_user(server: ServerProcess, username: str, role: str) -> None:
    env = dict(os.environ, METAHALL_DATA_DIR=str(server.data_dir), METAHALL_LOG_LEVEL="WARNING")
    subprocess.run([sys.executable, "-m", "server.cli", "user", "add", username, "--role", role],
                   input=PASSWORD + "\n", text=True, cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=60)


def call(server: ServerProcess, method: str, path: str, body: Any = None,
         token: str | None = None) -> Any:
    req = urllib.request.Request(server.url + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def login_and_join(page: Any, url: str, username: str, query: str = "") -> None:
    page.goto(f"{url}/{query}")
    page.click("#tab-login")
    page.fill("#login-user", username)
    page.fill("#login-pass", PASSWORD)
    page.click("#form-login button[type=submit]")
    page.click("#room-list button[data-room-id='expo:demo']")
    page.wait_for_function("() => window.metahall.state.connection === 'joined'")


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 120), (200, 60, 40)).save(out, "PNG")
    return out.getvalue()


def test_exhibitor_edits_booth_visitor_sees_it_shares_contact_exhibitor_exports_csv(
        web_server: ServerProcess, open_page: Any, tmp_path: Path) -> None:
    add_user(web_server, "expoorg", "admin")
    add_user(web_server, "teaworks", "exhibitor")
    org = call(web_server, "POST", "/api/auth/login",
               {"username": "expoorg", "password": PASSWORD})["token"]
    invited = call(web_server, "POST", "/api/expos/demo/exhibitors",
                   {"username": "teaworks", "company": "Tea Works", "slot": "b58"}, org)
    booth = invited["booth"]["id"]

    # A visitor (Chinese UI) is in the hall before the booth is edited.
    visitor = open_page(locale="zh-CN")
    join(visitor, web_server.url, "参观者", room="expo:demo", query="?lang=zh-CN&view=2d")
    assert "expo" in state(visitor)["panels"]["available"]
    assert "expo-desk" not in state(visitor)["panels"]["available"]
    visitor.click("#dock-tab-expo")
    row = visitor.locator(f".expo-booth[data-booth-id='{booth}']")
    row.wait_for()
    assert "Tea Works" in (row.text_content() or "")

    # The exhibitor logs in and edits the booth in "My booth".
    ex = open_page(viewport=(1280, 900), allow=("status of 422",))  # the refused upload
    login_and_join(ex, web_server.url, "teaworks", query="?view=2d")
    ex.click("#dock-tab-expo-desk")
    ex.wait_for_selector("#expo-desk-name-en")
    # An upload that lies (a PNG called .pdf) is refused with a clear reason; a real one is kept.
    lie = tmp_path / "brochure.pdf"
    lie.write_bytes(png_bytes())
    ex.set_input_files("#expo-desk-file", str(lie))
    ex.select_option("#expo-desk-purpose", "brochure")
    ex.click(".expo-upload button[type=submit]")
    err = ex.locator(".expo-upload .expo-error")
    err.wait_for()
    assert "not what its name or type says" in (err.text_content() or "")
    logo = tmp_path / "logo.png"
    logo.write_bytes(png_bytes())
    ex.set_input_files("#expo-desk-file", str(logo))
    ex.select_option("#expo-desk-purpose", "image")
    ex.click(".expo-upload button[type=submit]")
    ex.wait_for_function("() => document.querySelectorAll('#expo-desk-logo option').length === 2")
    ex.fill("#expo-desk-name-zh-CN", "茶之道")
    ex.fill("#expo-desk-name-en", "Way of Tea")
    ex.fill("#expo-desk-banner-en", "Taste before you buy")
    ex.fill("#expo-desk-desc-en", "Oolong and white tea from Fujian.")
    ex.select_option("#expo-desk-category", "food")
    ex.fill("#expo-desk-keywords", "oolong, 乌龙茶")
    ex.eval_on_selector("#expo-desk-color", "(el) => { el.value = '#0f7a5a'; }")
    ex.select_option("#expo-desk-logo", index=1)
    ex.click(".expo-desk-save")
    ex.locator(".toast", has_text="Booth saved").wait_for()
    shot(ex, "expo-desk-en")

    # The visitor sees it without reloading: the directory entry, then the booth itself.
    row.locator(".item-name", has_text="茶之道").wait_for()
    visitor.wait_for_function(
        f"() => document.querySelector(\".expo-booth[data-booth-id='{booth}'] img.expo-logo\")")
    row.locator(".item-main").click()
    card = visitor.locator(f".expo-card[data-booth-id='{booth}']")
    card.wait_for()
    assert "Taste before you buy" in (card.text_content() or "")  # no Chinese banner: English
    assert card.evaluate("el => getComputedStyle(el).getPropertyValue('--booth-color').trim()") == "#0f7a5a"
    # The floor plan is redrawn with the new name (the booth's feature in the layout).
    lay = call(web_server, "GET", "/api/rooms/expo:demo/layout")
    f = next(f for f in lay["features"] if f.get("booth_id") == booth and f["type"] == "booth")
    assert f["label"]["zh-CN"] == "茶之道" and f["color"] == "#0f7a5a"

    # Sharing the contact needs the box ticked.
    visitor.fill("#expo-lead-email", "visitor@example.com")
    visitor.fill("#expo-lead-phone", "13800000000")
    visitor.click(".expo-lead-share")
    need = card.locator(".expo-lead-form .expo-error")
    need.wait_for()
    assert "勾选" in (need.text_content() or "")
    consent_text = card.locator(".expo-consent-text").text_content() or ""
    assert "Tea Works" in consent_text
    visitor.check("#expo-lead-consent")
    visitor.click(".expo-lead-share")
    card.locator(".expo-lead-withdraw").wait_for()
    shot(visitor, "expo-booth-zh")

    # The exhibitor sees the lead and exports it as CSV.
    ex.click("#expo-desk-tab-leads")
    ex.locator(".expo-leads tbody tr").first.wait_for()
    assert "visitor@example.com" in (ex.locator(".expo-leads").text_content() or "")
    with ex.expect_download() as info:
        ex.click(".expo-export-csv")
    download = info.value
    assert download.suggested_filename == "leads-b58.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["name", "email", "phone"]
    assert rows[1][0] == "参观者" and rows[1][1] == "visitor@example.com"
    assert rows[1][-1] == consent_text and rows[1][-2] == "zh-CN"
    shot(ex, "expo-leads-en")

    # The visitor withdraws: the lead is gone.
    card.locator(".expo-lead-withdraw").click()
    card.locator(".expo-lead-share").wait_for()
    org_leads = call(web_server, "GET", f"/api/expo/booths/{booth}/leads",
                     token=call(web_server, "POST", "/api/auth/login",
                                {"username": "teaworks", "password": PASSWORD})["token"])
    assert org_leads == []
