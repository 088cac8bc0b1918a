"""Helpers for expo tests against a live server: an organiser, invited exhibitors, HTTP calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.hall.fakes import live_token
from tests.helpers import LiveServer


@dataclass
class Http:
    """JSON over HTTP with one Bearer token; returns (status, body)."""

    url: str
    token: str | None = None

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        h.update(extra or {})
        return h

    async def call(self, method: str, path: str, body: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as s, s.request(
                method, self.url + path, json=body, headers=self._headers(headers)) as r:
            try:
                data = await r.json(content_type=None)
            except ValueError:
                data = await r.read()
            return r.status, data

    async def raw(self, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        async with aiohttp.ClientSession() as s, s.request(
                method, self.url + path, headers=self._headers()) as r:
            return r.status, dict(r.headers), await r.read()

    async def upload(self, booth_id: str, data: bytes, filename: str, content_type: str,
                     purpose: str = "image") -> tuple[int, Any]:
        form = aiohttp.FormData()
        form.add_field("purpose", purpose)
        form.add_field("file", data, filename=filename, content_type=content_type)
        async with aiohttp.ClientSession() as s, s.post(
                f"{self.url}/api/expo/booths/{booth_id}/files", data=form,
                headers=self._headers()) as r:
            return r.status, await r.json(content_type=None)


async def organiser(live: LiveServer) -> Http:
    token, _ = await live_token(live.app, "Organiser", "admin")
    return Http(live.url, token)


async def exhibitor(live: LiveServer, admin: Http, username: str, slot: str,
                    company: str | None = None, expo: str = "demo") -> tuple[Http, str, str]:
    """Invite ``username`` to the booth in ``slot`` and sign in: (http, user id, booth id)."""
    status, body = await admin.call("POST", f"/api/expos/{expo}/exhibitors", {
        "username": username, "company": company or f"{username} Co", "slot": slot})
    assert status == 201, body
    password = body["password"]
    status, session = await Http(live.url).call("POST", "/api/auth/login",
                                                 {"username": username, "password": password})
    assert status == 200, session
    return Http(live.url, session["token"]), body["user"]["id"], body["booth"]["id"]


async def visitor(live: LiveServer, name: str) -> tuple[Http, str]:
    token, uid = await live_token(live.app, name)
    return Http(live.url, token), uid
