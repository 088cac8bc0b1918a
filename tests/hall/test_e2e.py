"""The hall with real Socket.IO clients against a live server: citizens, staff, the manager."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from tests.hall.fakes import live_token
from tests.helpers import LiveServer, RecordingClient, connect, guest, wait_for


async def joined(live: LiveServer, name: str,
                 roles: str = "citizen") -> tuple[RecordingClient, str]:
    token, uid = await live_token(live.app, name, roles)
    c = await connect(live.url, token)
    assert (await c.call("join", {"room": "hall:main"}))["ok"]
    return c, uid


async def test_citizen_is_guided_takes_a_number_is_called_served_and_rates(
        server: LiveServer) -> None:
    citizen, cid = await joined(server, "Ann")
    staff, sid = await joined(server, "Clerk", "staff")
    other, _ = await joined(server, "Bob")
    try:
        guide = await citizen.call("guide.ask", {"text": "社保转移", "lang": "zh-CN"})
        top = guide["results"][0]
        assert guide["ok"] and top["service_id"] == "social_insurance" and top["online"]
        assert top["documents"][0]["name"]["zh-CN"] == "居民身份证"
        assert top["counter"]["id"] in ("c4", "c5") and len(top["path"]) >= 2
        assert "社会保险" in guide["answer"]["zh-CN"]

        taken = await citizen.call("queue.take", {"service_id": "social_insurance"})
        t = taken["ticket"]
        assert taken["ok"] and t["number"] == "D001" and t["position"] == 1
        assert isinstance(t["eta_s"], int) and t["service_id"] == "social_insurance"
        second = (await other.call("queue.take", {"service_id": "social_insurance"}))["ticket"]
        assert second["position"] == 2

        opened = await staff.call("counter.open", {"counter_id": "c4"})
        assert opened["ok"] and opened["counter"]["open"]
        assert opened["counter"]["queues"][0]["waiting"] == 2
        nxt = await staff.call("counter.next", {"counter_id": "c4"})
        assert nxt["ok"] and nxt["ticket"]["id"] == t["id"]
        assert nxt["ticket"]["display_name"] == "Ann"

        called = await citizen.wait("queue.called")
        assert called["ticket_id"] == t["id"] and called["counter"]["id"] == "c4"
        assert called["counter"]["position"] == [-22.5, 0.0, -33.0]
        assert called["path"][-1] == [-22.5, -31.4] and len(called["path"]) >= 2
        moved = await other.wait("queue.update", lambda u: u["position"] == 1)
        assert moved["ticket_id"] == second["id"]
        board = await other.wait("hall.board")
        assert board["calls"][0]["number"] == "D001"

        # The private consultation: only the two of them.
        said = await citizen.call("chat", {"channel": "counter:c4", "text": "我带了身份证"})
        assert said["ok"]
        heard = await staff.wait("chat", lambda m: m["channel"] == "counter:c4")
        assert heard["text"] == "我带了身份证"
        assert (await other.call("chat", {"channel": "counter:c4", "text": "hi"}))["error"][
            "code"] == "forbidden"

        docs = await staff.call("counter.docs", {"ticket_id": t["id"],
                                                 "checked": ["id_card", "si_card"]})
        assert docs["ok"] and docs["missing"] == ["transfer_letter"]
        assert (await citizen.wait("ticket.docs"))["checked"] == ["id_card", "si_card"]

        done = await staff.call("counter.finish", {"ticket_id": t["id"], "outcome": "served"})
        assert done["ok"] and done["ticket"]["outcome"] == "served"
        assert (await citizen.wait("queue.done"))["can_rate"] is True
        rated = await citizen.call("ticket.rate", {"ticket_id": t["id"], "score": 5,
                                                   "comment": "很快，谢谢"})
        assert rated["ok"] and rated["rating"]["score"] == 5
        again = await citizen.call("ticket.rate", {"ticket_id": t["id"], "score": 1})
        assert again["error"]["code"] == "conflict"
        mine = await citizen.call("queue.mine", {})
        assert mine["ok"] and mine["tickets"] == [] and mine["appointments"] == []
        board_state = await staff.call("counter.state", {})
        assert board_state["counters"][0]["id"] == "c4"
        assert any(q["service_id"] == "social_insurance" and q["waiting"] == 1
                   for q in board_state["queues"])
    finally:
        for c in (citizen, staff, other):
            await c.close()


BAD = [
    ("queue.take", {"service_id": "moon_landing"}, "not_found"),
    ("queue.take", {"service_id": 7}, "bad_request"),
    ("queue.take", "tax", "bad_request"),
    ("queue.take", None, "bad_request"),
    ("queue.leave", {"ticket_id": "0" * 32}, "not_found"),
    ("ticket.rate", {"ticket_id": "x", "score": 6}, "bad_request"),
    ("ticket.rate", {"ticket_id": "x", "score": True}, "bad_request"),
    ("guide.ask", {"text": ""}, "bad_request"),
    ("guide.ask", {"text": "tax", "lang": "fr"}, "bad_request"),
    ("appointment.book", {"service_id": "hukou", "start": 5}, "bad_request"),
    ("appointment.book", {"service_id": "hukou", "start": 2**52}, "bad_request"),
    ("appointment.slots", {"service_id": "hukou", "date": "yesterday"}, "bad_request"),
    ("counter.open", {"counter_id": "c1"}, "forbidden"),
    ("counter.open", {"counter_id": 12345}, "forbidden"),  # role first: no probing
    ("counter.next", {"counter_id": "c1"}, "forbidden"),
    ("counter.finish", {"ticket_id": "x", "outcome": "served"}, "forbidden"),
    ("counter.transfer", {"ticket_id": "x", "to_service_id": "tax"}, "forbidden"),
    ("counter.docs", {"ticket_id": "x", "checked": []}, "forbidden"),
    ("counter.recall", {"counter_id": "c1"}, "forbidden"),
    ("counter.close", {"counter_id": "c1"}, "forbidden"),
    ("counter.state", {}, "forbidden"),
    ("hall.stats", {}, "forbidden"),
]


async def test_bad_input_gets_clear_codes_and_changes_nothing(server: LiveServer) -> None:
    citizen, uid = await joined(server, "Eve")
    owner, _ = await joined(server, "Owner")
    try:
        t = (await owner.call("queue.take", {"service_id": "tax"}))["ticket"]
        for event, payload, code in BAD:
            ack = await citizen.call(event, payload)
            assert ack["ok"] is False and ack["error"]["code"] == code, (event, payload, ack)
            assert ack["error"]["message"]
        for event in ("queue.leave", "ticket.arrive", "ticket.rate"):
            ack = await citizen.call(event, {"ticket_id": t["id"], "score": 3})
            assert ack["error"]["code"] == "forbidden", (event, ack)
        state = server.app.hall.state
        assert list(state.tickets) == [t["id"]] and state.tickets[t["id"]].status == "waiting"
        assert not any(st.open for st in state.counter_state.values())
        assert uid not in state.by_user
    finally:
        await citizen.close()
        await owner.close()


async def test_two_staff_pressing_next_at_the_same_instant(server: LiveServer) -> None:
    s1, _ = await joined(server, "S1", "staff")
    s2, _ = await joined(server, "S2", "staff")
    citizens = [await joined(server, f"c{i}") for i in range(6)]
    try:
        for c, _ in citizens:
            assert (await c.call("queue.take", {"service_id": "tax"}))["ok"]
        assert (await s1.call("counter.open", {"counter_id": "c8", "service_ids": ["tax"]}))["ok"]
        assert (await s2.call("counter.open", {"counter_id": "c9", "service_ids": ["tax"]}))["ok"]
        seen: list[str] = []
        for _ in range(3):
            a, b = await asyncio.gather(s1.call("counter.next", {"counter_id": "c8"}),
                                        s2.call("counter.next", {"counter_id": "c9"}))
            assert a["ok"] and b["ok"] and a["ticket"]["id"] != b["ticket"]["id"]
            seen += [a["ticket"]["id"], b["ticket"]["id"]]
            await asyncio.gather(
                s1.call("counter.finish", {"ticket_id": a["ticket"]["id"], "outcome": "served"}),
                s2.call("counter.finish", {"ticket_id": b["ticket"]["id"], "outcome": "served"}))
        assert len(set(seen)) == 6
        empty = await s1.call("counter.next", {"counter_id": "c8"})
        assert empty["ok"] and empty["ticket"] is None
        assert (await s1.call("counter.close", {"counter_id": "c8"}))["ok"]
    finally:
        for c in [s1, s2] + [c for c, _ in citizens]:
            await c.close()


async def test_staff_transfers_and_the_citizen_keeps_a_fair_place(server: LiveServer) -> None:
    staff, _ = await joined(server, "S", "staff")
    early, _ = await joined(server, "Early")
    late, _ = await joined(server, "Late")
    try:
        first = (await early.call("queue.take", {"service_id": "hukou"}))["ticket"]
        await asyncio.sleep(0.01)
        later = (await late.call("queue.take", {"service_id": "id_card"}))["ticket"]
        await staff.call("counter.open", {"counter_id": "c1"})
        got = await staff.call("counter.next", {"counter_id": "c1"})
        assert got["ticket"]["id"] == first["id"]
        moved = await staff.call("counter.transfer", {"ticket_id": first["id"],
                                                      "to_service_id": "id_card"})
        assert moved["ok"] and moved["new_ticket"]["position"] == 1
        issued = await early.wait("queue.issued")
        assert issued["reason"] == "transfer" and issued["ticket"]["number"].startswith("B")
        assert (await late.wait("queue.update", lambda u: u["position"] == 2))["ticket_id"] == \
            later["id"]
    finally:
        for c in (staff, early, late):
            await c.close()


async def test_disconnected_citizen_keeps_the_ticket_for_the_grace_period(
        server: LiveServer) -> None:
    hall = server.app.hall
    hall.core.policy = replace(hall.core.policy, grace_s=0.4)
    token, uid = await live_token(server.app, "Wanderer")
    c = await connect(server.url, token)
    t = (await c.call("queue.take", {"service_id": "marriage"}))["ticket"]
    await c.close()
    await wait_for(lambda: not hall.core.notifier.online(uid))
    await hall.sweep()  # first seen offline now
    back = await connect(server.url, token)
    mine = await back.call("queue.mine", {})
    assert [x["number"] for x in mine["tickets"]] == [t["number"]]
    await back.close()
    await hall.sweep()
    await asyncio.sleep(0.5)
    await hall.sweep()
    assert t["id"] not in hall.state.tickets
    again = await connect(server.url, token)
    assert (await again.call("queue.mine", {}))["tickets"] == []
    await again.close()


async def test_appointment_is_booked_over_the_wire(server: LiveServer) -> None:
    c, _ = await joined(server, "Planner")
    try:
        slots = await c.call("appointment.slots", {"service_id": "property"})
        assert slots["ok"] and slots["slots"]
        slot = slots["slots"][0]
        booked = await c.call("appointment.book", {"service_id": "property",
                                                   "start": slot["start"]})
        assert booked["ok"] and booked["appointment"]["status"] == "booked"
        mine = await c.call("queue.mine", {})
        assert [a["id"] for a in mine["appointments"]] == [booked["appointment"]["id"]]
        cancel = await c.call("appointment.cancel", {"appointment_id": booked["appointment"]["id"]})
        assert cancel["ok"] and cancel["appointment"]["status"] == "cancelled"
    finally:
        await c.close()


async def http(method: str, url: str, token: str | None = None,
               body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as s:
        async with s.request(method, url, json=body, headers=headers) as resp:
            return resp.status, await resp.json()


async def test_http_catalogue_is_public_and_editing_needs_admin(server: LiveServer) -> None:
    status, services = await http("GET", f"{server.url}/api/hall/services")
    assert status == 200 and len(services) == 15
    first = services[0]
    assert {"id", "name", "counter_ids", "avg_service_s"} <= set(first)
    assert set(first["name"]) == {"zh-CN", "en"} and first["counter_ids"]
    status, counters = await http("GET", f"{server.url}/api/hall/counters")
    assert status == 200 and [c["id"] for c in counters][:2] == ["c1", "c2"]
    assert "staff_id" not in counters[0]
    status, body = await http("POST", f"{server.url}/api/hall/guide",
                              body={"text": "register a business", "lang": "en"})
    assert status == 200 and body["results"][0]["service_id"] == "business_licence"

    citizen, _ = await guest(server.url, "Nosy")
    admin, _ = await live_token(server.app, "Manager", "admin")
    edit = {**{k: first[k] for k in ("prefix", "name", "description", "documents", "online",
                                     "avg_service_s")}, "keywords": ["新词"]}
    status, body = await http("PUT", f"{server.url}/api/hall/services/{first['id']}", citizen, edit)
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = await http("PUT", f"{server.url}/api/hall/services/{first['id']}", None, edit)
    assert status == 401
    status, body = await http("PUT", f"{server.url}/api/hall/services/{first['id']}", admin,
                              {**edit, "name": {"zh-CN": "户籍业务（新）", "en": "Hukou"}})
    assert status == 200 and body["name"]["en"] == "Hukou"
    status, body = await http("PUT", f"{server.url}/api/hall/services/{first['id']}", admin,
                              {**edit, "prefix": "B"})
    assert status == 422 and body["error"]["code"] == "bad_request"
    status, body = await http("PUT", f"{server.url}/api/hall/counters/c13", admin,
                              {"name": {"zh-CN": "13号窗口", "en": "Counter 13"}, "x": 58,
                               "z": 0, "services": ["tax", "nope"]})
    assert status == 422 and "nope" in body["error"]["message"]
    status, body = await http("POST", f"{server.url}/api/hall/import", admin,
                              {"services": [], "counters": [{
                                  "id": "c13", "name": {"zh-CN": "13号窗口", "en": "Counter 13"},
                                  "x": 58, "z": 0, "services": ["tax"]}]})
    assert status == 200 and body["counters"] == 1
    assert "c13" in server.app.hall.state.counters
    assert server.app.hall.core.policy.no_show_s == 180  # no hall: section, policy kept
    status, body = await http("GET", f"{server.url}/api/hall/stats", citizen)
    assert status == 403
    status, stats = await http("GET", f"{server.url}/api/hall/stats?since=0", admin)
    assert status == 200 and len(stats["services"]) == 15 and "no_show_rate" in stats["totals"]
    status, slots = await http("GET", f"{server.url}/api/hall/slots?service_id=tax")
    assert status == 200 and slots["slots"][0]["capacity"] == 4  # c7, c8, c9, c13

    status, body = await http("DELETE", f"{server.url}/api/hall/services/tax", admin)
    assert status == 200 and body == {"id": "tax", "active": False}
    status, services = await http("GET", f"{server.url}/api/hall/services")
    assert "tax" not in [s["id"] for s in services]


@pytest.mark.parametrize("path", ["/api/hall/services/nope", "/api/hall/slots?service_id=nope"])
async def test_http_unknown_things_are_404(server: LiveServer, path: str) -> None:
    status, body = await http("GET", f"{server.url}{path}")
    assert status == 404 and body["error"]["code"] == "not_found"
