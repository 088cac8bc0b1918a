from __future__ import annotations

import asyncio

import msgpack
import pytest
import socketio

from server.auth.tokens import TokenSigner
from tests.helpers import LiveServer, connect, guest, wait_for


async def test_guest_connects_gets_hello_and_joins(server: LiveServer) -> None:
    token, user = await guest(server.url, "Ann")
    c = await connect(server.url, token)
    try:
        hello = await c.wait("hello")
        assert hello["proto"] == 1 and hello["user"]["id"] == user["id"]
        assert abs(hello["server_time"] - asyncio.get_running_loop().time()) >= 0
        ack = await c.call("join", {"room": "hall:main"})
        assert ack["ok"] is True
        assert ack["room"] == "hall:main" and ack["instance"].startswith("hall:main#")
        assert isinstance(ack["self"], int) and ack["self"] > 0
        assert ack["tick_hz"] == 10 and len(ack["spawn"]) == 4 and ack["members"] == 1
        assert server.app.registry.members("hall:main") == 1
    finally:
        await c.close()
    await wait_for(lambda: server.app.registry.members("hall:main") == 0)


@pytest.mark.parametrize("auth", [None, {"token": "v1.bad.sig"}, {"token": 12}, {}])
async def test_missing_or_forged_token_is_refused_with_code_auth(server: LiveServer, auth: object) -> None:
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    errors: list[object] = []
    sio.on("connect_error", lambda data: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=5)
    # On the wire: {"message", "data"}; socket.io clients expose "data" as the error's data.
    assert errors and errors[0]["data"]["code"] == "auth"  # type: ignore[index]
    assert errors[0]["data"]["message"]  # type: ignore[index]
    await sio.disconnect()


async def test_expired_token_is_refused(server: LiveServer) -> None:
    _, user = await guest(server.url)
    signer = TokenSigner(server.app.settings.load_secret(), ttl_s=60)
    old = signer.issue(user["id"], 0, now=1_000_000.0)
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    errors: list[dict[str, object]] = []
    sio.on("connect_error", lambda data: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(server.url, auth={"token": old}, transports=["websocket"], wait_timeout=5)
    assert errors[0]["data"]["code"] == "auth"  # type: ignore[index]
    assert "expired" in errors[0]["data"]["message"]  # type: ignore[index]


@pytest.mark.parametrize("payload,code", [
    ({"room": "hall:nope"}, "not_found"),
    ({"room": "HALL:main"}, "bad_request"),
    ({"room": "lobby"}, "bad_request"),
    ({"room": 5}, "bad_request"),
    ("hall:main", "bad_request"),
    ({"room": "hall:main", "avatar": {"color": "red"}}, "bad_request"),
    ({"room": "hall:main", "avatar": {"model": "<script>"}}, "bad_request"),
])
async def test_bad_joins_answer_a_clear_error(server: LiveServer, payload: object, code: str) -> None:
    token, _ = await guest(server.url)
    c = await connect(server.url, token)
    try:
        ack = await c.call("join", payload)
        assert ack["ok"] is False and ack["error"]["code"] == code and ack["error"]["message"]
        assert server.app.registry.members("hall:main") == 0
    finally:
        await c.close()


async def test_unknown_event_and_leave_without_room(server: LiveServer) -> None:
    token, _ = await guest(server.url)
    c = await connect(server.url, token)
    try:
        assert (await c.call("nonsense", {}))["error"]["code"] == "not_found"
        assert (await c.call("leave", {}))["error"]["code"] == "not_found"
        assert (await c.call("join", {"room": "hall:main"}))["ok"]
        assert (await c.call("leave", {}))["ok"] is True
        assert server.app.registry.members("hall:main") == 0
    finally:
        await c.close()


async def test_joining_another_room_leaves_the_first(server: LiveServer) -> None:
    token, _ = await guest(server.url)
    c = await connect(server.url, token)
    try:
        await c.call("join", {"room": "hall:main"})
        ack = await c.call("join", {"room": "social:plaza"})
        assert ack["ok"] and ack["room"] == "social:plaza"
        assert server.app.registry.members("hall:main") == 0
        assert server.app.registry.members("social:plaza") == 1
    finally:
        await c.close()


async def test_two_clients_see_each_other_move(server: LiveServer) -> None:
    ta, _ = await guest(server.url, "A")
    tb, ub = await guest(server.url, "B")
    a, b = await connect(server.url, ta), await connect(server.url, tb)
    try:
        ja = await a.call("join", {"room": "social:plaza"})
        jb = await b.call("join", {"room": "social:plaza"})
        entered = await a.wait("enter", lambda items: any(i["eid"] == jb["self"] for i in items))
        info = next(i for i in entered if i["eid"] == jb["self"])
        assert info["user_id"] == ub["id"] and info["display_name"] == "B"
        x, y, z, yaw = jb["spawn"]
        target = (round(x + 0.4, 2), y, round(z + 0.3, 2))
        for _ in range(3):
            await b.sio.emit("move", [target[0], target[1], target[2], yaw, 1])
            await asyncio.sleep(0.12)

        def saw_target(raw: bytes) -> bool:
            _tick, ents, _gone = msgpack.unpackb(raw)
            return any(e[0] == jb["self"] and e[1] == round(target[0] * 100)
                       and e[3] == round(target[2] * 100) and e[5] == 1 for e in ents)

        await a.wait("snap", saw_target, timeout=3)
        assert ja["self"] != jb["self"]
        await b.close()
        await a.wait("snap", lambda raw: jb["self"] in msgpack.unpackb(raw)[2], timeout=3)
    finally:
        await a.close()


async def test_chat_reaches_the_room_and_dm_only_the_recipient(server: LiveServer) -> None:
    clients = []
    users = []
    for name in ("A", "B", "C"):
        t, u = await guest(server.url, name)
        clients.append(await connect(server.url, t))
        users.append(u)
        await clients[-1].call("join", {"room": "social:cafe"})
    a, b, c = clients
    try:
        ack = await a.call("chat", {"channel": "room", "text": "  你好 everyone  "})
        assert ack["ok"] and ack["id"]
        for cl in clients:
            msg = await cl.wait("chat", lambda m: m["id"] == ack["id"])
            assert msg["text"] == "你好 everyone" and msg["from"]["user_id"] == users[0]["id"]
        dm = await a.call("chat", {"channel": f"dm:{users[1]['id']}", "text": "psst"})
        assert dm["ok"]
        await b.wait("chat", lambda m: m["id"] == dm["id"])
        await asyncio.sleep(0.2)
        assert not any(m["id"] == dm["id"] for m in c.events["chat"])
        bad = await a.call("chat", {"channel": "room", "text": "   "})
        assert bad["error"]["code"] == "bad_request"
        bad = await a.call("chat", {"channel": "room", "text": "x" * 501})
        assert bad["error"]["code"] == "bad_request"
        bad = await a.call("chat", {"channel": "dm:nobody", "text": "hi"})
        assert bad["error"]["code"] == "not_found"
    finally:
        for cl in clients:
            await cl.close()


async def test_chat_flood_is_rate_limited(server: LiveServer) -> None:
    t, _ = await guest(server.url)
    c = await connect(server.url, t)
    try:
        await c.call("join", {"room": "social:cafe"})
        codes = [(await c.call("chat", {"channel": "room", "text": f"m{i}"})).get("error", {}).get("code")
                 for i in range(15)]
        assert codes[:8] == [None] * 8
        assert "rate_limited" in codes
    finally:
        await c.close()


async def test_role_gated_event_is_forbidden_for_citizens(server: LiveServer) -> None:
    t, _ = await guest(server.url)
    c = await connect(server.url, t)
    try:
        await c.call("join", {"room": "hall:main"})
        ack = await c.call("room.lock", {"locked": True})
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
        room = server.app.registry.instances("hall:main")[0]
        assert room.locked is False
    finally:
        await c.close()


async def test_moderator_locks_room_and_joins_are_refused(server: LiveServer) -> None:
    await server.app.accounts.register("mod1", "password1", "Mod", roles="moderator")
    user = await server.app.accounts.login("mod1", "password1")
    mod = await connect(server.url, server.app.signer.issue(user.id, user.token_version))
    t, _ = await guest(server.url)
    other = await connect(server.url, t)
    try:
        await mod.call("join", {"room": "social:plaza"})
        assert (await mod.call("room.lock", {"locked": True}))["ok"] is True
        ack = await other.call("join", {"room": "social:plaza"})
        assert ack["error"]["code"] == "forbidden"
        assert (await mod.call("room.lock", {"locked": "yes"}))["error"]["code"] == "bad_request"
        assert (await mod.call("room.lock", {"locked": False}))["ok"] is True
        assert (await other.call("join", {"room": "social:plaza"}))["ok"] is True
    finally:
        await mod.close()
        await other.close()
