"""Tokens stop working after expiry, logout, password change, ban, role removal and account
deletion: HTTP answers 401 (403 ``banned`` for a ban), a Socket.IO connect is refused, and an
open connection is closed. Forged and replayed tokens never pass."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from sqlalchemy import delete

from server.auth.tokens import TokenSigner
from server.db.models import User
from tests.helpers import (
    REDIS_URL,
    LiveServer,
    connect,
    drop_redis_prefix,
    redis_available,
    requires_service,
    start_server,
    wait_for,
)
from tests.pg import fresh_database, postgres_available

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def server(module_server: LiveServer) -> LiveServer:
    return module_server  # one server for the module (tests/reliability/conftest.py)


async def http(server: LiveServer, method: str, path: str, token: str | None = None,
               body: Any = None, cookies: dict[str, str] | None = None) -> tuple[int, Any]:
    headers = {"Authorization": "Bearer " + token} if token is not None else {}
    async with aiohttp.ClientSession(cookies=cookies) as s:
        async with s.request(method, server.url + path, json=body, headers=headers) as resp:
            try:
                return resp.status, await resp.json()
            except (aiohttp.ContentTypeError, json.JSONDecodeError):
                return resp.status, await resp.text()


async def register(server: LiveServer, username: str, roles: str = "citizen",
                   password: str = "password-1") -> tuple[str, dict[str, Any]]:
    if roles != "citizen":
        await server.app.accounts.register(username, password, username, roles=roles)
    else:
        status, body = await http(server, "POST", "/api/auth/register",
                                  body={"username": username, "password": password})
        assert status == 201, body
    status, body = await http(server, "POST", "/api/auth/login",
                              body={"username": username, "password": password})
    assert status == 200, body
    return body["token"], body["user"]


async def refused(server: LiveServer, token: Any) -> Any:
    """Connect with ``token``; assert the connect is refused and return the refusal data."""
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    errors: list[Any] = []
    sio.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(server.url, auth={"token": token}, transports=["websocket"],
                          wait_timeout=5)
    assert not sio.connected
    await sio.disconnect()
    assert errors, "no connect_error"
    return errors[0]["data"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _payload(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def _with_payload(token: str, **changes: Any) -> str:
    """The token with its payload altered and the original signature kept."""
    v, _body, sig = token.split(".")
    data = {**_payload(token), **changes}
    return f"{v}.{_b64(json.dumps(data, separators=(',', ':')).encode())}.{sig}"


async def test_expired_token_refused_on_http_and_connect(server: LiveServer) -> None:
    token, user = await register(server, "expiring")
    signer = server.app.signer
    ttl = signer.ttl_s
    stale = signer.issue(user["id"], 0, now=time.time() - ttl - 1)
    just_valid = signer.issue(user["id"], 0, now=time.time() - ttl + 60)
    assert (await http(server, "GET", "/api/me", stale))[0] == 401
    assert (await http(server, "GET", "/api/me", just_valid))[0] == 200
    data = await refused(server, stale)
    assert data["code"] == "auth" and "expired" in data["message"]
    # A short-TTL signer (the settings override) issues tokens that lapse by the clock.
    short = TokenSigner("x", ttl_s=60)
    tok = short.issue("u1", 0, now=1000)
    assert short.verify(tok, now=1059).user_id == "u1"
    with pytest.raises(Exception, match="expired"):
        short.verify(tok, now=1060)


async def test_logout_revokes_every_token_and_closes_connections(server: LiveServer) -> None:
    token, user = await register(server, "leaver")
    _, second = await http(server, "POST", "/api/auth/login",
                           body={"username": "leaver", "password": "password-1"})
    other_token, _ = await register(server, "bystander")
    sock = await connect(server.url, token)
    bystander = await connect(server.url, other_token)
    try:
        status, body = await http(server, "POST", "/api/auth/logout", token)
        assert (status, body) == (200, {"ok": True})
        await wait_for(lambda: not sock.sio.connected)
        for t in (token, second["token"]):  # every device's token, replayed
            status, body = await http(server, "GET", "/api/me", t)
            assert status == 401 and body["error"]["code"] == "auth"
            assert (await refused(server, t))["message"] == "token revoked"
        assert (await http(server, "POST", "/api/auth/logout", token))[0] == 401
        # Other users are untouched.
        assert bystander.sio.connected
        assert (await http(server, "GET", "/api/me", other_token))[0] == 200
        # Signing in again works.
        _, fresh = await http(server, "POST", "/api/auth/login",
                              body={"username": "leaver", "password": "password-1"})
        assert (await http(server, "GET", "/api/me", fresh["token"]))[1]["id"] == user["id"]
    finally:
        await bystander.close()
        await sock.close()
    assert (await http(server, "POST", "/api/auth/logout"))[0] == 401  # no token at all


async def test_password_change_revokes_older_tokens(server: LiveServer) -> None:
    token, _user = await register(server, "changer")
    sock = await connect(server.url, token)
    try:
        status, body = await http(server, "POST", "/api/auth/password", token,
                                  {"old_password": "wrong-one", "new_password": "password-2"})
        assert status == 401 and body["error"]["code"] == "auth"
        assert sock.sio.connected  # a wrong old password changes nothing
        status, body = await http(server, "POST", "/api/auth/password", token,
                                  {"old_password": "password-1", "new_password": "short"})
        assert status == 422 and body["error"]["field"] == "new_password"
        status, body = await http(server, "POST", "/api/auth/password", token,
                                  {"old_password": "password-1", "new_password": "password-2"})
        assert status == 200, body
        new_token = body["token"]
        await wait_for(lambda: not sock.sio.connected)
        assert (await http(server, "GET", "/api/me", token))[0] == 401
        await refused(server, token)
        assert (await http(server, "GET", "/api/me", new_token))[0] == 200
        assert (await http(server, "POST", "/api/auth/login",
                           body={"username": "changer", "password": "password-1"}))[0] == 401
        assert (await http(server, "POST", "/api/auth/login",
                           body={"username": "changer", "password": "password-2"}))[0] == 200
    finally:
        await sock.close()


async def test_ban_closes_connection_refuses_connect_and_privileged_http(server: LiveServer) -> None:
    mod_token, _ = await register(server, "mod1", roles="moderator")
    token, user = await register(server, "rowdy")
    sock = await connect(server.url, token)
    try:
        status, body = await http(server, "POST", "/api/mod/actions", mod_token, {
            "action": "ban", "user_id": user["id"], "duration_s": 3600, "reason": "spam",
            "note": "repeated spam"})
        assert status == 201, body
        await wait_for(lambda: not sock.sio.connected)
        assert (await refused(server, token))["code"] == "banned"
        # HTTP: reading one's own account and sanctions and appealing still work...
        assert (await http(server, "GET", "/api/me", token))[0] == 200
        assert (await http(server, "GET", "/api/me/moderation", token))[0] == 200
        # ...anything else is refused with `banned` and changes nothing.
        spaces_before = len(server.app.social.spaces) if hasattr(server.app.social, "spaces") \
            else None
        status, body = await http(server, "POST", "/api/social/spaces", token,
                                  {"name": "Banned party"})
        assert status == 403 and body["error"]["code"] == "banned"
        if spaces_before is not None:
            assert len(server.app.social.spaces) == spaces_before
        # The moderator unbans: the same token works again (a ban is not a revocation).
        status, body = await http(server, "POST", "/api/mod/actions", mod_token, {
            "action": "unban", "user_id": user["id"], "note": "served its time"})
        assert status == 201, body
        again = await connect(server.url, token)
        assert again.sio.connected
        await again.close()
    finally:
        await sock.close()


async def test_role_removal_revokes_tokens_and_connections(server: LiveServer) -> None:
    admin_token, _ = await register(server, "boss", roles="admin")
    token, user = await register(server, "clerk", roles="staff")
    sock = await connect(server.url, token)
    try:
        # Adding a role revokes nothing.
        status, body = await http(server, "PUT", "/api/admin/users/clerk/roles", admin_token,
                                  {"roles": ["staff", "exhibitor"]})
        assert status == 200 and body["roles"] == ["staff", "exhibitor"]
        assert (await http(server, "GET", "/api/me", token))[0] == 200
        assert sock.sio.connected
        # Only an admin changes roles.
        status, body = await http(server, "PUT", "/api/admin/users/clerk/roles", token,
                                  {"roles": ["admin"]})
        assert status == 403 and body["error"]["code"] == "forbidden"
        assert (await server.app.accounts.get(user["id"])).roles == ("staff", "exhibitor")
        # Taking staff away: the token and the open connection (which holds the old roles) go.
        status, body = await http(server, "PUT", "/api/admin/users/clerk/roles", admin_token,
                                  {"roles": ["citizen"]})
        assert status == 200 and body["roles"] == ["citizen"]
        await wait_for(lambda: not sock.sio.connected)
        assert (await http(server, "GET", "/api/me", token))[0] == 401
        await refused(server, token)
        _, fresh = await http(server, "POST", "/api/auth/login",
                              body={"username": "clerk", "password": "password-1"})
        again = await connect(server.url, fresh["token"])
        try:
            ack = await again.call("counter.open", {"counter_id": "c1"})
            assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
        finally:
            await again.close()
        # The command line (`metahall user role`) goes through the same revocation.
        _, fresh2 = await http(server, "POST", "/api/auth/login",
                               body={"username": "boss", "password": "password-1"})
        await server.app.accounts.set_roles("boss", ["citizen"])
        assert (await http(server, "GET", "/api/me", fresh2["token"]))[0] == 401
    finally:
        await sock.close()


async def test_deleted_and_erased_users_tokens_refused(server: LiveServer) -> None:
    token, user = await register(server, "ghost")
    async with server.app.db.session() as s, s.begin():
        await s.execute(delete(User).where(User.id == user["id"]))
    assert (await http(server, "GET", "/api/me", token))[0] == 401
    assert (await refused(server, token))["code"] == "auth"


FORGERIES = ["tampered-signature", "other-user", "more-roles", "later-expiry", "older-version",
             "truncated", "no-signature", "two-parts", "other-secret", "jwt-alg-none",
             "v2-prefix", "padded", "huge", "not-a-string", "empty", "unicode"]


def forge(kind: str, token: str, victim_id: str) -> Any:
    v, body, sig = token.split(".")
    if kind == "tampered-signature":
        return f"{v}.{body}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BB'}"
    if kind == "other-user":
        return _with_payload(token, sub=victim_id)
    if kind == "more-roles":
        return _with_payload(token, roles=["admin"])
    if kind == "later-expiry":
        return _with_payload(token, exp=int(time.time()) + 10 * 365 * 86400)
    if kind == "older-version":
        return _with_payload(token, tv=-1)
    if kind == "truncated":
        return token[: len(token) // 2]
    if kind == "no-signature":
        return f"{v}.{body}."
    if kind == "two-parts":
        return f"{v}.{body}"
    if kind == "other-secret":
        return TokenSigner("another-server-secret", 3600).issue(victim_id, 0)
    if kind == "jwt-alg-none":
        header = _b64(b'{"alg":"none","typ":"JWT"}')
        return f"{header}.{_b64(json.dumps({'sub': victim_id, 'tv': 0, 'iat': 0, 'exp': 2**40}).encode())}."
    if kind == "v2-prefix":
        return f"v2.{body}.{sig}"
    if kind == "padded":
        return f"{v}.{body}==.{sig}"
    if kind == "huge":
        return token + "A" * 5000
    if kind == "not-a-string":
        return {"token": token}
    if kind == "empty":
        return ""
    if kind == "unicode":
        return f"{v}.{body}.{sig[:-1]}\u00e9"
    raise AssertionError(kind)


async def test_forged_tokens_never_pass(server: LiveServer) -> None:
    token, user = await register(server, "forger")
    _victim_token, victim = await register(server, "victim", roles="admin")
    for kind in FORGERIES:
        forged = forge(kind, token, victim["id"])
        if isinstance(forged, str) and forged.isascii():
            status, body = await http(server, "GET", "/api/me", forged)
            assert status == 401, (kind, status, body)
            assert body["error"]["code"] == "auth", kind
            status, body = await http(server, "GET", "/api/mod/cases", forged)
            assert status == 401, (kind, status)
        data = await refused(server, forged)
        assert data["code"] == "auth", (kind, data)
    # The real token still works and names its own user, nobody else.
    assert (await http(server, "GET", "/api/me", token))[1]["id"] == user["id"]
    # A token without the "Bearer " scheme is no token.
    async with aiohttp.ClientSession() as s:
        for header in (token, "Basic " + token, "bearer " + token, "Bearer"):
            async with s.get(server.url + "/api/me", headers={"Authorization": header}) as r:
                assert r.status == 401, header


@requires_service("PostgreSQL", postgres_available())
@requires_service("Redis", redis_available())
async def test_logout_on_one_process_closes_connections_on_the_other(tmp_path: Path) -> None:
    """Cluster mode (two in-process nodes on PostgreSQL and Redis): the revocation travels on
    the bus (``auth.revoked``) and closes the connection held by the other process."""
    prefix = "mhtest-" + uuid.uuid4().hex[:10]
    async with fresh_database() as db:
        nodes = []
        try:
            for i in (1, 2):
                nodes.append(await start_server(tmp_path, database_url=db, redis_url=REDIS_URL,
                                                redis_prefix=prefix, node_id=f"n{i}"))
            a, b = nodes
            async with aiohttp.ClientSession() as s:
                async with s.post(f"{a.url}/api/auth/register",
                                  json={"username": "roamer", "password": "password-1"}) as r:
                    assert r.status == 201
                    token = (await r.json())["token"]
            on_b = await connect(b.url, token)
            async with aiohttp.ClientSession() as s, s.post(
                    f"{a.url}/api/auth/logout", headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status == 200
            await wait_for(lambda: not on_b.sio.connected, timeout=10)
            await on_b.close()
        finally:
            for node in reversed(nodes):
                await node.close()
            await drop_redis_prefix(prefix)
