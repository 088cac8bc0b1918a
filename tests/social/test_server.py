"""Social spaces against a live server: privacy and invites, locks, host moderation recorded in
the audit log, the directory, overflow (instances and the waiting line), friends, presence,
emotes, and the ``rtc.signal`` relay's authorisation."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from server.db.models import AuditRow, ModAction
from server.moderation_audit import verify_audit
from server.social_models import SocialInviteRow
from tests.helpers import LiveServer, RecordingClient, connect, start_server, wait_for


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[LiveServer]:
    server = await start_server(tmp_path)
    try:
        yield server
    finally:
        await server.close()


class Person:
    def __init__(self, client: RecordingClient, user_id: str, token: str) -> None:
        self.c, self.id, self.token = client, user_id, token
        self.pos: list[float] = [0.0, 0.0, 0.0, 0.0]
        self.eid = 0

    async def call(self, event: str, data: Any = None) -> dict[str, Any]:
        ack: dict[str, Any] = await self.c.call(event, {} if data is None else data)
        return ack

    async def join(self, room: str) -> dict[str, Any]:
        ack = await self.call("join", {"room": room})
        if ack["ok"]:
            self.pos, self.eid = list(ack["spawn"]), ack["self"]
        return ack

    async def walk_to(self, x: float, z: float) -> None:
        """Walk at 5 m/s (under the 6 m/s clamp) in 0.1 s steps."""
        for _ in range(200):
            d = math.hypot(x - self.pos[0], z - self.pos[2])
            if d < 0.01:
                break
            k = min(1.0, 0.5 / d)
            self.pos[0] += (x - self.pos[0]) * k
            self.pos[2] += (z - self.pos[2]) * k
            await self.c.sio.emit("move", [round(self.pos[0], 2), 0.0, round(self.pos[2], 2),
                                           0.0, 1])
            await asyncio.sleep(0.1)
        await self.c.sio.emit("move", [round(self.pos[0], 2), 0.0, round(self.pos[2], 2), 0.0, 0])


async def person(srv: LiveServer, name: str, role: str = "citizen") -> Person:
    uname = f"{name.lower()}_{uuid.uuid4().hex[:6]}"
    user = await srv.app.accounts.register(uname, "correct-horse-9", name, roles=role)
    token = srv.app.signer.issue(user.id, user.token_version)
    return Person(await connect(srv.url, token), user.id, token)


async def people(srv: LiveServer, *names: str) -> list[Person]:
    return [await person(srv, n) for n in names]


def refused(ack: dict[str, Any], code: str, reason: str | None = None) -> None:
    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == code, ack
    if reason is not None:
        assert ack["error"]["reason"] == reason, ack


async def http(srv: LiveServer, method: str, path: str, token: str | None = None,
               body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as s:
        async with s.request(method, srv.url + path, json=body, headers=headers) as resp:
            return resp.status, await resp.json()


async def test_private_space_invites_and_allow_list(srv: LiveServer) -> None:
    owner, guest, other, third = await people(srv, "Owner", "Guest", "Other", "Third")
    ack = await owner.call("space.create", {"name": "读书会 Book club", "privacy": "private",
                                            "capacity": 6, "description": "Tuesdays"})
    assert ack["ok"], ack
    room = ack["space"]["room"]
    assert room.startswith("social:s-") and ack["space"]["my_role"] == "owner"

    # Not listed, and closed to strangers with a precise reason.
    listed = (await guest.call("space.list"))["spaces"]
    assert room not in [s["room"] for s in listed]
    refused(await guest.join(room), "forbidden", "space_private")
    assert (await owner.join(room))["ok"]

    # An invite link for one person.
    inv = (await owner.call("space.invite", {"ttl_s": 600, "max_uses": 1}))["invite"]
    assert inv["link"] == f"/?room={room}&invite={inv['token']}" and inv["status"] == "active"
    red = await guest.call("space.redeem", {"token": "http://x/" + inv["link"]})
    assert red["ok"] and red["room"] == room and red["new_member"] is True
    assert (await guest.join(room))["ok"]
    # The same member coming back with the used link is fine; someone else is not.
    again = await guest.call("space.redeem", {"token": inv["token"]})
    assert again["ok"] and again["new_member"] is False
    refused(await other.call("space.redeem", {"token": inv["token"]}), "forbidden",
            "invite_used_up")
    refused(await other.call("space.redeem", {"token": "x" * 32}), "not_found", "invite_unknown")

    # A revoked invite, then an expired one: refused even for someone it was never used by.
    inv2 = (await owner.call("space.invite", {"room": room}))["invite"]
    assert (await owner.call("space.revoke", {"room": room, "invite_id": inv2["id"]}))["ok"]
    refused(await other.call("space.redeem", {"token": inv2["token"]}), "forbidden",
            "invite_revoked")
    inv3 = (await owner.call("space.invite", {"room": room, "ttl_s": 60}))["invite"]
    async with srv.app.db.session() as s, s.begin():
        await s.execute(update(SocialInviteRow).where(SocialInviteRow.id == inv3["id"])
                        .values(expires_at=SocialInviteRow.created_at - 1))
    refused(await other.call("space.redeem", {"token": inv3["token"]}), "forbidden",
            "invite_expired")
    status, body = await http(srv, "POST", "/api/social/invites/redeem", other.token,
                              {"token": inv3["token"]})
    assert status == 403 and body["error"]["reason"] == "invite_expired"
    refused(await other.join(room), "forbidden", "space_private")
    listing = (await owner.call("space.invites", {"room": room}))["invites"]
    assert {i["status"] for i in listing} == {"used_up", "revoked", "expired"}
    assert all("token" not in i for i in listing)

    # The allow list: a host lets `third` in by id; members see the space in the directory.
    refused(await guest.call("space.allow", {"room": room, "user_id": third.id, "allowed": True}),
            "forbidden", "not_host")
    assert (await owner.call("space.allow", {"room": room, "user_id": third.id,
                                             "allowed": True}))["ok"]
    assert (await third.join(room))["ok"]
    assert room in [s["room"] for s in (await third.call("space.list"))["spaces"]]
    members = (await owner.call("space.members", {"room": room}))["members"]
    assert {(m["display_name"], m["via"]) for m in members} == {("Guest", "invite"),
                                                                ("Third", "allow")}
    for p in (owner, guest, other, third):
        await p.c.close()


async def test_lock_cohosts_and_host_moderation_are_audited(srv: LiveServer) -> None:
    owner, co, visitor, late = await people(srv, "Owner", "Co", "Visitor", "Late")
    mod = await person(srv, "Mod", "moderator")
    room = (await owner.call("space.create", {"name": "Jam"}))["space"]["room"]
    for p in (owner, co, visitor):
        assert (await p.join(room))["ok"]

    # Only the owner appoints co-hosts; a co-host can lock.
    refused(await co.call("space.cohost", {"room": room, "user_id": co.id, "cohost": True}),
            "forbidden", "not_owner")
    assert (await owner.call("space.cohost", {"room": room, "user_id": co.id, "cohost": True}))["ok"]
    assert (await co.call("space.lock", {"locked": True}))["space"]["locked"] is True
    await visitor.c.wait("space.updated", lambda m: m["locked"] is True)
    refused(await late.join(room), "forbidden", "space_locked")
    assert (await mod.join(room))["ok"]  # a site moderator may still come in
    assert (await co.call("space.lock", {"locked": False}))["ok"]

    # A visitor cannot mute; a co-host can, and the visitor can no longer chat here.
    refused(await visitor.call("space.mute", {"user_id": co.id, "duration_s": 60}),
            "forbidden", "not_host")
    refused(await co.call("space.mute", {"user_id": owner.id, "duration_s": 60}),
            "forbidden", "protected_user")
    refused(await co.call("space.kick", {"user_id": mod.id}), "forbidden", "protected_user")
    ack = await co.call("space.mute", {"user_id": visitor.id, "duration_s": 120,
                                       "note": "shouting"})
    assert ack["ok"] and ack["action"]["action"] == "space_mute"
    notice = await visitor.c.wait("space.muted")
    assert notice["muted"] is True and notice["room"] == room
    refused(await visitor.call("chat", {"channel": "room", "text": "hello?"}), "muted")
    assert (await visitor.call("chat", {"channel": f"dm:{owner.id}", "text": "sorry"}))["ok"]
    assert (await co.call("space.unmute", {"user_id": visitor.id}))["ok"]
    assert (await visitor.call("chat", {"channel": "room", "text": "better"}))["ok"]

    # Kick: out at once, and kept out for the time given.
    ack = await owner.call("space.kick", {"user_id": visitor.id, "duration_s": 300})
    assert ack["ok"]
    kicked = await visitor.c.wait("space.kicked")
    assert kicked["room"] == room and kicked["until"] == ack["action"]["until"]
    await wait_for(lambda: visitor.id not in {
        c.user.id for r in srv.app.registry.instances(room) for c in r.clients.values()})
    refused(await visitor.join(room), "forbidden", "space_kicked")

    # Recorded like any moderator action: rows in mod_actions, entries in the audit chain.
    async with srv.app.db.session() as s:
        rows = (await s.execute(select(ModAction).where(ModAction.room_id == room)
                                .order_by(ModAction.created_at))).scalars().all()
        audit = (await s.execute(select(AuditRow).where(AuditRow.action.like("space_%"))
                                 .order_by(AuditRow.seq))).scalars().all()
    assert [r.action for r in rows] == ["space_mute", "space_unmute", "space_kick"]
    assert rows[0].revoked_at is not None and rows[0].note == "shouting"
    assert [a.action for a in audit] == ["space_mute", "space_unmute", "space_kick"]
    assert all(a.target == visitor.id for a in audit)
    result = await verify_audit(srv.app.db, srv.app.mod.mdb.key)
    assert result.ok, result
    # The kicked user sees the kick among the actions taken on them (dashboard and HTTP).
    code, actions = await http(srv, "GET", f"/api/mod/actions?user_id={visitor.id}", mod.token)
    assert code == 200 and {a["action"] for a in actions} >= {"space_kick", "space_mute"}
    for p in (owner, co, visitor, late, mod):
        await p.c.close()


async def test_directory_counts_and_overflow_into_another_instance(srv: LiveServer) -> None:
    a, b, c = await people(srv, "A", "B", "C")
    room = (await a.call("space.create", {"name": "Tiny", "capacity": 2}))["space"]["room"]
    entry = next(s for s in (await b.call("space.list"))["spaces"] if s["room"] == room)
    assert entry["members"] == 0 and entry["full"] is False and entry["public"] is True
    assert (await a.join(room))["instance"] == f"{room}#1"
    assert (await b.join(room))["instance"] == f"{room}#1"
    entry = next(s for s in (await c.call("space.list"))["spaces"] if s["room"] == room)
    assert entry["members"] == 2 and entry["full"] is True and entry["instances"] == 1
    ack = await c.join(room)
    assert ack["ok"] and ack["instance"] == f"{room}#2"  # a full space opens another instance
    status, spaces = await http(srv, "GET", "/api/social/spaces")
    assert status == 200
    entry = next(s for s in spaces if s["room"] == room)
    assert entry["members"] == 3 and entry["instances"] == 2
    plaza = next(s for s in spaces if s["room"] == "social:plaza")
    assert plaza["plaza"] is True and plaza["name"]["en"] == "City Plaza"
    for p in (a, b, c):
        await p.c.close()


async def test_a_full_space_with_a_waiting_line(srv: LiveServer) -> None:
    a, b, c, d = await people(srv, "A", "B", "C", "D")
    room = (await a.call("space.create", {"name": "Queue", "capacity": 2,
                                          "overflow": "queue"}))["space"]["room"]
    refused(await b.call("space.update", {"room": room, "overflow": "instance"}), "forbidden",
            "not_owner")
    assert (await a.join(room))["ok"] and (await b.join(room))["ok"]
    refused(await c.join(room), "full", "space_full")
    assert (await c.call("space.wait", {"room": room}))["position"] == 1
    assert (await d.call("space.wait", {"room": room}))["position"] == 2
    await b.call("leave")
    turn = await c.c.wait("space.turn")
    assert turn["room"] == room and turn["until"] > 0
    await d.c.wait("space.line", lambda m: m["position"] == 1)
    refused(await d.join(room), "full", "space_full")  # c's place is held
    assert (await c.join(room))["ok"]
    entry = (await a.call("space.get", {"room": room}))["space"]
    assert entry["members"] == 2 and entry["waiting"] == 1
    for p in (a, b, c, d):
        await p.c.close()


async def test_friends_presence_and_joining_where_a_friend_is(srv: LiveServer) -> None:
    a, b, c = await people(srv, "Ann", "Bo", "Cy")
    ack = await a.call("friend.request", {"user_id": b.id})
    assert ack["ok"] and ack["state"] == "outgoing"
    note = await b.c.wait("friend.update")
    assert note == {"user_id": a.id, "display_name": "Ann", "state": "incoming"}
    refused(await a.call("friend.locate", {"user_id": b.id}), "not_found", "not_friends")
    assert (await b.call("friend.accept", {"user_id": a.id}))["state"] == "accepted"
    await a.c.wait("friend.update", lambda m: m["state"] == "accepted")

    assert (await b.join("social:plaza"))["ok"]
    where = await a.call("friend.locate", {"user_id": b.id})
    assert where["ok"] and where["room"] == "social:plaza" and where["joinable"] is True
    friends = (await a.call("friend.list"))["friends"]
    assert friends[0]["user_id"] == b.id and friends[0]["status"] == "available"
    assert friends[0]["where"]["room"] == "social:plaza"

    # Status: busy reaches friends and those in the same room.
    assert (await a.join("social:plaza"))["ok"]
    assert (await b.call("presence.set", {"status": "busy"}))["status"] == "busy"
    await a.c.wait("presence", lambda m: m["user_id"] == b.id and m["status"] == "busy")
    refused(await b.call("presence.set", {"status": "asleep"}), "bad_request")

    # A friend in a private space: located, but not joinable, with the reason.
    room = (await c.call("space.create", {"name": "Cy's", "privacy": "private"}))["space"]["room"]
    assert (await c.call("space.allow", {"room": room, "user_id": b.id, "allowed": True}))["ok"]
    assert (await b.join(room))["ok"]
    where = await a.call("friend.locate", {"user_id": b.id})
    assert where["room"] == room and where["joinable"] is False
    assert where["reason"] == "space_private"
    # Hiding one's whereabouts.
    assert (await b.call("presence.set", {"share_location": False}))["ok"]
    refused(await a.call("friend.locate", {"user_id": b.id}), "forbidden", "location_hidden")
    assert (await a.call("friend.remove", {"user_id": b.id}))["removed"] is True
    assert (await a.call("friend.list"))["friends"] == []
    for p in (a, b, c):
        await p.c.close()


async def test_emotes_reach_people_in_view(srv: LiveServer) -> None:
    a, b = await person(srv, "A"), await person(srv, "B")
    assert (await a.join("social:cafe"))["ok"] and (await b.join("social:cafe"))["ok"]
    await asyncio.sleep(0.3)  # a tick or two: each is in the other's view
    ack = await a.call("emote.send", {"kind": "wave"})
    assert ack["ok"] and ack["seen_by"] == 1
    got = await b.c.wait("emote")
    assert got["kind"] == "wave" and got["user_id"] == a.id
    refused(await a.call("emote.send", {"kind": "wave"}), "rate_limited")
    refused(await a.call("emote.send", {"kind": "dance-off"}), "bad_request")
    for p in (a, b):
        await p.c.close()


async def test_rtc_signal_is_relayed_only_within_a_room(srv: LiveServer) -> None:
    a, b, c = await people(srv, "A", "B", "C")
    offer = {"type": "offer", "sdp": "v=0\r\n"}
    refused(await a.call("rtc.signal", {"to": b.id, "data": offer}), "forbidden", "not_in_room")
    assert (await a.join("hall:main"))["ok"] and (await b.join("hall:main"))["ok"]
    assert (await c.join("expo:demo"))["ok"]
    ack = await a.call("rtc.signal", {"to": b.id, "data": offer})
    assert ack == {"ok": True, "delivered": 1}
    got = await b.c.wait("rtc.signal")
    assert got == {"from": a.id, "from_eid": a.eid, "data": offer}
    # Another room, an unknown user, oneself, malformed data.
    refused(await a.call("rtc.signal", {"to": c.id, "data": offer}), "forbidden", "not_in_room")
    refused(await a.call("rtc.signal", {"to": "f" * 32, "data": offer}), "forbidden",
            "not_in_room")
    refused(await a.call("rtc.signal", {"to": a.id, "data": offer}), "bad_request")
    refused(await a.call("rtc.signal", {"to": b.id, "data": "sdp"}), "bad_request")
    refused(await a.call("rtc.signal", {"to": b.id, "data": {"sdp": "x" * 20000}}), "bad_request")
    refused(await a.call("rtc.signal", {"data": offer}), "bad_request")
    assert c.c.events["rtc.signal"] == []
    for p in (a, b, c):
        await p.c.close()


async def test_voice_pairs_people_who_come_near_and_signalling_follows(srv: LiveServer) -> None:
    a, b = await person(srv, "A"), await person(srv, "B")
    assert (await a.join("social:plaza"))["ok"] and (await b.join("social:plaza"))["ok"]
    await a.walk_to(-3.0, 0.0)
    await b.walk_to(20.0, 0.0)
    ack = await a.call("voice.join")
    assert ack["ok"] and ack["radius"] == 8.0 and ack["max_peers"] == 8
    assert (await b.call("voice.join"))["ok"]
    offer = {"type": "offer", "sdp": "v=0\r\n"}
    await asyncio.sleep(0.6)
    refused(await a.call("rtc.signal", {"to": b.id, "data": offer}), "forbidden",
            "not_voice_peer")
    assert a.c.events["voice.peers"] == []
    await b.walk_to(3.0, 0.0)
    added = await a.c.wait("voice.peers", lambda m: m["add"], timeout=5)
    assert added["add"][0]["user_id"] == b.id
    peer_b = await b.c.wait("voice.peers", lambda m: m["add"], timeout=5)
    assert peer_b["add"][0]["user_id"] == a.id
    assert added["add"][0]["offer"] != peer_b["add"][0]["offer"]  # exactly one side offers
    assert (await a.call("rtc.signal", {"to": b.id, "data": offer}))["ok"]
    assert (await b.call("rtc.signal", {"to": a.id, "data": {"type": "answer"}}))["ok"]
    await b.walk_to(14.0, 0.0)
    await a.c.wait("voice.peers", lambda m: m["remove"] == [b.id], timeout=5)
    refused(await a.call("rtc.signal", {"to": b.id, "data": offer}), "forbidden",
            "not_voice_peer")
    for p in (a, b):
        await p.c.close()


async def test_http_api_for_spaces_and_ice_servers(tmp_path: Path) -> None:
    srv = await start_server(tmp_path, ice_servers=("stun:stun.example.org:3478",
                                                    "turn:turn.example.org:3478"))
    try:
        owner = await person(srv, "Owner")
        status, body = await http(srv, "POST", "/api/social/spaces", owner.token,
                                  {"name": "Garden", "privacy": "private", "capacity": 8})
        assert status == 201, body
        room = body["space"]["room"]
        status, body = await http(srv, "POST", "/api/social/spaces", owner.token,
                                  {"name": "Huge", "capacity": 100_000})
        assert status == 422 and body["error"]["field"] == "capacity"
        status, _ = await http(srv, "POST", "/api/social/spaces", None, {"name": "Anon"})
        assert status == 401
        status, body = await http(srv, "GET", f"/api/social/spaces/{room}")
        assert status == 404  # private: not shown to the public
        status, body = await http(srv, "PATCH", f"/api/social/spaces/{room}", owner.token,
                                  {"description": "Plants and tea", "locked": True})
        assert status == 200 and body["space"]["locked"] is True
        assert body["space"]["description"] == "Plants and tea"
        status, body = await http(srv, "POST", f"/api/social/spaces/{room}/invites",
                                  owner.token, {"ttl_s": 3600})
        assert status == 201 and body["invite"]["token"]
        inv = body["invite"]
        status, body = await http(srv, "DELETE", f"/api/social/spaces/{room}/invites/{inv['id']}",
                                  owner.token)
        assert status == 200 and body["invite"]["status"] == "revoked"
        # ICE servers for the browser: STUN as configured; TURN only with credentials.
        status, body = await http(srv, "GET", "/api/rtc/ice-servers", owner.token)
        assert status == 200
        assert body["ice_servers"] == [{"urls": ["stun:stun.example.org:3478"]}]
        srv.app.signals.ice = type(srv.app.signals.ice)(
            urls=srv.app.settings.ice_servers, turn_secret="s3cret")
        body = await owner.call("rtc.ice")
        turn = body["ice_servers"][1]
        assert turn["urls"] == ["turn:turn.example.org:3478"]
        assert turn["username"].endswith(":" + owner.id) and len(turn["credential"]) == 28
        status, body = await http(srv, "DELETE", f"/api/social/spaces/{room}", owner.token)
        assert status == 200 and body["deleted"] is True
        assert (await srv.app.directory.get(room)) is None
        await owner.c.close()
    finally:
        await srv.close()


async def test_spaces_survive_a_restart(tmp_path: Path) -> None:
    srv = await start_server(tmp_path)
    owner = await person(srv, "Owner")
    room = (await owner.call("space.create", {"name": "Stays", "privacy": "private"}))[
        "space"]["room"]
    guest = await person(srv, "Guest")
    inv = (await owner.call("space.invite", {"room": room}))["invite"]
    assert (await guest.call("space.redeem", {"token": inv["token"]}))["ok"]
    await owner.call("space.lock", {"room": room, "locked": True})
    await owner.c.close()
    await guest.c.close()
    await srv.close()
    srv = await start_server(tmp_path)
    try:
        space = srv.app.social.spaces[room]
        assert space.locked is True and space.privacy == "private"
        assert space.role_of(guest.id) == "member"
    finally:
        await srv.close()


async def test_privacy_export_includes_social_data(srv: LiveServer) -> None:
    from server.moderation_privacy import export_user

    a, b = await people(srv, "Ann", "Bo")
    room = (await a.call("space.create", {"name": "Mine", "privacy": "private"}))["space"]["room"]
    assert (await a.call("space.allow", {"room": room, "user_id": b.id, "allowed": True}))["ok"]
    assert (await b.call("friend.request", {"user_id": a.id}))["ok"]
    assert (await b.call("presence.set", {"status": "busy"}))["ok"]
    doc = await export_user(srv.app.db, b.id)
    other = doc["other"]
    assert other["social_members"][0]["room_id"] == room
    assert other["social_friends"][0]["friend_id"] == a.id
    assert other["social_profiles"][0]["status"] == "busy"
    for p in (a, b):
        await p.c.close()


async def test_a_second_process_picks_up_spaces_and_sanctions(tmp_path: Path) -> None:
    """Two servers on one database (as in a cluster): what one changes, the other applies."""
    one = await start_server(tmp_path)
    two = await start_server(tmp_path)
    try:
        owner = await person(one, "Owner")
        room = (await owner.call("space.create", {"name": "Shared", "privacy": "private"}))[
            "space"]["room"]
        visitor = Person(await connect(two.url, owner.token), owner.id, owner.token)
        guest_user = await two.app.accounts.register(f"g_{uuid.uuid4().hex[:6]}",
                                                     "correct-horse-9", "Guest")
        guest = Person(await connect(two.url, two.app.signer.issue(guest_user.id, 0)),
                       guest_user.id, "")
        refused(await guest.join(room), "forbidden", "space_private")  # unknown there: loaded
        assert await two.app.social.sync_once()
        refused(await guest.join(room), "forbidden", "space_private")
        assert (await owner.call("space.allow", {"room": room, "user_id": guest.id,
                                                 "allowed": True}))["ok"]
        assert await two.app.social.sync_once()
        assert (await guest.join(room))["ok"]
        assert (await owner.call("space.mute", {"room": room, "user_id": guest.id}))["ok"]
        assert await two.app.social.sync_once()
        assert two.app.social.space_muted(room, guest.id)
        refused(await guest.call("chat", {"channel": "room", "text": "hi"}), "muted")
        assert (await owner.call("space.kick", {"room": room, "user_id": guest.id}))["ok"]
        assert await two.app.social.sync_once()
        await guest.c.wait("space.kicked")
        refused(await guest.join(room), "forbidden", "space_kicked")
        for p in (owner, visitor, guest):
            await p.c.close()
    finally:
        await two.close()
        await one.close()
