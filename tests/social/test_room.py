"""The social room: emotes to those in view, tables, and voice pairing as people move."""

from __future__ import annotations

import pytest

from rooms.errors import BadRequest, Forbidden, Muted, RateLimited
from rooms.social.errors import NotInRoom, NotVoicePeer, TooFar
from rooms.social.layout import TABLES
from tests.social.fakes import make_world


async def test_emotes_reach_those_who_see_you_and_nobody_else() -> None:
    w = await make_world()
    a, b, far = await w.join("A"), await w.join("B"), await w.join("Far")
    await w.place(a, 0, 0)
    await w.place(b, 5, 0)
    await w.place(far, 33, 33)  # 46 m away: outside the 30 m view
    await w.step()
    w.clear()
    ack = await w.room._message(a, "emote.send", {"kind": "wave"})
    assert ack == {"seen_by": 1}
    assert [m["kind"] for m in w.got(a, "emote")] == ["wave"]
    got = w.got(b, "emote")
    assert got and got[0]["eid"] == a.eid and got[0]["user_id"] == a.user.id
    assert w.got(far, "emote") == []


async def test_emotes_are_checked_and_rate_limited() -> None:
    w = await make_world()
    a = await w.join("A")
    with pytest.raises(BadRequest):
        await w.room._message(a, "emote.send", {"kind": "<script>"})
    with pytest.raises(BadRequest):
        await w.room._message(a, "emote.send", "wave")
    await w.room._message(a, "emote.send", {"kind": "clap"})
    with pytest.raises(RateLimited):
        await w.room._message(a, "emote.send", {"kind": "clap"})
    w.clock.now += 1
    await w.room._message(a, "emote.send", {"kind": "heart"})
    w.hooks.muted.add((w.room.id, a.user.id))
    w.clock.now += 1
    with pytest.raises(Muted):
        await w.room._message(a, "emote.send", {"kind": "heart"})


async def test_voice_connects_people_who_come_near_and_hangs_up_when_they_part() -> None:
    w = await make_world()
    a, b = await w.join("A", "ua"), await w.join("B", "ub")
    await w.place(a, 0, 0)
    await w.place(b, 20, 0)
    await w.room._message(a, "voice.join", {})
    ack = await w.room._message(b, "voice.join", {})
    assert ack is not None and ack["radius"] == 8.0 and ack["max_peers"] == 8
    await w.voice()
    assert w.got(a, "voice.peers") == [] and w.got(b, "voice.peers") == []
    await w.place(b, 6, 0)
    await w.voice()
    (pa,) = w.got(a, "voice.peers")
    (pb,) = w.got(b, "voice.peers")
    assert pa["add"][0]["user_id"] == "ub" and pa["add"][0]["offer"] is True
    assert pb["add"][0]["user_id"] == "ua" and pb["add"][0]["offer"] is False  # one side offers
    w.room.may_signal(a, b)
    w.room.may_signal(b, a)
    w.clear()
    await w.place(b, 12, 0)
    await w.voice()
    assert w.got(a, "voice.peers") == [{"add": [], "remove": ["ub"]}]
    assert w.got(b, "voice.peers") == [{"add": [], "remove": ["ua"]}]
    with pytest.raises(NotVoicePeer):
        w.room.may_signal(a, b)


async def test_only_people_in_voice_are_paired_and_leaving_hangs_up() -> None:
    w = await make_world()
    a, b, c = await w.join("A", "ua"), await w.join("B", "ub"), await w.join("C", "uc")
    for who, x in ((a, 0), (b, 2), (c, 4)):
        await w.place(who, x, 0)
    await w.room._message(a, "voice.join", {})
    await w.room._message(b, "voice.join", {})
    await w.voice()
    assert w.room.voice_pairs() == {(a.eid, b.eid)}  # c never joined voice
    w.clear()
    await w.room._leave(b, consented=True)
    assert w.room.voice_pairs() == set()
    assert w.got(a, "voice.peers") == [{"add": [], "remove": ["ub"]}]
    assert w.hooks.left == ["ub"]


async def test_a_second_tab_of_the_same_person_takes_over_voice() -> None:
    w = await make_world()
    a, a2, b = await w.join("A", "ua"), await w.join("A again", "ua"), await w.join("B", "ub")
    for who in (a, a2, b):
        await w.place(who, 1, 1)
    await w.room._message(a, "voice.join", {})
    await w.room._message(b, "voice.join", {})
    await w.voice()
    await w.room._message(a2, "voice.join", {})
    assert w.got(a, "voice.stopped") == [{"reason": "replaced"}]
    assert w.room.voice_pairs() == {tuple(sorted((a2.eid, b.eid)))}


async def test_a_table_is_a_private_room_for_voice_and_chat() -> None:
    w = await make_world()
    a, b, c = await w.join("A", "ua"), await w.join("B", "ub"), await w.join("C", "uc")
    tx, tz = TABLES[0].x, TABLES[0].z  # table A
    await w.place(a, tx + 1.5, tz)
    await w.place(b, tx + 1.5, tz + 1)
    await w.place(c, tx + 3.0, tz - 1)
    for who in (a, b, c):
        await w.room._message(who, "voice.join", {})
    await w.voice()
    assert len(w.room.voice_pairs()) == 3
    ack = await w.room._message(a, "table.join", {"table": "A"})
    assert ack is not None and [m["user_id"] for m in ack["table"]["members"]] == ["ua"]
    assert {tuple(sorted(p)) for p in w.room.voice_pairs()} == {tuple(sorted((b.eid, c.eid)))}
    await w.room._message(b, "table.join", {"table": "A"})
    assert w.room.voice_pairs() == {tuple(sorted((a.eid, b.eid)))}
    updates = w.got(c, "table.update")
    assert updates[-1]["id"] == "A" and len(updates[-1]["members"]) == 2
    # Chat on table:A reaches only the two at the table.
    members = w.room.channel_members(a, "table:A")
    assert members is not None and {m.user.id for m in members} == {"ua", "ub"}
    assert w.room.channel_members(a, "table:Z") is None
    assert w.room.channel_members(a, "booth:1") is None
    # The first at the table closes it; c cannot sit down.
    await w.room._message(a, "table.lock", {"locked": True})
    with pytest.raises(Forbidden) as err:
        await w.room._message(c, "table.join", {"table": "A"})
    assert err.value.to_wire()["reason"] == "table_locked"
    # b walks away: stood up at the next sweep, and hears c again.
    await w.place(b, tx + 8.5, tz)
    await w.voice()
    assert w.room.tables.zone_of(b.eid) is None
    assert tuple(sorted((b.eid, c.eid))) in w.room.voice_pairs()


async def test_a_table_too_far_away_is_refused() -> None:
    w = await make_world()
    a = await w.join("A")
    await w.place(a, 0, 0)
    with pytest.raises(TooFar):
        await w.room._message(a, "table.join", {"table": "A"})
    ack = await w.room._message(a, "table.list", {})
    assert ack is not None and [t["id"] for t in ack["tables"]] == ["A", "B", "C", "D"]


async def test_host_mute_tells_the_muted_and_their_peers() -> None:
    w = await make_world()
    a, b = await w.join("A", "ua"), await w.join("B", "ub")
    await w.place(a, 0, 0)
    await w.place(b, 1, 0)
    for who in (a, b):
        await w.room._message(who, "voice.join", {})
    await w.voice()
    w.clear()
    w.hooks.muted.add((w.room.id, "ub"))
    w.room.set_voice_muted("ub", True)
    assert w.got(a, "voice.muted") == [{"user_id": "ub", "muted": True}]
    assert w.got(b, "voice.muted") == [{"user_id": "ub", "muted": True}]


async def test_signalling_needs_both_in_this_room() -> None:
    w = await make_world()
    other = await make_world("social:other")
    a = await w.join("A", "ua")
    b = await other.join("B", "ub")
    with pytest.raises(NotInRoom):
        w.room.may_signal(a, b)
