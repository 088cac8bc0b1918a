"""A Flag verdict opens a case holding the evidence frozen at that moment."""

from __future__ import annotations

import asyncio
import time

from rooms.base import Room
from tests.helpers import LiveServer, connect, guest, wait_for
from tests.moderation_server.conftest import account, api, cases, wait_case


def place(room: Room, eid: int, x: float, z: float) -> None:
    room.world.remove(eid)
    room.world.add(eid, x, 0.0, z, 0.0, time.time() * 1000)


async def test_flag_opens_a_case_with_chat_trails_and_verdict_frozen_then(
        server: LiveServer) -> None:
    mt, _ = await account(server, "moderator")
    watcher = await connect(server.url, mt)
    names = ("Flagger", "Neighbour", "Faraway", "Elsewhere")
    tokens = [await guest(server.url, n) for n in names]
    clients = [await connect(server.url, t) for t, _ in tokens]
    flagger, neighbour, faraway, elsewhere = clients
    try:
        acks = [await c.call("join", {"room": "social:cafe"}) for c in clients[:3]]
        await elsewhere.call("join", {"room": "expo:demo"})
        room = server.app.registry.instances("social:cafe")[0]
        place(room, acks[0]["self"], 0.0, 0.0)
        place(room, acks[1]["self"], 6.0, 0.0)
        place(room, acks[2]["self"], 30.0, 30.0)
        # Everyone spawned close together: on a slow machine a trail sample may have caught that
        # moment; the scenario starts from the places above.
        room.trails._samples.clear()
        old = {"id": "old0000000000000", "channel": "room", "ts": int(time.time() * 1000) - 360_000,
               "from": {"user_id": tokens[1][1]["id"], "display_name": "Neighbour"},
               "text": "six minutes ago", "eid": acks[1]["self"]}
        room.chat_log.appendleft(old)
        await asyncio.sleep(1.1)  # a few trail samples at 2 Hz
        hello = await neighbour.call("chat", {"channel": "room", "text": "good morning"})
        dm = await neighbour.call("chat", {"channel": f"dm:{tokens[2][1]['id']}", "text": "psst"})
        flagged = await flagger.call("chat", {"channel": "room", "text": "CLICK  here for cash"})
        assert hello["ok"] and dm["ok"] and flagged["ok"]  # a flag lets the message through
        await neighbour.wait("chat", lambda m: m["id"] == flagged["id"])

        case = await wait_case(server, mt)
        assert case["source"] == "flag" and case["status"] == "open"
        assert case["subjects"] == [tokens[0][1]["id"]] and case["instance"] == "social:cafe#1"
        assert "click here" in case["reason"]
        ev = case["evidence"]
        chat_ids = [m["id"] for m in ev["chat"]]
        assert chat_ids == [hello["id"], flagged["id"]]  # not the old line, never the DM
        tracks = {t["user_id"]: t for t in ev["tracks"]}
        assert set(tracks) == {tokens[0][1]["id"], tokens[1][1]["id"]}  # not far, not elsewhere
        assert tracks[tokens[0][1]["id"]]["involved"] and len(tracks[tokens[0][1]["id"]]["t"]) >= 2
        assert tracks[tokens[1][1]["id"]]["x"][-1] == 600
        (verdict,) = case["verdicts"]
        assert verdict["kind"] == "flag" and verdict["message_id"] == flagged["id"]
        assert verdict["text"] == "CLICK  here for cash"
        assert ev["marks"] == [ev["t1"]] and ev["t0"] <= ev["chat"][0]["ts"]
        summary = await watcher.wait("mod.case")
        assert summary["id"] == case["id"]
    finally:
        for c in (*clients, watcher):
            await c.close()


async def test_more_flags_about_the_same_person_extend_one_case(server: LiveServer) -> None:
    mt, _ = await account(server, "moderator")
    tok, _ = await guest(server.url, "Repeat")
    other_tok, _ = await guest(server.url, "Other")
    c = await connect(server.url, tok)
    o = await connect(server.url, other_tok)
    try:
        await c.call("join", {"room": "hall:main"})
        await o.call("join", {"room": "hall:main"})
        a = await c.call("chat", {"channel": "room", "text": "click here now"})
        await asyncio.sleep(0.05)
        b = await c.call("chat", {"channel": "room", "text": "加微信领红包"})
        blocked = await c.call("chat", {"channel": "room", "text": "代 开 發 票"})
        assert a["ok"] and b["ok"] and blocked["error"]["code"] == "blocked"
        other = await o.call("chat", {"channel": "room", "text": "click here too"})
        assert other["ok"]
        found = await cases(server, mt)
        assert len(found) == 2  # one per person
        mine = next(x for x in found if x["subjects"] == [c_id(server, tok)])
        assert mine["n_verdicts"] == 2  # the block is a verdict of no case
        _, case = await api(server, "GET", f"/api/mod/cases/{mine['id']}", mt)
        assert len(case["evidence"]["marks"]) == 2
        assert [m["id"] for m in case["evidence"]["chat"]][-2:] == [a["id"], b["id"]]
        _, audit = await api(server, "GET", "/api/mod/audit", mt)
        kinds = [(e["action"], e["data"].get("kind")) for e in audit]
        assert kinds.count(("verdict", "block")) == 1 and kinds.count(("case_open", None)) == 2
        assert all("代" not in e["reason"] + str(e["data"]) or e["data"].get("kind") == "block"
                   for e in audit)
        assert all("红包" not in str(e) for e in audit)  # no chat text in the audit log
    finally:
        await c.close()
        await o.close()


def c_id(server: LiveServer, token: str) -> str:
    return server.app.signer.verify(token).user_id


async def test_a_display_name_flag_opens_a_case_without_room_evidence(server: LiveServer) -> None:
    mt, _ = await account(server, "moderator")
    await guest(server.url, "click here")
    await wait_for(lambda: server.app.mod._queue.qsize() == 0)
    found = await cases(server, mt)
    assert len(found) == 1 and found[0]["room_id"] == "-" and found[0]["subjects"] == []
