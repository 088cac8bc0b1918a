"""Helpers for the moderation server tests: staff accounts, HTTP calls, waiting for cases."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp

from server.auth.service import UserInfo
from tests.helpers import LiveServer

__all__ = ["account", "api", "cases", "wait_case"]


async def account(server: LiveServer, role: str, name: str | None = None) -> tuple[str, UserInfo]:
    """A registered user with ``role`` and a token for it (no HTTP sign-in needed)."""
    uname = f"{role}_{uuid.uuid4().hex[:8]}"
    user = await server.app.accounts.register(uname, "correct-horse-9", name or uname, roles=role)
    return server.app.signer.issue(user.id, user.token_version), user


async def api(server: LiveServer, method: str, path: str, token: str | None = None,
              body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http:
        async with http.request(method, server.url + path, json=body, headers=headers) as resp:
            return resp.status, await resp.json()


async def cases(server: LiveServer, token: str, status: str = "open") -> list[dict[str, Any]]:
    await server.app.mod.idle()
    code, body = await api(server, "GET", f"/api/mod/cases?status={status}", token)
    assert code == 200, body
    return body  # type: ignore[no-any-return]


async def wait_case(server: LiveServer, token: str) -> dict[str, Any]:
    """The single open case, with its details."""
    found = await cases(server, token)
    assert len(found) == 1, found
    code, body = await api(server, "GET", f"/api/mod/cases/{found[0]['id']}", token)
    assert code == 200, body
    return body  # type: ignore[no-any-return]
