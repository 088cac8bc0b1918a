from __future__ import annotations

import pytest

from rooms.errors import BadRequest, Forbidden, MessageHookError, NotFound, RoomFull, RoomPhaseError
from rooms.registry import RoomRegistry
from tests.rooms.fakes import Clock, make_client, make_registry, relay_options


async def test_join_creates_the_instance_on_demand_and_acks_the_spawn() -> None:
    reg, _ = make_registry(relay_options())
    client = make_client()
    room, ack = await reg.join_or_create("social:test", client, {})
    assert ack["room"] == "social:test" and ack["instance"] == "social:test#1"
    assert ack["self"] == 1 and ack["members"] == 1 and len(ack["spawn"]) == 4
    assert room.log == [("create", "social:test"), ("join", client.user.id)]
    assert client.room is room and client.eid == 1 and client.ready is False


async def test_full_instance_overflows_into_a_new_one_and_joins_fill_gaps_first() -> None:
    reg, _ = make_registry(relay_options(capacity=2))
    a, b, c = make_client(), make_client(), make_client()
    r1, _ = await reg.join_or_create("social:test", a, {})
    r1b, _ = await reg.join_or_create("social:test", b, {})
    r2, ack = await reg.join_or_create("social:test", c, {})
    assert r1 is r1b and r2 is not r1 and ack["instance"] == "social:test#2"
    assert reg.members("social:test") == 3
    await reg.leave(a, consented=True)
    d = make_client()
    r_d, _ = await reg.join_or_create("social:test", d, {})
    assert r_d is r1  # the first instance had space again


async def test_max_instances_bounds_overflow() -> None:
    reg, _ = make_registry(relay_options(capacity=1))
    reg.max_instances = 2
    await reg.join_or_create("social:test", make_client(), {})
    await reg.join_or_create("social:test", make_client(), {})
    with pytest.raises(RoomFull):
        await reg.join_or_create("social:test", make_client(), {})


@pytest.mark.parametrize("room_id,error", [
    ("social:none", NotFound), ("nope", BadRequest), (None, BadRequest), ("hall:main", NotFound),
])
async def test_unknown_or_malformed_room_ids(room_id: object, error: type[Exception]) -> None:
    reg, _ = make_registry(relay_options())
    with pytest.raises(error):
        await reg.join_or_create(room_id, make_client(), {})


async def test_on_join_may_refuse_and_nothing_changes() -> None:
    reg, _ = make_registry(relay_options(refuse=["troll"]))
    await reg.join_or_create("social:test", make_client("ok"), {})
    with pytest.raises(Forbidden):
        await reg.join_or_create("social:test", make_client("troll"), {})
    room = reg.instances("social:test")[0]
    assert room.members == 1 and len(room.world) == 1


async def test_locked_room_refuses_joins() -> None:
    reg, _ = make_registry(relay_options())
    await reg.join_or_create("social:test", make_client(), {})
    reg.set_locked("social:test", True)
    with pytest.raises(Forbidden):
        await reg.join_or_create("social:test", make_client(), {})


async def test_hook_failure_is_wrapped_and_the_room_keeps_running() -> None:
    reg, outbox = make_registry(relay_options())
    a, b = make_client(), make_client()
    room, _ = await reg.join_or_create("social:test", a, {})
    await reg.join_or_create("social:test", b, {})
    with pytest.raises(MessageHookError) as info:
        await room._message(a, "relay.crash", {})
    assert isinstance(info.value.__cause__, RuntimeError)
    assert info.value.to_wire()["code"] == "internal"
    assert "deliberate" not in info.value.to_wire()["message"]
    assert await room._message(a, "relay.say", {"text": "hi"}) == {"delivered": 1}
    assert outbox.to(b.sid, "relay.said") == [{"from": a.user.id, "text": "hi"}]


async def test_max_clients_only_in_on_create() -> None:
    reg, _ = make_registry(relay_options(max_clients=1))
    room, _ = await reg.join_or_create("social:test", make_client(), {})
    assert room.max_clients == 1
    with pytest.raises(RoomPhaseError):
        room.max_clients = 5


async def test_empty_rooms_are_disposed_after_the_grace_period() -> None:
    clock = Clock()
    reg, _ = make_registry(relay_options(), clock=clock)
    a = make_client()
    room, _ = await reg.join_or_create("social:test", a, {})
    await reg.leave(a, consented=False)
    assert room.log[-1] == ("leave", (a.user.id, False))
    assert await reg.dispose_idle(clock.now + 5, grace_s=30) == 0
    assert await reg.dispose_idle(clock.now + 31, grace_s=30) == 1
    assert room.log[-1] == ("dispose", "social:test") and reg.instances("social:test") == []


async def test_tick_sends_enter_before_the_first_snap_and_skips_unready() -> None:
    reg, outbox = make_registry(relay_options())
    a, b = make_client(), make_client()
    room, _ = await reg.join_or_create("social:test", a, {})
    await reg.join_or_create("social:test", b, {})
    a.ready = True  # b's join ack is "not yet sent"
    await room._tick(1)
    events = [e for s, e, _ in outbox.sent if s == a.sid]
    assert events[:2] == ["enter", "snap"]
    assert outbox.to(a.sid, "enter")[0][0]["user_id"] == b.user.id
    assert outbox.to(b.sid, "snap") == [] and outbox.to(b.sid, "enter") == []
    b.ready = True
    await room._tick(2)
    assert outbox.to(b.sid, "enter")[0][0]["user_id"] == a.user.id
    assert room.ticks == 2


def test_registry_type_is_importable_without_a_network() -> None:
    assert RoomRegistry.__module__ == "rooms.registry"
