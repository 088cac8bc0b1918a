"""Nothing private reaches a non-member: private spaces (listing, joining, their chat), direct
messages, the counter consultation, booth and meeting channels, and WebRTC signalling across
rooms.

Every "did not receive" check first waits for a later marker message that the observer *does*
receive, so the absence is not just a matter of not having waited long enough."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import aiohttp
import pytest

from tests.expo.live import exhibitor, organiser
from tests.hall.fakes import live_token
from tests.helpers import LiveServer, RecordingClient, connect

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def server(module_server: LiveServer) -> LiveServer:
    return module_server  # one server for the module (tests/reliability/conftest.py)


async def get(server: LiveServer, path: str, token: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as s, s.get(server.url + path, headers=headers) as r:
        return r.status, await r.json()


def texts(c: RecordingClient) -> list[str]:
    return [m["text"] for m in c.events["chat"]]


def everything(c: RecordingClient) -> str:
    """All a client received, flattened, to search for a secret anywhere in it."""
    return repr(dict(c.events))


async def marker(sender: RecordingClient, observers: list[RecordingClient]) -> None:
    """A `room` line every observer in the sender's room receives (so earlier events arrived)."""
    text = "marker-" + uuid.uuid4().hex[:8]
    ack = await sender.call("chat", {"channel": "room", "text": text})
    assert ack["ok"], ack
    for o in observers:
        await o.wait("chat", lambda m, t=text: m["text"] == t)


async def people(server: LiveServer, *specs: tuple[str, str]) -> list[tuple[RecordingClient, str, str]]:
    out = []
    for name, roles in specs:
        token, uid = await live_token(server.app, name, roles)
        out.append((await connect(server.url, token), token, uid))
    return out


async def test_private_space_is_unlisted_closed_and_its_chat_stays_inside(
        server: LiveServer) -> None:
    (owner, owner_tok, _), (friend, _, _), (stranger, s_tok, _), (mod, _, _) = await people(
        server, ("Owner", "citizen"), ("Friend", "citizen"), ("Stranger", "citizen"),
        ("Mod", "moderator"))
    try:
        ack = await owner.call("space.create", {"name": "Secret garden 秘密花园",
                                                "description": "hush", "privacy": "private"})
        assert ack["ok"], ack
        room = ack["space"]["room"]
        # Not listed anywhere for others, nor fetchable, nor joinable.
        listed = await stranger.call("space.list", {})
        assert room not in repr(listed) and "Secret garden" not in repr(listed)
        # (site moderators see and may enter every space: docs/protocol.md, "Social")
        assert room in repr(await mod.call("space.list", {}))
        for tok in (None, s_tok):
            for path in ("/api/social/spaces", "/api/rooms"):
                status, body = await get(server, path, tok)
                assert status in (200, 401) and room not in repr(body), path
            status, _ = await get(server, f"/api/social/spaces/{room}", tok)
            assert status in (401, 404)
        assert room in repr(await owner.call("space.list", {}))  # the owner sees it
        got = await stranger.call("space.get", {"room": room})
        assert not got["ok"] and got["error"]["code"] in ("not_found", "forbidden")
        joined = await stranger.call("join", {"room": room})
        assert not joined["ok"] and joined["error"]["code"] == "forbidden"
        # A bad or forged invite token admits nobody.
        for bad in ("nope", "x" * 40, f"/s/{room}?invite=forged"):
            red = await stranger.call("space.redeem", {"token": bad})
            assert not red["ok"], bad
        # The owner invites the friend; friend and owner are inside, the stranger in the hall.
        inv = (await owner.call("space.invite", {"room": room, "max_uses": 1}))["invite"]
        red = await friend.call("space.redeem", {"token": inv["token"]})
        assert red["ok"], red
        assert (await owner.call("join", {"room": room}))["ok"]
        assert (await friend.call("join", {"room": room}))["ok"]
        # The single-use invite cannot be replayed by the stranger.
        again = await stranger.call("space.redeem", {"token": inv["token"]})
        assert not again["ok"]
        assert not (await stranger.call("join", {"room": room}))["ok"]
        assert (await stranger.call("join", {"room": "hall:main"}))["ok"]
        assert (await mod.call("join", {"room": "hall:main"}))["ok"]
        secret = "the-secret-" + uuid.uuid4().hex[:6]
        assert (await owner.call("chat", {"channel": "room", "text": secret}))["ok"]
        assert (await owner.call("chat", {"channel": "near", "text": secret + "-near"}))["ok"]
        await friend.wait("chat", lambda m: m["text"] == secret)
        await marker(stranger, [stranger, mod])
        for outsider in (stranger, mod):
            assert secret not in everything(outsider)
        assert "Secret garden" not in everything(stranger)
    finally:
        for c in (owner, friend, stranger, mod):
            await c.close()


async def test_direct_messages_reach_only_the_two(server: LiveServer) -> None:
    (a, a_tok, _), (b, _, b_id), (c, _, _), (mod, _, _), (admin, _, _) = await people(
        server, ("Ann", "citizen"), ("Bo", "citizen"), ("Cy", "citizen"), ("Mo", "moderator"),
        ("Ad", "admin"))
    a2 = await connect(server.url, a_tok)  # the sender's other device
    everyone = [a, a2, b, c, mod, admin]
    try:
        for x in everyone:
            assert (await x.call("join", {"room": "hall:main"}))["ok"]
        secret = "dm-secret-" + uuid.uuid4().hex[:6]
        ack = await a.call("chat", {"channel": f"dm:{b_id}", "text": secret})
        assert ack["ok"], ack
        await b.wait("chat", lambda m: m["text"] == secret)
        await a2.wait("chat", lambda m: m["text"] == secret)
        await marker(c, [c, mod, admin])
        for third in (c, mod, admin):  # same room; moderators get no live feed of DMs
            assert secret not in everything(third)
        # Nor is it kept in the room's log that reports freeze as evidence.
        for room in server.app.registry.rooms():
            assert all(m.get("text") != secret for m in room.chat_log)
        # A DM to someone offline or unknown goes nowhere and says so.
        for to in ("0" * 32, "nobody"):
            nack = await a.call("chat", {"channel": f"dm:{to}", "text": "hello?"})
            assert not nack["ok"] and nack["error"]["code"] == "not_found"
    finally:
        for x in everyone:
            await x.close()


async def test_counter_consultation_is_only_for_the_staff_member_and_the_citizen(
        server: LiveServer) -> None:
    (staff, _, _), (staff2, _, _), (cit, _, _), (other, _, _), (mod, _, _) = await people(
        server, ("Clerk", "staff"), ("Clerk2", "staff"), ("Ann", "citizen"),
        ("Other", "citizen"), ("Mo", "moderator"))
    everyone = [staff, staff2, cit, other, mod]
    try:
        for x in everyone:
            assert (await x.call("join", {"room": "hall:main"}))["ok"]
        t = (await cit.call("queue.take", {"service_id": "social_insurance"}))["ticket"]
        assert (await staff.call("counter.open", {"counter_id": "c4"}))["ok"]
        assert (await staff2.call("counter.open", {"counter_id": "c5"}))["ok"]
        nxt = await staff.call("counter.next", {"counter_id": "c4"})
        assert nxt["ok"] and nxt["ticket"]["id"] == t["id"]
        secret = "consult-" + uuid.uuid4().hex[:6]
        assert (await staff.call("chat", {"channel": "counter:c4", "text": secret}))["ok"]
        assert (await cit.call("chat", {"channel": "counter:c4", "text": secret + "-r"}))["ok"]
        await cit.wait("chat", lambda m: m["text"] == secret)
        await staff.wait("chat", lambda m: m["text"] == secret + "-r")
        # Others, even another clerk and a moderator, can neither post nor hear.
        for outsider in (staff2, other, mod):
            ack = await outsider.call("chat", {"channel": "counter:c4", "text": "let me in"})
            assert not ack["ok"] and ack["error"]["code"] == "forbidden"
        await marker(other, [staff2, other, mod])
        for outsider in (staff2, other, mod):
            assert secret not in everything(outsider)
        # Once served, the citizen is out of the channel.
        assert (await staff.call("counter.finish", {"ticket_id": t["id"],
                                                    "outcome": "served"}))["ok"]
        after = await cit.call("chat", {"channel": "counter:c4", "text": "still here?"})
        assert not after["ok"] and after["error"]["code"] == "forbidden"
    finally:
        for x in everyone:
            await x.close()


async def test_booth_channel_is_only_for_its_staff_and_visitors_at_it(server: LiveServer) -> None:
    admin = await organiser(server)
    a_http, _, booth_a = await exhibitor(server, admin, "alice", "b1")
    b_http, _, _ = await exhibitor(server, admin, "bob", "b2")
    (visitor, _, _), (guest_b, _, _) = await people(server, ("Far", "citizen"),
                                                     ("Booker", "citizen"))
    staff_a = await connect(server.url, a_http.token)
    staff_b = await connect(server.url, b_http.token)
    everyone = [staff_a, staff_b, visitor, guest_b]
    try:
        for x in everyone:
            assert (await x.call("join", {"room": "expo:demo"}))["ok"]
        secret = "booth-" + uuid.uuid4().hex[:6]
        assert (await staff_a.call("chat", {"channel": f"booth:{booth_a}", "text": secret}))["ok"]
        for outsider in (staff_b, visitor):  # another booth's staff; a visitor not at the booth
            ack = await outsider.call("chat", {"channel": f"booth:{booth_a}", "text": "hi"})
            assert not ack["ok"] and ack["error"]["code"] == "forbidden"
        await marker(staff_a, [staff_a, staff_b, visitor])
        for outsider in (staff_b, visitor):
            assert secret not in everything(outsider)
        # A meeting channel that does not exist is nobody's.
        ack = await visitor.call("chat", {"channel": "meeting:" + "0" * 32, "text": "hi"})
        assert not ack["ok"] and ack["error"]["code"] in ("not_found", "forbidden")
        # A meeting: its channel opens a minute before the start, for the visitor and the host.
        start = int(time.time() * 1000) + 61_500
        slots = await staff_a.call("slot.add", {"booth_id": booth_a, "start": start, "minutes": 10})
        assert slots["ok"], slots
        booked = await guest_b.call("meeting.book", {"slot_id": slots["slots"][0]["id"]})
        assert booked["ok"], booked
        channel = booked["meeting"]["channel"]
        await asyncio.sleep(max(0.0, (start - 60_000) / 1000 - time.time()) + 0.3)
        secret = "meeting-" + uuid.uuid4().hex[:6]
        ack = await guest_b.call("chat", {"channel": channel, "text": secret})
        assert ack["ok"], ack
        await staff_a.wait("chat", lambda m: m["text"] == secret)
        for outsider in (staff_b, visitor):  # another booth's staff; another visitor
            ack = await outsider.call("chat", {"channel": channel, "text": "me too"})
            assert not ack["ok"] and ack["error"]["code"] == "forbidden", ack
        await marker(staff_a, [staff_a, staff_b, visitor])
        for outsider in (staff_b, visitor):
            assert secret not in everything(outsider)
    finally:
        for x in everyone:
            await x.close()


async def test_rtc_signal_stays_within_one_room(server: LiveServer) -> None:
    (a, _, a_id), (b, _, b_id), (c, _, c_id) = await people(
        server, ("Ann", "citizen"), ("Bo", "citizen"), ("Cy", "citizen"))
    try:
        made = await c.call("space.create", {"name": "Voice room"})
        assert made["ok"], made
        assert (await a.call("join", {"room": "hall:main"}))["ok"]
        assert (await b.call("join", {"room": "hall:main"}))["ok"]
        assert (await c.call("join", {"room": made["space"]["room"]}))["ok"]
        offer = {"type": "offer", "sdp": "v=0 secret-sdp"}
        # Same room: delivered (the positive control).
        ok = await a.call("rtc.signal", {"to": b_id, "data": offer})
        assert ok["ok"] and ok["delivered"] == 1, ok
        await b.wait("rtc.signal", lambda m: m["from"] == a_id)
        # Across rooms, either way: refused, nothing delivered.
        for sender, to in ((a, c_id), (c, a_id), (c, b_id)):
            ack = await sender.call("rtc.signal", {"to": to, "data": offer})
            assert not ack["ok"] and ack["error"]["code"] in ("not_in_room", "forbidden", "not_found")
        await marker(a, [a, b])
        await marker(c, [c])
        assert not c.events["rtc.signal"]
        assert all(m["from"] != c_id for m in a.events["rtc.signal"] + b.events["rtc.signal"])
        # In an expo hall signalling needs a running meeting between the two.
        for x in (a, c):
            assert (await x.call("join", {"room": "expo:demo"}))["ok"]
        ack = await a.call("rtc.signal", {"to": c_id, "data": offer})
        assert not ack["ok"] and ack["error"]["code"] == "forbidden"
    finally:
        for x in (a, b, c):
            await x.close()
