"""The front (server/front.py): routing by node id, round-robin, Engine.IO stickiness, WebSocket
relay with closes passed on, Host kept, nodes coming and going in Redis, 503 without nodes."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from server.cluster import NodeInfo
from tests.cluster_front.conftest import FakeNode, Registry, RunningFront, redis_available
from tests.helpers import free_port, guest, requires_service, start_server, wait_for

pytestmark = [pytest.mark.redis, requires_service("Redis", redis_available())]


def _session() -> aiohttp.ClientSession:
    # No cookie jar: whatever reaches a node was sent by this request, not remembered by us.
    return aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())


async def _two(nodes: Any, registry: Registry, front: RunningFront) -> tuple[FakeNode, FakeNode]:
    a, b = await nodes("a"), await nodes("b")
    for n in (a, b):
        await registry.add(n.info(front.url))
    await front.refresh()
    return a, b


async def test_node_path_reaches_that_node_with_path_query_and_host(
        nodes: Any, registry: Registry, front: RunningFront) -> None:
    a, b = await _two(nodes, registry, front)
    host = front.url.removeprefix("http://")
    async with _session() as http:
        async with http.get(f"{front.url}/node/b/socket.io/?EIO=4&transport=polling&t=x%2Fy") as r:
            assert r.status == 200
            assert (await r.text()).startswith('0{"sid": "b-s1"')
        async with http.post(f"{front.url}/node/b/socket.io/?EIO=4&transport=polling&sid=b-s1",
                             data=b"4hello", headers={"X-Forwarded-For": "10.0.0.9"}) as r:
            assert r.status == 200
            got = await r.json()
    assert not a.seen
    first, second = b.seen
    assert first["path"] == "/socket.io/" and first["query"] == "EIO=4&transport=polling&t=x/y"
    assert first["host"] == host  # kept: nodes compare a browser's Origin with it
    assert first["xff"] == "127.0.0.1" and first["xfp"] == "http"
    assert got["method"] == "POST" and got["body"] == "4hello" and got["sid"] == "b-s1"
    assert got["xff"] == "10.0.0.9, 127.0.0.1"


async def test_websocket_relays_text_and_binary_in_order_to_the_named_node(
        nodes: Any, registry: Registry, front: RunningFront) -> None:
    a, b = await _two(nodes, registry, front)
    async with _session() as http:
        async with http.ws_connect(f"{front.url}/node/a/socket.io/?EIO=4&transport=websocket",
                                   origin=front.url) as ws:
            hello = json.loads((await ws.receive(timeout=5)).data)["hello"]
            assert hello["node"] == "a" and hello["path"] == "/socket.io/"
            assert hello["query"] == "EIO=4&transport=websocket"
            assert hello["host"] == front.url.removeprefix("http://")
            assert hello["origin"] == front.url
            await ws.send_str("ping?")
            assert (await ws.receive(timeout=5)).data == "a:ping?"
            payloads = [bytes([i % 256]) * (100 + i) for i in range(300)]
            for p in payloads:
                await ws.send_bytes(p)
            for p in payloads:
                msg = await ws.receive(timeout=5)
                assert msg.type is aiohttp.WSMsgType.BINARY and msg.data == b"a:" + p
    assert not b.seen


async def test_a_close_from_the_node_reaches_the_browser_with_its_code(
        nodes: Any, registry: Registry, front: RunningFront) -> None:
    await _two(nodes, registry, front)
    async with _session() as http:
        async with http.ws_connect(f"{front.url}/node/b/socket.io/?transport=websocket") as ws:
            await ws.receive(timeout=5)
            await ws.send_str("close:4001")
            msg = await ws.receive(timeout=5)
            assert msg.type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 4001
    await asyncio.sleep(0.05)
    assert front.front.stats["ws_open"] == 0


async def test_a_close_from_the_browser_reaches_the_node(
        nodes: Any, registry: Registry, front: RunningFront) -> None:
    a, _ = await _two(nodes, registry, front)
    async with _session() as http:
        ws = await http.ws_connect(f"{front.url}/node/a/socket.io/?transport=websocket")
        await ws.receive(timeout=5)
        await ws.close(code=4002, message=b"bye")
    await wait_for(lambda: bool(a.closes), timeout=5)
    assert a.closes == [4002]


async def test_other_paths_go_round_robin_and_cookies_are_not_shared(
        nodes: Any, registry: Registry, front: RunningFront) -> None:
    a, b = await _two(nodes, registry, front)
    async with _session() as http:
        got = []
        for _ in range(6):
            async with http.get(f"{front.url}/api/rooms?x=1") as r:
                assert r.status == 200
                assert r.cookies["node"].value in ("a", "b")  # Set-Cookie passes through
                body = await r.json()
                got.append(body["node"])
                assert body["path"] == "/api/rooms" and body["query"] == "x=1"
                assert body["cookie"] is None  # the front keeps no cookie jar of its own
    assert Counter(got) == {"a": 3, "b": 3}
    assert all(x != y for x, y in zip(got, got[1:], strict=False))


async def test_a_polling_session_sticks_to_the_node_that_opened_it(
        nodes: Any, registry: Registry, front: RunningFront) -> None:
    a, b = await _two(nodes, registry, front)
    async with _session() as http:
        async with http.get(f"{front.url}/socket.io/?EIO=4&transport=polling") as r:
            sid = json.loads((await r.text())[1:])["sid"]
        owner = sid.split("-")[0]
        for i in range(5):
            method = http.post if i % 2 else http.get
            async with method(f"{front.url}/socket.io/?EIO=4&transport=polling&sid={sid}",
                              data=b"x" if i % 2 else None) as r:
                assert r.status == 200, await r.text()
                assert (await r.json())["node"] == owner
        # The upgrade to WebSocket carries the sid too and must reach the same node.
        async with http.ws_connect(
                f"{front.url}/socket.io/?EIO=4&transport=websocket&sid={sid}") as ws:
            hello = json.loads((await ws.receive(timeout=5)).data)["hello"]
            assert hello["node"] == owner
        async with http.get(f"{front.url}/socket.io/?EIO=4&transport=polling&sid=nope") as r:
            assert r.status == 400
            err = (await r.json())["error"]
            assert err["code"] == "bad_request" and "session" in err["message"]


async def test_plain_websockets_without_sid_are_spread_round_robin(
        nodes: Any, registry: Registry, front: RunningFront) -> None:
    await _two(nodes, registry, front)
    seen = []
    async with _session() as http:
        for _ in range(4):
            async with http.ws_connect(f"{front.url}/socket.io/?EIO=4&transport=websocket") as ws:
                seen.append(json.loads((await ws.receive(timeout=5)).data)["hello"]["node"])
    assert Counter(seen) == {"a": 2, "b": 2}


async def test_a_node_gone_from_redis_gets_no_more_traffic(
        nodes: Any, registry: Registry, front: RunningFront) -> None:
    a, b = await _two(nodes, registry, front)
    await registry.remove("b")
    # The front's own refresh (every 0.1 s here) notices.
    await wait_for(lambda: "b" not in front.front.nodes, timeout=5)
    before = len(b.seen)
    async with _session() as http:
        for _ in range(4):
            async with http.get(f"{front.url}/index.html") as r:
                assert (await r.json())["node"] == "a"
        async with http.get(f"{front.url}/node/b/socket.io/?EIO=4&transport=polling") as r:
            assert r.status == 503
            assert (await r.json())["error"]["code"] == "unavailable"
    assert len(b.seen) == before


async def test_no_live_node_is_a_503_in_the_error_shape(
        registry: Registry, front: RunningFront) -> None:
    async with _session() as http:
        for path in ("/", "/api/rooms", "/socket.io/?EIO=4&transport=polling"):
            async with http.get(front.url + path) as r:
                assert r.status == 503
                assert r.headers["Retry-After"] == "2"
                body = await r.json()
                assert body["error"]["code"] == "unavailable" and body["error"]["message"]
        async with http.get(f"{front.url}/healthz") as r:
            assert r.status == 503
            health = await r.json()
    assert health["ok"] is False and health["nodes"] == [] and health["redis"] is True


async def test_healthz_lists_the_nodes_and_a_dead_one_is_skipped(
        nodes: Any, registry: Registry, front: RunningFront) -> None:
    a = await nodes("a")
    await registry.add(a.info(front.url))
    dead = NodeInfo(id="dead", internal=f"http://127.0.0.1:{free_port()}", url=front.url,
                    path="/node/dead/socket.io/")
    await registry.add(dead)  # its heartbeat is still there, the process is not
    await front.refresh()
    async with _session() as http:
        for _ in range(4):
            async with http.get(f"{front.url}/api/x") as r:
                assert r.status == 200 and (await r.json())["node"] == "a"
        async with http.get(f"{front.url}/healthz") as r:
            assert r.status == 200
            health = await r.json()
    assert [n["id"] for n in health["nodes"]] == ["a", "dead"]
    assert {n["id"]: n["down"] for n in health["nodes"]} == {"a": False, "dead": True}
    assert health["nodes"][0]["internal"] == a.internal


async def test_a_large_response_streams_through_unchanged(
        nodes: Any, registry: Registry, front: RunningFront) -> None:
    await _two(nodes, registry, front)
    async with _session() as http:
        async with http.get(f"{front.url}/big") as r:
            body = await r.read()
    assert body == b"".join(bytes([i]) * 16384 for i in range(64))


async def test_a_real_server_behind_the_front_over_polling_and_websocket(
        tmp_path: Path, registry: Registry, front: RunningFront) -> None:
    live = await start_server(tmp_path)
    try:
        await registry.add(NodeInfo(id="n1", internal=live.url, url=front.url,
                                    path="/node/n1/socket.io/"))
        await front.refresh()
        token, _ = await guest(front.url, "Via Front")
        for transports, path in ((["polling", "websocket"], "socket.io"),
                                 (["websocket"], "socket.io"),
                                 (["polling", "websocket"], "node/n1/socket.io")):
            sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
            hello: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            sio.on("hello", lambda data, f=hello: f.done() or f.set_result(data))
            # A browser sends its Origin; the node checks it against the Host the front kept.
            await sio.connect(front.url, auth={"token": token}, transports=transports,
                              socketio_path=path, headers={"Origin": front.url}, wait_timeout=5)
            try:
                assert (await asyncio.wait_for(hello, 5))["user"]["display_name"] == "Via Front"
                ack = await sio.call("join", {"room": "hall:main"}, timeout=5)
                assert ack["ok"] is True and ack["room"] == "hall:main"
                if transports[0] == "polling":
                    # The upgrade (it carries the sid) went to the same node.
                    await wait_for(lambda s=sio: s.transport() == "websocket", timeout=5)
            finally:
                await sio.disconnect()
        sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(front.url, auth={"token": token}, transports=["websocket"],
                              headers={"Origin": "http://evil.example"}, wait_timeout=5)
        if sio.eio.http is not None:  # python-engineio keeps its session after a refused connect
            await sio.eio.http.close()
    finally:
        await live.close()
