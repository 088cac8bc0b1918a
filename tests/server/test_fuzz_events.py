"""Throw arbitrary msgpack values and raw frames at every event; the server must keep serving."""

from __future__ import annotations

import asyncio

import msgpack
from hypothesis import strategies as st

from tests.helpers import LiveServer, connect, guest
from tests.reliability.fuzzkit import collect

scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=300)
    | st.binary(max_size=300)
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=8)
    | st.dictionaries(st.text(max_size=10) | st.sampled_from(["room", "text", "channel", "locked",
                                                               "avatar", "model", "color"]),
                      children, max_size=6),
    max_leaves=30,
)
room_shaped = st.fixed_dictionaries({"room": st.sampled_from(["hall:main", "social:plaza", "x"])},
                                    optional={"avatar": values})
move_shaped = st.lists(st.one_of(st.floats(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=3)),
                       min_size=0,
                       max_size=7)


async def test_arbitrary_payloads_never_break_the_server(server: LiveServer) -> None:
    events = sorted(set(server.app.realtime.handlers) | {"move", "queue.take", "nope"})
    cases = collect(st.tuples(st.sampled_from(events), values | room_shaped | move_shaped), 400)
    t_victim, _ = await guest(server.url, "victim")
    victim = await connect(server.url, t_victim)
    await victim.call("join", {"room": "social:plaza"})
    t_fuzz, _ = await guest(server.url, "fuzzer")
    fuzzer = await connect(server.url, t_fuzz)
    await fuzzer.call("join", {"room": "social:plaza"})
    answers = 0
    for i, (event, payload) in enumerate(cases):
        if event == "move" or i % 3:
            await fuzzer.sio.emit(event, payload)
        else:
            ack = await fuzzer.call(event, payload)
            answers += 1
            assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
            if not ack["ok"]:
                assert set(ack["error"]) >= {"code", "message"}
        if i % 40 == 0:
            await asyncio.sleep(0.15)  # stay inside the event budget most of the time
    # Raw frames: garbage bytes, wrong packet types, wrong namespaces, text frames.
    raw = collect(st.binary(max_size=200), 100) + [
        msgpack.packb({"type": 9, "nsp": "/"}), msgpack.packb({"type": 2, "nsp": "/x", "data": []}),
        msgpack.packb({"type": 2, "data": "move", "nsp": "/"}), msgpack.packb([1, 2, 3]),
        msgpack.packb({"type": 2, "data": [1, 2], "nsp": "/", "id": "x"}), b"\xc1",
        msgpack.packb({"type": 5, "nsp": "/", "data": ["a"]}),
    ]
    for frame in raw:
        await fuzzer.sio.eio.send(frame)
    await fuzzer.sio.eio.send("plain text frame")
    await asyncio.sleep(0.5)
    assert answers > 50

    # The victim was never disconnected, and the room state is consistent.
    assert victim.sio.connected
    ping = await victim.call("chat", {"channel": "room", "text": "still here"})
    assert ping["ok"] is True
    for room in server.app.registry.rooms():
        assert len(room.world) == room.members
        assert all(c.room is room and c.eid == eid for eid, c in room.clients.items())
    # A fresh, normal client is served as usual.
    t_new, _ = await guest(server.url, "newcomer")
    newcomer = await connect(server.url, t_new)
    ack = await newcomer.call("join", {"room": "social:plaza"})
    assert ack["ok"] is True
    metrics = server.app.metrics.render().decode()
    assert 'metahall_bad_payloads_total{reason="decode"}' in metrics
    for c in (victim, fuzzer, newcomer):
        await c.close()
