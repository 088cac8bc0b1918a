"""XSS payloads in every user-visible text field come back as plain text in the browser.

Payloads go in through the ordinary API (display names, room/near/DM chat, a booth's name,
banner, description and product cards, a social space's name and description, a stage talk's
title and a Q&A question, a hall service's name as edited by the manager, a report's reason);
real pages then show them. Each page must show the literal text, run none of it
(``window.__xss`` stays undefined, no ``img[src=x]``/``svg[onload]``/injected script in the DOM),
and log no page error. ``javascript:`` URLs are refused where the API takes a URL.
"""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from tests.browser.conftest import ServerProcess, running_server
from tests.browser.test_moderation_dashboard import UserSide
from tests.helpers import RecordingClient, connect

pytestmark = pytest.mark.browser

IMG = "<img src=x onerror=window.__xss=1>"
SCRIPT = "<script>window.__xss=1</script>"
SVG = '"><svg onload=window.__xss=1>'
JS = "javascript:window.__xss=1"
NAME = "<img src=x onerror=__xss=1>"  # display names hold at most 32 characters
PAYLOADS = (IMG, SCRIPT, SVG, JS, NAME)
ADMIN_PW = "admin-pass-2024"

INJECTED = """() => ({
  xss: typeof window.__xss,
  img: document.querySelectorAll('img[src="x"]').length,
  svg: document.querySelectorAll('svg[onload]').length,
  handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(
      a => a.name.startsWith('on'))).length,
  scripts: [...document.scripts].filter(s => !s.src && s.type !== 'importmap').length,
  js: [...document.querySelectorAll('a[href], iframe[src]')].filter(
      e => /^\\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src') || '')).length,
})"""
CLEAN = {"xss": "undefined", "img": 0, "svg": 0, "handlers": 0, "scripts": 0, "js": 0}


@pytest.fixture(scope="module")
def xss_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory, "metahall-xss") as server:
        yield server


def make_admin(server: ServerProcess) -> None:
    """Register ``boss`` and make it an admin in the database, as `metahall user role` would
    (without starting a second process: the server reads roles on every request)."""
    body = json.dumps({"username": "boss", "password": ADMIN_PW}).encode()
    req = urllib.request.Request(f"{server.url}/api/auth/register", data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 201
    except urllib.error.HTTPError as exc:
        assert exc.code == 409  # the second test of the module
    with sqlite3.connect(server.data_dir / "metahall.db") as db:
        db.execute("UPDATE users SET roles = 'admin' WHERE username = 'boss'")


class Api:
    def __init__(self, url: str, token: str | None = None) -> None:
        self.url, self.token = url, token

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with aiohttp.ClientSession() as s, s.request(
                method, self.url + path, json=body, headers=headers) as r:
            return r.status, await r.json(content_type=None)


async def login(url: str, username: str, password: str) -> tuple[Api, dict[str, Any]]:
    status, body = await Api(url).call("POST", "/api/auth/login",
                                       {"username": username, "password": password})
    assert status == 200, body
    return Api(url, body["token"]), body["user"]


async def guest(url: str, name: str) -> tuple[RecordingClient, str]:
    status, body = await Api(url).call("POST", "/api/auth/guest", {"display_name": name})
    assert status == 200, body
    return await connect(url, body["token"]), body["user"]["id"]


def both(text: str) -> dict[str, str]:
    return {"zh-CN": text, "en": text}


async def seed(url: str) -> dict[str, Any]:
    """Payloads into the hall, the expo, the stage and a social space; returns what to check."""
    admin, _ = await login(url, "boss", ADMIN_PW)
    out: dict[str, Any] = {"refused_urls": 0}
    # Hall: the manager renames a service.
    status, cat = await admin.call("GET", "/api/hall/catalogue")
    assert status == 200, cat
    svc = next(s for s in cat["services"] if s["id"] == "social_insurance")
    status, body = await admin.call("PUT", "/api/hall/services/social_insurance",
                                    {**svc, "name": both(IMG)})
    assert status == 200, body
    # Expo: an exhibitor fills the booth with payloads; URLs must be http(s).
    status, inv = await admin.call("POST", "/api/expos/demo/exhibitors",
                                   {"username": "xssco", "company": SVG, "slot": "b1"})
    assert status == 201, inv
    ex, ex_user = await login(url, "xssco", inv["password"])
    booth = inv["booth"]["id"]
    profile = {"name": both(SVG), "description": both(SCRIPT + " " + IMG), "banner": both(IMG),
               "category": "tech", "color": "#224466", "keywords": [NAME],
               "products": [{"id": "p1", "name": both(SCRIPT), "description": both(SVG)}]}
    for bad in ({"products": [{"id": "p1", "name": both("x"), "video_url": JS}]},
                {"videos": [{"title": both("v"), "url": JS}]}):
        status, body = await ex.call("PUT", f"/api/expo/booths/{booth}", {**profile, **bad})
        assert status == 422, body
        out["refused_urls"] += 1
    status, body = await ex.call("PUT", f"/api/expo/booths/{booth}", profile)
    assert status == 200, body
    # Stage: a live talk with a payload title; an embed URL must be https.
    now = int(time.time() * 1000)
    talk = {"room": "expo:demo", "title": both(SCRIPT + IMG), "speaker_id": ex_user["id"],
            "start": now - 60_000, "end": now + 3_600_000, "mode": "live"}
    status, body = await admin.call("POST", "/api/stage/talks",
                                    {**talk, "mode": "embed", "embed_url": JS})
    assert status == 422, body
    out["refused_urls"] += 1
    status, body = await admin.call("POST", "/api/stage/talks", talk)
    assert status == 201, body
    out["talk_id"] = body["talk"]["id"]
    out["booth"] = booth
    return out


async def staff(url: str) -> RecordingClient:
    """A clerk (registered, made staff by the admin) connected in the hall."""
    admin, _ = await login(url, "boss", ADMIN_PW)
    await Api(url).call("POST", "/api/auth/register", {"username": "clerk",
                                                       "password": "clerk-pass-1"})
    status, body = await admin.call("PUT", "/api/admin/users/clerk/roles", {"roles": ["staff"]})
    assert status == 200, body
    api, _ = await login(url, "clerk", "clerk-pass-1")
    client = await connect(url, api.token)
    assert (await client.call("join", {"room": "hall:main"}))["ok"]
    return client


def signed_in(page: Any, url: str, name: str, room: str) -> str:
    page.goto(f"{url}/?view=2d")
    page.fill("#guest-name", name)
    page.click("#form-guest button[type=submit]")
    page.click(f"#room-list button[data-room-id='{room}']")
    page.wait_for_function("() => window.metahall.state.connection === 'joined'")
    return str(page.evaluate("() => window.metahall.state.user.id"))


def shown(page: Any, text: str, within: str = "body") -> None:
    """The literal payload is on the page as text."""
    page.locator(within, has_text=text).first.wait_for()


def clean(page: Any) -> None:
    assert page.evaluate(INJECTED) == CLEAN


def test_payloads_show_as_text_in_the_web_client(xss_server: ServerProcess,
                                                 open_page: Any) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    url = xss_server.url
    make_admin(xss_server)
    users = UserSide()
    try:
        seeded = users.run(seed(url))
        assert seeded["refused_urls"] == 3
        attacker, _ = users.run(guest(url, NAME))
        assert users.run(attacker.call("join", {"room": "social:plaza"}))["ok"]
        made = users.run(attacker.call("space.create", {"name": SVG[:40],
                                                         "description": IMG + SCRIPT}))
        assert made["ok"], made

        # Social plaza: names, room/near/DM chat, the space directory.
        viewer = open_page(viewport=(1200, 800))
        viewer_id = signed_in(viewer, url, "Viewer", "social:plaza")
        # (`near` is drawn by the same chat panel; the two avatars may spawn too far apart)
        for channel, text in (("room", IMG), ("room", SCRIPT), (f"dm:{viewer_id}", SVG)):
            ack = users.run(attacker.call("chat", {"channel": channel, "text": text}))
            assert ack["ok"], (channel, ack)
        for text in (IMG, SCRIPT, SVG, NAME):
            shown(viewer, text)
        viewer.click("#dock-tab-spaces")
        shown(viewer, SVG[:40], ".social-space")
        clean(viewer)

        # Expo hall: the booth card and its products, the stage talk and a Q&A question.
        users.run(attacker.call("join", {"room": "expo:demo"}))
        ack = users.run(attacker.call("stage.ask", {"talk_id": seeded["talk_id"], "text": IMG}))
        assert ack["ok"], ack
        visitor = open_page(viewport=(1200, 800))
        signed_in(visitor, url, "Visitor", "expo:demo")
        visitor.click("#dock-tab-expo")
        row = visitor.locator(f".expo-booth[data-booth-id='{seeded['booth']}']")
        for _ in range(3):  # the first directory may be asked before the expo is known
            try:
                row.wait_for(timeout=4000)
                break
            except PlaywrightTimeout:
                visitor.click(".expo-search button[type=submit]")
        row.wait_for()
        shown(visitor, SVG, f".expo-booth[data-booth-id='{seeded['booth']}']")
        row.locator(".item-main").click()
        card = f".expo-card[data-booth-id='{seeded['booth']}']"
        visitor.locator(card).wait_for()
        for text in (SCRIPT + " " + IMG, SCRIPT, SVG):
            shown(visitor, text, card)
        visitor.click("#dock-tab-stage")
        shown(visitor, SCRIPT + IMG, ".stage-now-title")
        shown(visitor, IMG, ".stage-qa-list")
        clean(visitor)

        # Service hall: the renamed service in the queue panel; the clerk's consultation chat.
        citizen = open_page(viewport=(1200, 800))
        signed_in(citizen, url, "Citizen", "hall:main")
        citizen.click("#dock-tab-queue")
        shown(citizen, IMG)
        citizen.fill("#queue-guide-input", "社保")
        citizen.click(".queue-guide button[type=submit]")
        service = citizen.locator(".queue-service[data-service-id='social_insurance']")
        service.wait_for()
        assert IMG in (service.text_content() or "")
        service.locator(".queue-take").click()
        citizen.locator(".queue-ticket[data-status='waiting']").wait_for()
        clerk = users.run(staff(url))
        assert users.run(clerk.call("counter.open", {"counter_id": "c4"}))["ok"]
        assert users.run(clerk.call("counter.next", {"counter_id": "c4"}))["ok"]
        said = users.run(clerk.call("chat", {"channel": "counter:c4", "text": SVG + " counter"}))
        assert said["ok"], said
        shown(citizen, SVG + " counter")
        clean(citizen)
        users.run(clerk.close())
        users.run(attacker.close())
    finally:
        users.close()


def test_payloads_show_as_text_in_the_moderation_dashboard(xss_server: ServerProcess,
                                                           open_page: Any) -> None:
    url = xss_server.url
    make_admin(xss_server)
    users = UserSide()
    try:
        async def scene() -> dict[str, Any]:
            admin, _ = await login(url, "boss", ADMIN_PW)
            status, _ = await Api(url).call("POST", "/api/auth/register", {
                "username": "modx", "password": "mod-pass-2024", "display_name": "Mod"})
            assert status == 201
            status, body = await admin.call("PUT", "/api/admin/users/modx/roles",
                                            {"roles": ["moderator"]})
            assert status == 200, body
            troll, troll_id = await guest(url, NAME)
            witness, _ = await guest(url, "Witness")
            for c in (troll, witness):
                assert (await c.call("join", {"room": "social:cafe"}))["ok"]
            said = await troll.call("chat", {"channel": "room", "text": SVG})
            assert said["ok"], said
            rep = await witness.call("report", {"message_id": said["id"],
                                                "reason": SCRIPT + " " + IMG})
            assert rep["ok"], rep
            return {"troll": troll, "witness": witness, "troll_id": troll_id}

        s = users.run(scene())
        page = open_page(viewport=(1280, 900))
        page.goto(f"{url}/app/dashboard/index.html")
        page.fill("#login-username", "modx")
        page.fill("#login-password", "mod-pass-2024")
        page.click("#form-login button[type=submit]")
        page.wait_for_function("() => window.metahallDashboard.state.signedIn")
        item = page.locator(".case-item").first
        item.wait_for()
        item.click()
        page.wait_for_function("() => window.metahallDashboard.state.caseId !== null")
        shown(page, SVG, "#case-chat")
        shown(page, NAME)
        shown(page, SCRIPT + " " + IMG)
        clean(page)
        for key in ("troll", "witness"):
            users.run(s[key].close())
    finally:
        users.close()
