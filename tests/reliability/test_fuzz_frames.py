"""Raw Engine.IO / Socket.IO frames at the server over a bare aiohttp WebSocket (and junk over the
polling transport): truncated msgpack, frames beyond the 64 KiB limit, wrong Engine.IO packet
types, text where binary is expected, Socket.IO packets of every type with bad namespaces, ids
and event names. The process survives, a frame over the limit closes only its own connection,
a user connected the whole time keeps receiving, and a new client works.

``METAHALL_FUZZ_EXAMPLES`` raises the number of generated frames (``make chaos``)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import aiohttp
import msgpack
import pytest
from hypothesis import strategies as st

from server.realtime import MAX_FRAME
from tests.helpers import LiveServer, connect, guest
from tests.reliability.fuzzkit import collect, examples, leaves

WS_PATH = "/socket.io/?EIO=4&transport=websocket"
NSPS: list[Any] = ["/", "/x", "", None, 7, b"/", "/" * 300, ["/"], {"/": 1}]
IDS: list[Any] = [None, 0, 1, -1, -(2**63), 2**64 - 1, 2**63, 1.5, "7", b"7", [1], True]
NAMES: list[Any] = ["chat", "join", "move", "queue.take", "", "nope", "x" * 5000, 1, None,
                    b"chat", ["chat"], {"chat": 1}, 1.5, True]


class Raw:
    """One bare WebSocket to Engine.IO: the open packet read, pings answered, closure seen."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.received: list[Any] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                if msg.data == "2":
                    await self.ws.send_str("3")
                self.received.append(msg.data)
            elif msg.type == aiohttp.WSMsgType.BINARY:
                self.received.append(msg.data)

    @property
    def closed(self) -> bool:
        return self.ws.closed or self.reader.done()

    async def send(self, frame: str | bytes) -> bool:
        if self.closed:
            return False
        try:
            if isinstance(frame, str):
                await self.ws.send_str(frame)
            else:
                await self.ws.send_bytes(frame)
        except (ConnectionError, RuntimeError, aiohttp.ClientError):
            return False
        return True

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


async def open_raw(http: aiohttp.ClientSession, url: str, token: str | None) -> Raw:
    ws = await http.ws_connect(url.replace("http", "ws") + WS_PATH, max_msg_size=0)
    raw = Raw(ws)
    for _ in range(100):
        if raw.received or raw.closed:
            break
        await asyncio.sleep(0.01)
    assert raw.received and str(raw.received[0]).startswith("0"), raw.received
    if token is not None:
        await raw.send(msgpack.packb({"type": 0, "nsp": "/", "data": {"token": token}}))
    return raw


def packet(ptype: Any, nsp: Any = "/", data: Any = None, pid: Any = None,
           **extra: Any) -> bytes:
    body: dict[Any, Any] = {"type": ptype, "nsp": nsp}
    if data is not None:
        body["data"] = data
    if pid is not None:
        body["id"] = pid
    body.update(extra)
    return msgpack.packb(body)


def crafted_frames() -> list[str | bytes]:
    """Every Socket.IO packet type with bad namespaces, ids and event names; every Engine.IO
    packet type as text; truncations of good packets."""
    out: list[str | bytes] = []
    for ptype in [0, 1, 2, 3, 4, 5, 6, 7, -1, 2**64 - 1, None, "2", b"2", 2.0]:
        for nsp in NSPS:
            out.append(packet(ptype, nsp, ["chat", {"channel": "room", "text": "x"}], 1))
    for pid in IDS:
        for ptype in (2, 3, 5, 6):
            out.append(packet(ptype, "/", ["chat", {"channel": "room", "text": "hi"}], pid))
    for name in NAMES:
        out.append(packet(2, "/", [name, {"room": "hall:main"}], 3))
        out.append(packet(2, "/", [name], None))
    out += [packet(2, "/", data) for data in (None, [], {}, "chat", 5, [[]], b"\x00")]
    out += [packet(5, "/", ["chat", {"_placeholder": True, "num": 0}], 1, attachments=n)
            for n in (0, 1, 10**9, -1, "x")]
    out += [packet(3, "/", [{"ok": True}], 2**31), packet(3, "/", None, 1),
            packet(1, "/"), packet(0, "/", {"token": 5}), packet(0, "/", "token"),
            packet(0, "/x", {"token": "x"}), msgpack.packb([2, "/", ["chat"]]),
            msgpack.packb("chat"), msgpack.packb(None), msgpack.packb({1: 2}), b"", b"\xc1",
            b"\xdf\xff\xff\xff\xff", b"\xdd\xff\xff\xff\xff", b"\xc6\x7f\xff\xff\xff",
            msgpack.packb({"type": 2, "nsp": "/", "data": ["chat", [[[[[[[[[[[]]]]]]]]]]]]})]
    good = packet(2, "/", ["chat", {"channel": "room", "text": "truncated"}], 9)
    out += [good[:i] for i in range(len(good))]
    for t in "0123456789":
        out += [t, t + "probe", t + "{", t + "\x00", t + "🙂" * 10]
    out += ["", "40", '40{"token":"x"}', '42["chat",{"text":"x"}]', "4" + "x" * 1000,
            "b" + "AAAA", "5", "6", "3probe", "2probe", "\ud7ff", "{}"]
    return out


def generated_frames(n: int) -> list[str | bytes]:
    pkt = st.fixed_dictionaries(
        {"type": st.integers(-2, 8) | leaves},
        optional={"nsp": st.sampled_from(NSPS) | leaves, "id": st.sampled_from(IDS) | leaves,
                  "data": st.lists(st.sampled_from(NAMES) | leaves, max_size=4) | leaves,
                  "attachments": st.integers(-3, 2**40) | leaves})
    frames = st.one_of(
        pkt.map(lambda p: msgpack.packb(p)),
        pkt.map(lambda p: msgpack.packb(p)).flatmap(
            lambda b: st.integers(0, max(0, len(b) - 1)).map(lambda i: b[:i])),
        st.binary(max_size=300),
        st.text(max_size=200))
    return collect(frames, n)


async def test_raw_frames_never_take_the_server_down(server: LiveServer,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    # Drawn before anyone connects: generating blocks the loop, and a client that misses its
    # pings for 30 s is rightly dropped.
    frames = crafted_frames() + generated_frames(examples(600))
    polling_bodies = generated_frames(examples(40))
    t_victim, _ = await guest(server.url, "victim")
    victim = await connect(server.url, t_victim)
    assert (await victim.call("join", {"room": "hall:main"}))["ok"]
    tokens = [(await guest(server.url, f"raw{i}"))[0] for i in range(3)]
    tally: Counter[str] = Counter()
    async with aiohttp.ClientSession() as http:
        raw: Raw | None = None
        for i, frame in enumerate(frames):
            if raw is None or raw.closed or i % 60 == 0:
                if raw is not None:
                    tally["closed_by_server" if raw.closed else "closed_by_us"] += 1
                    await raw.close()
                # Alternate: connected to the namespace with a token, or not connected at all.
                raw = await open_raw(http, server.url, tokens[i % 3] if i % 120 < 60 else None)
            tally["sent" if await raw.send(frame) else "refused_closed"] += 1
            if i % 25 == 0:
                await asyncio.sleep(0.01)
        if raw is not None:
            await raw.close()

        await _junk_text_keeps_the_session(http, server, tokens[1])
        # Oversized frames close only their own connection, cleanly.
        for size in (MAX_FRAME + 1, MAX_FRAME * 4, 4 * 1024 * 1024):
            big = await open_raw(http, server.url, tokens[0])
            await asyncio.sleep(0.1)
            await big.send(packet(2, "/", ["chat", {"channel": "room", "text": "x" * size}], 1))
            await big.send(b"\x00" * size)
            for _ in range(200):
                if big.closed:
                    break
                await asyncio.sleep(0.02)
            assert big.closed, f"a {size}-byte frame did not close its connection"
            tally["oversized_closed"] += 1
            tally["sent"] += 2
            await big.close()

        # Polling transport junk: no 5xx, the process keeps serving.
        polling = await _polling_junk(http, server.url, polling_bodies)
        tally["polling"] += polling

    inputs = tally["sent"] + tally["refused_closed"] + polling
    print(f"\nraw frames: {len(frames)} generated/crafted, inputs tried {inputs}: {dict(tally)}")
    assert inputs >= len(frames)
    failures = [r.getMessage() for r in caplog.records
                if r.levelno >= logging.ERROR and r.name.startswith(("metahall", "asyncio"))
                and "further occurrences" not in r.getMessage()]  # engineio's log-once notes
    assert not failures, failures[:10]

    # The victim was connected the whole time and still receives; a new client works.
    assert victim.sio.connected
    t_new, _ = await guest(server.url, "newcomer")
    newcomer = await connect(server.url, t_new)
    assert (await newcomer.call("join", {"room": "hall:main"}))["ok"]
    sent = await newcomer.call("chat", {"channel": "room", "text": "after raw frames"})
    assert sent["ok"], sent
    await victim.wait("chat", lambda m: m["text"] == "after raw frames")
    mine = await victim.call("chat", {"channel": "room", "text": "victim speaks"})
    assert mine["ok"]
    await newcomer.wait("chat", lambda m: m["text"] == "victim speaks")
    metrics = server.app.metrics.render().decode()
    for reason in ("decode", "envelope", "frame"):
        assert f'metahall_bad_payloads_total{{reason="{reason}"}}' in metrics, reason
    for room in server.app.registry.rooms():
        assert len(room.world) == room.members
    await victim.close()
    await newcomer.close()


async def _junk_text_keeps_the_session(http: aiohttp.ClientSession, live: LiveServer,
                                       token: str) -> None:
    """Text frames python-engineio cannot parse (empty, no packet type, base64 junk) used to end
    the connection without its disconnect: the avatar stayed in the room as a ghost until the
    ping timeout. Now they are ignored, the session answers, and closing it leaves the room."""
    raw = await open_raw(http, live.url, token)
    assert await raw.send(packet(2, "/", ["join", {"room": "hall:main"}], 1))
    for junk in ("", "x", "9", "7probe", "b!!!", "\x00", "🙂"):
        assert await raw.send(junk)

    def acked(pid: int) -> Any:
        for m in raw.received:
            if isinstance(m, bytes):
                try:
                    p = msgpack.unpackb(m, strict_map_key=False)
                except ValueError:
                    continue
                if isinstance(p, dict) and p.get("type") == 3 and p.get("id") == pid:
                    return p["data"][0]
        return None

    await raw.send(packet(2, "/", ["chat", {"channel": "room", "text": "through"}], 2))
    for _ in range(250):
        if acked(2) is not None or raw.closed:
            break
        await asyncio.sleep(0.02)
    assert not raw.closed and acked(1)["ok"] and acked(2)["ok"], raw.received[-3:]
    mine = [sid for sid, c in live.app.realtime.clients.items() if c.user.display_name == "raw1"]
    assert len(mine) == 1
    await raw.close()
    for _ in range(250):
        if mine[0] not in live.app.realtime.clients:
            break
        await asyncio.sleep(0.02)
    assert mine[0] not in live.app.realtime.clients, "closed connection still in the room"
    for room in live.app.registry.rooms():
        assert all(c.user.display_name != "raw1" for c in room.clients.values())


async def _polling_junk(http: aiohttp.ClientSession, url: str,
                        bodies: list[str | bytes]) -> int:
    """Engine.IO long-polling with bad parameters and bodies; returns requests made."""
    base = url + "/socket.io/"
    async with http.get(base, params={"EIO": "4", "transport": "polling"}) as r:
        assert r.status == 200
        text = await r.text()
    assert text.startswith("0"), text
    import json as _json

    sid = _json.loads(text[1:])["sid"]
    cases: list[tuple[str, dict[str, str], bytes]] = [
        ("GET", {"EIO": "3", "transport": "polling"}, b""),
        ("GET", {"EIO": "x", "transport": "polling"}, b""),
        ("GET", {"EIO": "4", "transport": "carrier-pigeon"}, b""),
        ("GET", {"EIO": "4", "transport": "polling", "sid": "nope"}, b""),
        ("GET", {"EIO": "4", "transport": "polling", "sid": "\x00" * 40}, b""),
        ("POST", {"EIO": "4", "transport": "polling"}, b"40"),
        ("POST", {"EIO": "4", "transport": "polling", "sid": sid}, b"4\x1e\x1e\x1e"),
        ("POST", {"EIO": "4", "transport": "polling", "sid": sid}, b"\xff\xfe\x00"),
        ("POST", {"EIO": "4", "transport": "polling", "sid": sid}, b"bAAAA\x1ebZZZ*"),
        ("POST", {"EIO": "4", "transport": "polling", "sid": sid}, b"9" * 1000),
        ("POST", {"EIO": "4", "transport": "polling", "sid": "nope"}, b"40"),
        ("PUT", {"EIO": "4", "transport": "polling"}, b""),
        ("DELETE", {"EIO": "4", "transport": "polling", "sid": sid}, b""),
        ("OPTIONS", {"EIO": "4", "transport": "polling"}, b""),
        ("GET", {"EIO": "4", "transport": "polling", "b64": "1", "j": "0"}, b""),
        ("GET", {}, b""),
    ]
    # Over the limit: 413 at once and the session is closed (python-engineio alone held this
    # answer until the close packet was polled, and shutdown waited 60 s for it).
    async with http.post(base, params={"EIO": "4", "transport": "polling", "sid": sid},
                         data=b"x" * (MAX_FRAME * 2), timeout=aiohttp.ClientTimeout(total=5)) as r:
        assert r.status == 413
    async with http.get(base, params={"EIO": "4", "transport": "polling", "sid": sid}) as r:
        assert r.status == 400  # that session is gone
    for body in bodies:
        data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        cases.append(("POST", {"EIO": "4", "transport": "polling", "sid": sid}, data))
    for method, params, body in cases:
        try:
            async with http.request(method, base, params=params, data=body,
                                    timeout=aiohttp.ClientTimeout(total=5)) as r:
                await r.read()
                assert r.status < 500, (method, params, body[:80], r.status)
        except TimeoutError as exc:
            raise AssertionError(f"polling {method} {params} {body[:80]!r} hung") from exc
    return len(cases)
