"""The ``report`` event: stored with the reporter's context before the ack; floods limited."""

from __future__ import annotations

import json

from sqlalchemy import select

from server.db.models import ModCase, Report
from tests.helpers import LiveServer, connect, guest
from tests.moderation_server.conftest import account, api


async def test_report_is_stored_with_context_and_opens_a_case_before_the_ack(
        server: LiveServer) -> None:
    mt, _ = await account(server, "moderator")
    rt, reporter = await guest(server.url, "Reporter")
    tt, target = await guest(server.url, "Target")
    r = await connect(server.url, rt, lang="zh-CN")
    t = await connect(server.url, tt)
    try:
        await r.call("join", {"room": "social:cafe"})
        await t.call("join", {"room": "social:cafe"})
        said = await t.call("chat", {"channel": "room", "text": "you all stink"})
        ack = await r.call("report", {"message_id": said["id"], "reason": "insulting people"})
        assert ack["ok"] is True and len(ack["report_id"]) == 32
        async with server.app.db.session() as s:  # no waiting: it was written before the ack
            row = await s.get(Report, ack["report_id"])
            assert row is not None and row.user_id == target["id"]
            assert row.reporter_id == reporter["id"] and row.message_id == said["id"]
            case = await s.get(ModCase, row.case_id)
        ctx = json.loads(row.context)
        assert ctx["lang"] == "zh-CN" and ctx["reporter"]["room"] == "social:cafe"
        assert ctx["message"]["text"] == "you all stink" and "distance_m" in ctx["target"]
        assert ctx["target"]["display_name"] == "Target"
        assert case is not None and case.source == "report" and case.severity == 1  # a guest
        _, detail = await api(server, "GET", f"/api/mod/cases/{case.id}", mt)
        assert [x["id"] for x in detail["reports"]] == [ack["report_id"]]
        assert said["id"] in [m["id"] for m in detail["evidence"]["chat"]]
        tracks = {tr["user_id"]: tr["involved"] for tr in detail["evidence"]["tracks"]}
        assert tracks == {target["id"]: True, reporter["id"]: False}  # the reporter: a witness
    finally:
        await r.close()
        await t.close()


async def test_report_floods_are_limited_and_duplicates_not_counted(server: LiveServer) -> None:
    rt, _ = await guest(server.url, "Flooder")
    r = await connect(server.url, rt)
    targets = [(await guest(server.url, f"T{i}"))[1]["id"] for i in range(7)]
    try:
        first = await r.call("report", {"user_id": targets[0], "reason": "spam"})
        again = await r.call("report", {"user_id": targets[0], "reason": "spam!!"})
        assert again == {"ok": True, "report_id": first["report_id"], "duplicate": True}
        acks = [await r.call("report", {"user_id": u, "reason": "spam"}) for u in targets[1:]]
        assert [a["ok"] for a in acks] == [True] * 4 + [False] * 2  # burst of 5 in all
        assert acks[-1]["error"]["code"] == "rate_limited"
        async with server.app.db.session() as s:
            n = len((await s.execute(select(Report))).scalars().all())
        assert n == 5
    finally:
        await r.close()


async def test_bad_reports_are_refused(server: LiveServer) -> None:
    rt, me = await guest(server.url, "Me")
    r = await connect(server.url, rt)
    ot, other = await guest(server.url, "Other")
    o = await connect(server.url, ot)
    try:
        await r.call("join", {"room": "hall:main"})
        await o.call("join", {"room": "hall:main"})
        line = await o.call("chat", {"channel": "room", "text": "hello"})
        mine = await r.call("chat", {"channel": "room", "text": "hi"})
        cases = [
            ({"reason": "no target"}, "bad_request"),
            ({"user_id": me["id"], "reason": "myself"}, "bad_request"),
            ({"message_id": mine["id"], "reason": "my own line"}, "bad_request"),
            ({"user_id": "f" * 32, "reason": "nobody"}, "not_found"),
            ({"message_id": "nope", "reason": "gone"}, "not_found"),
            ({"user_id": me["id"], "message_id": line["id"], "reason": "x"}, "bad_request"),
            ({"user_id": other["id"], "reason": ""}, "bad_request"),
            ({"user_id": other["id"], "reason": "x" * 501}, "bad_request"),
            ({"user_id": 42, "reason": "number"}, "bad_request"),
            ("not an object", "bad_request"),
        ]
        for payload, code in cases:
            ack = await r.call("report", payload)
            assert ack["ok"] is False and ack["error"]["code"] == code, (payload, ack)
        ok = await r.call("report", {"user_id": other["id"], "reason": "x"})
        assert ok["ok"] is True
    finally:
        await r.close()
        await o.close()


async def test_reports_from_several_people_raise_the_severity(server: LiveServer) -> None:
    mt, _ = await account(server, "moderator")
    tt, target = await guest(server.url, "Troll")
    reporters = [await account(server, "citizen") for _ in range(3)]
    clients = [await connect(server.url, tok) for tok, _ in reporters]
    try:
        for c in clients:
            assert (await c.call("report", {"user_id": target["id"], "reason": "trolling"}))["ok"]
        _, found = await api(server, "GET", "/api/mod/cases", mt)
        assert len(found) == 1 and found[0]["severity"] == 3 and found[0]["n_reports"] == 3
    finally:
        for c in clients:
            await c.close()
