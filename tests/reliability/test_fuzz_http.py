"""Every HTTP route of the app, fuzzed: hypothesis-chosen methods, path parameters, query strings,
headers and bodies (JSON of hostile values, broken JSON, forms, oversized), as an anonymous
caller, a citizen and a user holding every staff role. No answer is a 5xx; every error of
``/api/*`` has the JSON error shape with a known code; afterwards the server still works.

Routes are read from the aiohttp router, so a new endpoint is fuzzed without editing this file.
``METAHALL_FUZZ_EXAMPLES`` raises the number of requests per route (``make chaos``)."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from hypothesis import strategies as st

from tests.hall.fakes import live_token
from tests.helpers import LiveServer, connect, guest, start_server
from tests.reliability.fuzzkit import (
    EDGE_TEXT,
    KNOWN_CODES,
    collect,
    examples,
    field_names,
    payloads,
    texts,
)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND"]
ALL_ROLES = "citizen,staff,exhibitor,moderator,admin"
LAST = ("/api/auth/logout", "/api/auth/password")
"""Sent last: they revoke the token the other requests use."""


def routes_of(live: LiveServer) -> list[tuple[str, str]]:
    out = []
    for r in live.runner.app.router.routes():
        canonical = r.resource.canonical if r.resource is not None else ""
        if canonical.startswith("/socket.io"):
            continue  # Engine.IO: tests/reliability/test_fuzz_frames.py
        out.append((r.method, canonical))
    return sorted(set(out), key=lambda mc: (mc[1].startswith(LAST), mc[1], mc[0]))


def fill(canonical: str, values: list[str]) -> str:
    names = re.findall(r"\{([^}]+)\}", canonical)
    path = canonical
    for i, name in enumerate(names):
        path = path.replace("{" + name + "}", quote(values[i % len(values)], safe=""), 1)
    return path


def request_cases(n: int, ids: list[str], keys: list[str]) -> list[dict[str, Any]]:
    segment = st.sampled_from(ids) | texts.filter(bool) | st.integers(-5, 2**64).map(str)
    case = st.fixed_dictionaries({
        "method": st.sampled_from(["route"] * 10 + METHODS),
        "params": st.lists(segment, min_size=3, max_size=3),
        "query": st.dictionaries(st.sampled_from(keys) | texts, texts | st.sampled_from(ids),
                                 max_size=4),
        "body": st.one_of(
            payloads(ids, keys).map(lambda v: ("json", v)),
            st.binary(max_size=300).map(lambda b: ("raw", b)),
            st.sampled_from([("raw", b"{"), ("raw", b'{"a": NaN}'), ("raw", b"[1,2"),
                             ("raw", b"\xff\xfe"), ("raw", b'{"x": 1e999}'),
                             ("raw", b"[" * 5000), ("big", b""), ("form", b"")]),
            st.none()),
        "headers": st.dictionaries(
            st.sampled_from(["Content-Type", "Accept-Language", "X-Forwarded-For", "Origin",
                             "Range", "If-None-Match", "Accept", "Cookie"]),
            st.sampled_from(["application/json", "multipart/form-data; boundary=x", "text/plain",
                             "zh-CN", "en;q=0.1", "1.2.3.4, ::1", "bytes=5-1", "*/*", "\t",
                             "x" * 2000, "zh"]), max_size=3),
    })
    return collect(case, n)


def body_args(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    kind, value = body
    if kind == "json":
        # Python's JSON writes NaN/Infinity (non-standard); the server's parser accepts them.
        return {"data": json.dumps(value, default=repr).encode(),
                "headers": {"Content-Type": "application/json"}}
    if kind == "big":
        return {"data": b"{" + b" " * (1024 * 1024 + 10) + b"}",
                "headers": {"Content-Type": "application/json"}}
    if kind == "form":
        form = aiohttp.FormData()
        form.add_field("purpose", "image")
        form.add_field("file", b"GIF89a\x00\x00", filename="\u202e../x.gif",
                       content_type="image/gif")
        return {"data": form}
    return {"data": value}


async def test_every_route_answers_cleanly(tmp_path: Path) -> None:
    live = await start_server(tmp_path, guest_logins_per_minute=1_000_000,
                              login_attempts_per_minute=1_000_000)
    try:
        await _fuzz(live)
    finally:
        await live.close()


async def _fuzz(live: LiveServer) -> None:
    routes = routes_of(live)
    assert len(routes) >= 100, len(routes)
    paths = {p for _m, p in routes}
    assert {"/api/auth/guest", "/api/expo/booths/{booth_id}/files", "/api/mod/actions",
            "/api/hall/services/{service_id}", "/healthz"} <= paths
    app = live.app
    t_cit, uid = await live_token(app, "http-citizen")
    t_adm, aid = await live_token(app, "http-admin", ALL_ROLES)
    ids = ["demo", "main", "hall:main", "social:plaza", "expo:demo", "demo-yunfan", "csv",
           "xlsx", "0", "-1", "..", ".", "%00", uid, aid, *EDGE_TEXT[:12]]
    ids += list(app.hall.state.services)[:4] + list(app.hall.state.counters)[:4]
    keys = field_names()
    n = examples(4)
    plan = []
    for method, canonical in routes:
        for case in request_cases(n, ids, keys):
            for token in (None, t_cit, t_adm):
                plan.append((method, canonical, case, token))

    statuses: Counter[int] = Counter()
    bad: list[str] = []
    sem = asyncio.Semaphore(6)

    async def one(http: aiohttp.ClientSession, method: str, canonical: str,
                  case: dict[str, Any], token: str | None) -> None:
        verb = method if case["method"] == "route" else case["method"]
        path = fill(canonical, case["params"])
        headers = dict(case["headers"])
        if token:
            headers["Authorization"] = f"Bearer {token}"
        args = body_args(case["body"]) if verb not in ("GET", "HEAD") else {}
        headers.update(args.pop("headers", {}))
        async with sem:
            try:
                async with http.request(verb, live.url + path, params=case["query"],
                                        headers=headers, allow_redirects=False, **args) as r:
                    raw = await r.read()
                    status, ctype = r.status, r.headers.get("Content-Type", "")
            except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
                bad.append(f"{verb} {path}: connection dropped {exc!r}")
                return
        statuses[status] += 1
        where = f"{verb} {path} ({'anon' if token is None else 'user'}) -> {status}"
        if status >= 500:
            bad.append(f"{where}: {raw[:300]!r} case={case!r:.300}")
        elif status >= 400 and path.startswith("/api/") and verb != "HEAD":
            try:
                err = json.loads(raw)["error"]
                assert err["code"] in KNOWN_CODES and isinstance(err["message"], str)
            except (ValueError, KeyError, TypeError, AssertionError):
                bad.append(f"{where}: not the error shape {ctype} {raw[:200]!r}")

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        # In route order (auth revocations last), a few requests in flight at a time.
        for i in range(0, len(plan), 24):
            await asyncio.gather(*(one(http, *p) for p in plan[i:i + 24]))
    print(f"\nfuzzed {len(routes)} routes with {len(plan)} requests: {dict(sorted(statuses.items()))}")
    assert not bad, "\n".join(bad[:30])
    assert statuses[200] + statuses[201] > 50 and sum(statuses.values()) == len(plan)

    # -- afterwards the server still works --------------------------------------------------
    async with aiohttp.ClientSession() as http:
        async with http.get(live.url + "/healthz") as r:
            assert r.status == 200
        async with http.get(live.url + "/api/rooms") as r:
            assert r.status == 200 and any(room["id"] == "hall:main" for room in await r.json())
    token, _ = await guest(live.url, "after-http")
    c = await connect(live.url, token)
    ack = await c.call("join", {"room": "hall:main"})
    assert ack["ok"] or ack["error"]["code"] == "forbidden", ack  # an admin may have locked it
    sent = await c.call("chat", {"channel": "room", "text": "hello"})
    assert sent["ok"] or sent["error"]["code"] in KNOWN_CODES
    await c.close()
