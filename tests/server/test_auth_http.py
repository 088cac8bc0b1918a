from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.helpers import LiveServer


async def post(url: str, path: str, body: Any, raw: bool = False) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        kwargs = {"data": body} if raw else {"json": body}
        async with http.post(url + path, **kwargs) as resp:
            return resp.status, await resp.json()


async def test_guest_gets_token_and_citizen_role(server: LiveServer) -> None:
    status, body = await post(server.url, "/api/auth/guest", {"display_name": "  小明  "})
    assert status == 200
    assert body["user"]["display_name"] == "小明"
    assert body["user"]["roles"] == ["citizen"]
    assert body["token"].startswith("v1.")


@pytest.mark.parametrize("name", ["", "   ", "\u200b\u200b", "x" * 33, 42, None, ["a"],
                                  "\x00\x01"])
async def test_guest_name_must_have_1_to_32_visible_characters(server: LiveServer, name: Any) -> None:
    status, body = await post(server.url, "/api/auth/guest", {"display_name": name})
    assert status == 422
    assert body["error"]["code"] == "bad_request"
    assert body["error"]["message"]


async def test_nfc_normalisation_counts_combined_characters_once(server: LiveServer) -> None:
    decomposed = "e\u0301" * 32  # 32 visible characters, 64 code points before NFC
    status, body = await post(server.url, "/api/auth/guest", {"display_name": decomposed})
    assert status == 200
    assert body["user"]["display_name"] == "\u00e9" * 32


async def test_non_json_body_uses_the_error_shape(server: LiveServer) -> None:
    status, body = await post(server.url, "/api/auth/guest", b"{nope", raw=True)
    assert status == 422
    assert body == {"error": {"code": "bad_request", "message": "The body must be JSON."}}


async def test_register_login_and_me(server: LiveServer) -> None:
    status, reg = await post(server.url, "/api/auth/register",
                             {"username": "Alice", "password": "correct horse", "display_name": "Alice L"})
    assert status == 201 and reg["user"]["display_name"] == "Alice L"
    status, body = await post(server.url, "/api/auth/login",
                              {"username": "alice", "password": "correct horse"})
    assert status == 200 and body["user"]["id"] == reg["user"]["id"]
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/api/me",
                            headers={"Authorization": "Bearer " + body["token"]}) as resp:
            assert (await resp.json())["id"] == reg["user"]["id"]
        async with http.get(server.url + "/api/me",
                            headers={"Authorization": "Bearer v1.forged.token"}) as resp:
            assert resp.status == 401
            assert (await resp.json())["error"]["code"] == "auth"


async def test_duplicate_username_conflicts(server: LiveServer) -> None:
    body = {"username": "bob", "password": "password1", "display_name": "Bob"}
    assert (await post(server.url, "/api/auth/register", body))[0] == 201
    status, err = await post(server.url, "/api/auth/register", {**body, "username": "BOB"})
    assert status == 409 and err["error"]["code"] == "conflict"


async def test_wrong_password_and_unknown_user_look_the_same(server: LiveServer) -> None:
    await post(server.url, "/api/auth/register",
               {"username": "carol", "password": "password1", "display_name": "Carol"})
    s1, wrong_pw = await post(server.url, "/api/auth/login", {"username": "carol", "password": "nope-nope"})
    s2, no_user = await post(server.url, "/api/auth/login", {"username": "nobody", "password": "nope-nope"})
    assert s1 == s2 == 401
    assert wrong_pw == no_user


async def test_repeated_failures_are_slowed(server: LiveServer) -> None:
    limit = server.app.settings.login_attempts_per_minute
    for _ in range(limit):
        status, _ = await post(server.url, "/api/auth/login", {"username": "dave", "password": "badbadbad"})
        assert status == 401
    status, body = await post(server.url, "/api/auth/login", {"username": "dave", "password": "badbadbad"})
    assert status == 429 and body["error"]["code"] == "rate_limited"


async def test_unknown_api_path_is_json_404(server: LiveServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/api/nope") as resp:
            assert resp.status == 404
            assert (await resp.json())["error"]["code"] == "not_found"


async def test_rooms_list_has_the_demo_rooms(server: LiveServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/api/rooms") as resp:
            rooms = await resp.json()
    ids = {r["id"] for r in rooms}
    assert "hall:main" in ids
    assert any(i.startswith("expo:") for i in ids) and any(i.startswith("social:") for i in ids)
    hall = next(r for r in rooms if r["id"] == "hall:main")
    assert hall["name"]["zh-CN"] and hall["name"]["en"]
    assert hall["members"] == 0 and hall["capacity"] >= 1000 and hall["public"] is True


async def test_layout_and_health(server: LiveServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/api/rooms/hall:main/layout") as resp:
            layout = await resp.json()
        async with http.get(server.url + "/api/rooms/hall:nope/layout") as resp:
            assert resp.status == 404
        async with http.get(server.url + "/healthz") as resp:
            assert await resp.json() == {"ok": True}
    assert layout["kind"] == "hall"
    assert any(f["type"] == "counter" for f in layout["features"])
    assert layout["bounds"]["min_x"] < layout["bounds"]["max_x"]
