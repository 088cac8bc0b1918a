"""Origin checks on Socket.IO, no cookie authentication (so no CSRF surface), security headers on
every kind of response, and no inline script in any HTML page."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
import pytest
import socketio

from tests.helpers import LiveServer, connect, guest

ROOT = Path(__file__).resolve().parents[2]
WEBCLIENT = ROOT / "webclient"
FOREIGN = ["http://evil.example", "null", "https://127.0.0.1:{port}", "http://127.0.0.1:{port}.evil.example",
           "http://127.0.0.1:{port}@evil.example", "http://localhost:{port}", "http://127.0.0.1:{port}/",
           "http://127.0.0.1", "HTTP://EVIL.EXAMPLE"]

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def server(module_server: LiveServer) -> LiveServer:
    return module_server  # one server for the module (tests/reliability/conftest.py)


async def polling_handshake(server: LiveServer, origin: str | None) -> int:
    headers = {"Origin": origin} if origin is not None else {}
    async with aiohttp.ClientSession() as s:
        async with s.get(server.url + "/socket.io/?EIO=4&transport=polling", headers=headers) as r:
            return r.status


async def test_socketio_refuses_foreign_origins(server: LiveServer) -> None:
    port = server.url.rsplit(":", 1)[1]
    token, _ = await guest(server.url, "Origin")
    for origin in FOREIGN:
        origin = origin.format(port=port)
        assert await polling_handshake(server, origin) == 400, origin
        sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(server.url, auth={"token": token}, headers={"Origin": origin},
                              transports=["websocket"], wait_timeout=5)
        assert not sio.connected
        await sio.disconnect()
    assert not server.app.realtime.clients  # nothing got through
    # Same origin and non-browser clients (no Origin header) are served.
    assert await polling_handshake(server, server.url) == 200
    assert await polling_handshake(server, None) == 200
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    await sio.connect(server.url, auth={"token": token}, headers={"Origin": server.url},
                      transports=["websocket"], wait_timeout=5)
    assert sio.connected
    await sio.disconnect()
    plain = await connect(server.url, token)
    assert plain.sio.connected
    await plain.close()
    # An origin listed in METAHALL_ALLOWED_ORIGINS is accepted, and only that exact one.
    server.app.realtime._allowed_origins.add("https://app.example")
    assert await polling_handshake(server, "https://app.example") == 200
    assert await polling_handshake(server, "https://app.example.evil") == 400


STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
NO_AUTH_NEEDED = {("POST", "/api/auth/guest"), ("POST", "/api/auth/register"),
                  ("POST", "/api/auth/login"), ("POST", "/api/hall/guide")}
"""State-changing routes open to anyone (they create the session or only answer a question)."""


def _fill(path: str) -> str:
    return re.sub(r"\{([^}:]+)(:[^}]*)?\}", lambda m: "csv" if m.group(1) == "fmt" else "x1",
                  path)


async def test_state_changing_endpoints_ignore_cookies(server: LiveServer) -> None:
    """No endpoint authenticates by cookie, so a cross-site form cannot act for a user (CSRF):
    a request carrying a valid token only as cookies is 401 on every state-changing route."""
    token, _ = await guest(server.url, "Cookie")
    sources = "\n".join(p.read_text() for p in (ROOT / "server").glob("*.py"))
    assert "request.cookies" not in sources and "set_cookie" not in sources
    routes = []
    for route in server.runner.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method in STATE_CHANGING and path.startswith("/api/") \
                and (route.method, path) not in NO_AUTH_NEEDED:
            routes.append((route.method, path))
    assert len(routes) >= 30  # the enumeration found the API
    cookies = {"token": token, "metahall_token": token, "Authorization": "Bearer " + token,
               "session": token}
    async with aiohttp.ClientSession(cookies=cookies) as s:
        for method, path in routes:
            async with s.request(method, server.url + _fill(path), json={},
                                 headers={"Origin": "http://evil.example"}) as r:
                assert r.status == 401, (method, path, r.status)
                assert "Set-Cookie" not in r.headers
        # Signing in never sets a cookie either.
        async with s.post(server.url + "/api/auth/guest", json={"display_name": "C"}) as r:
            assert r.status == 200 and "Set-Cookie" not in r.headers


def _header_problems(headers: Mapping[str, str], html: bool) -> list[str]:
    out = []
    if headers.get("X-Content-Type-Options") != "nosniff":
        out.append("nosniff")
    if not headers.get("Referrer-Policy"):
        out.append("Referrer-Policy")
    csp = headers.get("Content-Security-Policy", "")
    if headers.get("X-Frame-Options") != "DENY" and "frame-ancestors 'none'" not in csp:
        out.append("framing")
    if html:
        script_src = next((p for p in csp.split(";") if p.strip().startswith("script-src")), "")
        if not script_src or "'unsafe-inline'" in script_src or "'unsafe-eval'" in script_src:
            out.append("script-src")
        if "object-src 'none'" not in csp or "base-uri 'none'" not in csp:
            out.append("csp")
    return out


async def test_security_headers_on_html_json_errors_and_files(server: LiveServer) -> None:
    token, _ = await guest(server.url, "Headers")
    pages = ["/", "/app/index.html", "/app/dashboard/index.html"]
    other = ["/api/rooms", "/api/me", "/api/nope", "/api/mod/cases", "/api/expo/files/nope",
             "/api/expo/files/nope/thumb", "/app/js/main.js", "/app/css/app.css", "/healthz",
             "/app/does-not-exist.html"]
    problems = {}
    async with aiohttp.ClientSession() as s:
        for path in pages:
            async with s.get(server.url + path) as r:
                assert r.status == 200, path
                assert r.headers["Content-Type"].startswith("text/html"), path
                problems[path] = _header_problems(r.headers, html=True)
        for path in other:
            for auth in ({}, {"Authorization": "Bearer " + token}, {"Authorization": "Bearer bad"}):
                async with s.get(server.url + path, headers=auth) as r:
                    key = f"{path} {r.status}"
                    problems[key] = _header_problems(r.headers, html=False)
        async with s.post(server.url + "/api/auth/login", data=b"{bad") as r:
            assert r.status == 422
            problems["bad login"] = _header_problems(r.headers, html=False)
    assert {k: v for k, v in problems.items() if v} == {}


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[tuple[dict[str, str | None], str]] = []
        self.handlers: list[str] = []
        self._open: dict[str, str | None] | None = None
        self._body = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append(f"{tag} {name}")
            if value and value.strip().lower().startswith("javascript:"):
                self.handlers.append(f"{tag} {name}=javascript:")
        if tag == "script":
            self._open, self._body = dict(attrs), ""

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._body += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open is not None:
            if "src" not in self._open:
                self.inline.append((self._open, self._body))
            self._open = None


def _scan(html: str, csp: str) -> list[str]:
    p = _Scripts()
    p.feed(html)
    bad = list(p.handlers)
    for attrs, body in p.inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        if attrs.get("type") != "importmap":
            bad.append(f"inline script type={attrs.get('type')}")
        elif f"'sha256-{digest}'" not in csp:
            bad.append("import map not allowed by hash")
    return bad


async def test_no_inline_scripts_in_any_html(server: LiveServer) -> None:
    files = [p for p in WEBCLIENT.rglob("*.html") if "node_modules" not in p.parts]
    assert len(files) >= 2
    async with aiohttp.ClientSession() as s:
        async with s.get(server.url + "/") as r:
            csp = r.headers["Content-Security-Policy"]
            served = {"/": await r.text()}
        for f in files:
            url = "/app/" + f.relative_to(WEBCLIENT).as_posix()
            async with s.get(server.url + url) as r:
                assert r.status == 200, url
                served[url] = await r.text()
                csp_here = r.headers["Content-Security-Policy"]
            assert _scan(f.read_text(encoding="utf-8"), csp_here) == [], f
    assert {u: _scan(h, csp) for u, h in served.items() if _scan(h, csp)} == {}
    # The scanner itself catches what it should.
    assert _scan("<script>alert(1)</script>", csp) == ["inline script type=None"]
    assert _scan('<img src=x onerror="x()"><a href="javascript:x()">', csp) == [
        "img onerror", "a href=javascript:"]
    assert _scan('<script type="importmap">{"imports": {}}</script>', csp) == [
        "import map not allowed by hash"]
