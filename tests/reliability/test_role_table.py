"""Table-driven role checks: every protected Socket.IO event and HTTP endpoint, its minimum role,
and every principal below it. Each attempt must be refused (`forbidden` / 401 / 403) and leave
the stored and in-memory state exactly as it was.

The table is checked against the server's own registry of events and routes: a new event or
route that is neither in ``PUBLIC_EVENTS`` / ``PUBLIC_ROUTES`` nor in the table fails the test,
so every new endpoint must be classified.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy import select

from server.db.models import Base
from tests.expo.live import exhibitor, organiser
from tests.hall.fakes import live_token
from tests.helpers import LiveServer, RecordingClient, connect

# Principals. "exhib_a" runs booth A and speaks the talk; "exhib_b" runs booth B (a booth
# exhibitor of *another* booth); "owner" is the citizen who owns the private space.
PRINCIPALS = ("anon", "citizen", "staff", "exhib_b", "moderator", "exhib_a", "owner", "admin")

STAFF = frozenset({"staff", "admin"})
ADMIN = frozenset({"admin"})
MOD = frozenset({"moderator", "admin"})
BOOTH = frozenset({"exhib_a", "admin"})
LEADS = frozenset({"exhib_a"})  # an exhibitor's leads are theirs: not even admins read them
HALL_EXHIBITORS = frozenset({"exhib_a", "exhib_b", "admin"})  # the hall's exhibitors
SPEAKER = frozenset({"exhib_a", "admin"})
SPEAKER_MOD = frozenset({"exhib_a", "admin", "moderator"})
SPACE_OWNER = frozenset({"owner", "admin"})
SPACE_HOST = frozenset({"owner", "moderator", "admin"})


@dataclass(frozen=True)
class Entry:
    kind: str  # "sio" or an HTTP method
    name: str  # event name or route path (with {placeholders})
    allowed: frozenset[str]
    body: Any = None

    @property
    def key(self) -> tuple[str, str]:
        return ("sio", self.name) if self.kind == "sio" else (self.kind, self.name)


SOON = (int(time.time()) // 3600 + 48) * 3_600_000  # on the hour, two days ahead (ms)
BAN = {"action": "ban", "user_id": "{citizen_id}", "duration_s": 3600, "reason": "spam",
       "note": "role table"}
TALK = {"room": "expo:demo", "title": {"zh-CN": "题", "en": "T"}, "speaker_id": "{exhib_a_id}",
        "start": SOON, "end": SOON + 3_600_000, "mode": "live"}
C = {"counter_id": "{counter}"}
S = {"room": "{space}"}

TABLE: list[Entry] = [
    # -- service hall: staff at a counter, the hall manager (admin) -----------------------
    *(Entry("sio", f"counter.{e}", STAFF, {**C, "service_id": "{service}", "ticket_id": "x"})
      for e in ("open", "close", "next", "recall", "finish", "transfer", "docs", "state")),
    Entry("sio", "hall.stats", ADMIN, {}),
    Entry("PUT", "/api/hall/services/{service_id}", ADMIN, {"name": {"zh-CN": "坏", "en": "Bad"}}),
    Entry("DELETE", "/api/hall/services/{service_id}", ADMIN),
    Entry("PUT", "/api/hall/counters/{counter_id}", ADMIN, {"name": "Bad"}),
    Entry("DELETE", "/api/hall/counters/{counter_id}", ADMIN),
    Entry("GET", "/api/hall/catalogue", ADMIN),
    Entry("POST", "/api/hall/import", ADMIN, {"services": []}),
    Entry("GET", "/api/hall/stats", ADMIN),
    # -- accounts -----------------------------------------------------------------------------
    Entry("PUT", "/api/admin/users/{username}/roles", ADMIN, {"roles": ["admin"]}),
    # -- moderation ---------------------------------------------------------------------------
    Entry("sio", "mod.action", MOD, BAN),
    Entry("sio", "room.lock", MOD, {"locked": True, "note": "role table"}),
    Entry("GET", "/api/mod/cases", MOD),
    Entry("GET", "/api/mod/cases/{case_id}", MOD),
    Entry("POST", "/api/mod/actions", MOD, BAN),
    Entry("GET", "/api/mod/actions", MOD),
    Entry("GET", "/api/mod/appeals", MOD),
    Entry("POST", "/api/mod/appeals/{appeal_id}", MOD, {"decision": "overturned", "note": "x x"}),
    Entry("GET", "/api/mod/audit", MOD),
    Entry("GET", "/api/mod/audit/verify", MOD),
    Entry("GET", "/api/mod/terms", MOD),
    Entry("POST", "/api/mod/terms", ADMIN, {"term": "badword", "action": "block"}),
    Entry("DELETE", "/api/mod/terms/{term_id}", ADMIN),
    Entry("POST", "/api/mod/terms/reload", ADMIN, {}),
    # -- expo: the organiser (admin) ----------------------------------------------------------
    Entry("POST", "/api/expos", ADMIN, {"id": "evil", "name": {"zh-CN": "坏", "en": "Evil"}}),
    Entry("PATCH", "/api/expos/{expo_id}", ADMIN, {"name": {"zh-CN": "坏", "en": "Evil"}}),
    Entry("POST", "/api/expos/{expo_id}/publish", ADMIN, {"published": False}),
    Entry("GET", "/api/expos/{expo_id}/exhibitors", ADMIN),
    Entry("POST", "/api/expos/{expo_id}/exhibitors", ADMIN,
          {"username": "{citizen_username}", "company": "Evil", "slot": "b5"}),
    Entry("DELETE", "/api/expos/{expo_id}/exhibitors/{user_id}", ADMIN),
    Entry("GET", "/api/expo/halls/{room_id}/heatmap.png", HALL_EXHIBITORS),
    # -- expo: a booth's exhibitors (admins too), leads only for the exhibitors --------------
    Entry("PUT", "/api/expo/booths/{booth_id}", BOOTH,
          {"name": {"zh-CN": "坏", "en": "Evil"}, "color": "#000000", "category": "tech"}),
    Entry("POST", "/api/expo/booths/{booth_id}/files", BOOTH, {}),
    Entry("GET", "/api/expo/booths/{booth_id}/files", BOOTH),
    Entry("DELETE", "/api/expo/booths/{booth_id}/files/{file_id}", BOOTH),
    Entry("GET", "/api/expo/booths/{booth_id}/analytics", BOOTH),
    Entry("GET", "/api/expo/booths/{booth_id}/presence", BOOTH),
    Entry("POST", "/api/expo/booths/{booth_id}/slots", BOOTH,
          {"start": SOON + 7_200_000, "minutes": 30}),
    Entry("DELETE", "/api/expo/slots/{slot_id}", LEADS),
    Entry("GET", "/api/expo/booths/{booth_id}/meetings", LEADS),
    Entry("GET", "/api/expo/booths/{booth_id}/leads", LEADS),
    Entry("GET", "/api/expo/booths/{booth_id}/leads.{fmt}", LEADS),
    Entry("sio", "lead.list", LEADS, {"booth_id": "{booth}"}),
    Entry("sio", "booth.analytics", BOOTH, {"booth_id": "{booth}"}),
    Entry("sio", "booth.presence", BOOTH, {"booth_id": "{booth}"}),
    Entry("sio", "slot.add", LEADS, {"booth_id": "{booth}", "start": SOON + 7_200_000,
                                     "minutes": 30}),
    Entry("sio", "slot.cancel", LEADS, {"slot_id": "{slot}"}),
    # -- stage: the organiser (admin) schedules, the speaker runs the talk ------------------
    Entry("sio", "stage.create", ADMIN, TALK),
    Entry("sio", "stage.update", ADMIN, {"talk_id": "{talk}", "title": {"zh-CN": "坏", "en": "X"}}),
    Entry("sio", "stage.delete", ADMIN, {"talk_id": "{talk}"}),
    Entry("POST", "/api/stage/talks", ADMIN, TALK),
    Entry("PATCH", "/api/stage/talks/{talk_id}", ADMIN, {"title": {"zh-CN": "坏", "en": "X"}}),
    Entry("DELETE", "/api/stage/talks/{talk_id}", ADMIN),
    Entry("PUT", "/api/stage/talks/{talk_id}/slides", SPEAKER, {}),
    Entry("sio", "stage.publish", SPEAKER, {"talk_id": "{talk}", "offer": {"sdp": "v=0",
                                                                           "type": "offer"}}),
    Entry("sio", "stage.unpublish", SPEAKER, {"talk_id": "{talk}"}),
    Entry("sio", "stage.slide", SPEAKER, {"talk_id": "{talk}", "index": 0}),
    Entry("sio", "stage.moderate", SPEAKER_MOD, {"talk_id": "{talk}", "question_id": "{question}",
                                                 "status": "hidden"}),
    # -- social: a space's owner (or an admin); hosts also co-hosts and moderators ----------
    Entry("sio", "space.update", SPACE_OWNER, {**S, "name": "Evil"}),
    Entry("sio", "space.delete", SPACE_OWNER, S),
    Entry("sio", "space.cohost", SPACE_OWNER, {**S, "user_id": "{citizen_id}", "cohost": True}),
    Entry("sio", "space.lock", SPACE_HOST, {**S, "locked": True}),
    Entry("sio", "space.allow", SPACE_HOST, {**S, "user_id": "{citizen_id}", "allowed": True}),
    Entry("sio", "space.members", SPACE_HOST, S),
    Entry("sio", "space.invite", SPACE_HOST, {**S, "uses": 1}),
    Entry("sio", "space.invites", SPACE_HOST, S),
    Entry("sio", "space.revoke", SPACE_HOST, {**S, "invite_id": "{invite}"}),
    Entry("sio", "space.mute", SPACE_HOST, {**S, "user_id": "{citizen_id}", "duration_s": 600,
                                            "note": "role table"}),
    Entry("sio", "space.unmute", SPACE_HOST, {**S, "user_id": "{citizen_id}", "note": "x x"}),
    Entry("sio", "space.kick", SPACE_HOST, {**S, "user_id": "{citizen_id}", "note": "x x"}),
    Entry("PATCH", "/api/social/spaces/{room_id}", SPACE_OWNER, {"name": "Evil"}),
    Entry("DELETE", "/api/social/spaces/{room_id}", SPACE_OWNER),
    Entry("GET", "/api/social/spaces/{room_id}/members", SPACE_HOST),
    Entry("POST", "/api/social/spaces/{room_id}/invites", SPACE_HOST, {"uses": 1}),
    Entry("GET", "/api/social/spaces/{room_id}/invites", SPACE_HOST),
    Entry("DELETE", "/api/social/spaces/{room_id}/invites/{invite_id}", SPACE_HOST),
]

TABLE_BY_KEY = {e.key: e for e in TABLE}

PUBLIC_EVENTS = {
    # every signed-in user; object-level rules (own ticket, own meeting...) are tested by features
    "join", "leave", "chat", "rtc.offer", "rtc.close", "rtc.ice", "rtc.signal", "presence.set",
    "report", "guide.ask", "hall.services", "queue.take", "queue.leave", "queue.mine",
    "ticket.arrive", "ticket.rate", "appointment.slots", "appointment.book", "appointment.cancel",
    "expo.list", "expo.directory", "expo.booth", "expo.path", "expo.mine", "booth.favourite",
    "lead.share", "lead.withdraw", "meeting.slots", "meeting.book", "meeting.cancel",
    "meeting.mine", "friend.request", "friend.accept", "friend.remove", "friend.list",
    "friend.locate", "space.list", "space.create", "space.get", "space.redeem", "space.wait",
    "space.people", "space.unwait", "stage.list", "stage.watch", "stage.unwatch", "stage.ask", "stage.vote",
    "stage.questions",
}
PUBLIC_ROUTES = {
    ("POST", "/api/auth/guest"), ("POST", "/api/auth/register"), ("POST", "/api/auth/login"),
    ("POST", "/api/auth/logout"), ("POST", "/api/auth/password"), ("GET", "/api/me"),
    ("GET", "/api/rooms"), ("GET", "/api/rooms/{room_id}/layout"), ("GET", "/healthz"),
    ("GET", "/metrics"), ("GET", "/api/hall/services"), ("GET", "/api/hall/services/{service_id}"),
    ("GET", "/api/hall/counters"), ("POST", "/api/hall/guide"), ("GET", "/api/hall/slots"),
    ("POST", "/api/appeals"), ("GET", "/api/me/moderation"),
    ("GET", "/api/social/spaces"), ("POST", "/api/social/spaces"),
    ("GET", "/api/social/spaces/{room_id}"), ("POST", "/api/social/invites/redeem"),
    ("GET", "/api/social/friends"), ("GET", "/api/rtc/ice-servers"),
    ("GET", "/api/stage/talks"), ("GET", "/api/stage/talks/{talk_id}"),
    ("GET", "/api/stage/talks/{talk_id}/slides/{index}"),
    ("GET", "/api/expo/categories"), ("GET", "/api/expos"), ("GET", "/api/expos/{expo_id}"),
    ("GET", "/api/expos/{expo_id}/booths"), ("GET", "/api/expo/booths/{booth_id}"),
    ("GET", "/api/expo/booths/{booth_id}/slots"), ("GET", "/api/expo/files/{file_id}"),
    ("GET", "/api/expo/files/{file_id}/thumb"), ("GET", "/api/me/expo"),
    ("PUT", "/api/expo/favourites/{booth_id}"), ("DELETE", "/api/expo/favourites/{booth_id}"),
    ("POST", "/api/expo/booths/{booth_id}/lead"), ("DELETE", "/api/expo/booths/{booth_id}/lead"),
    ("POST", "/api/expo/meetings"), ("DELETE", "/api/expo/meetings/{meeting_id}"),
}
"""Open to anyone or to every signed-in user (``/`` and the static mounts are not API routes)."""


def app_routes(server: LiveServer) -> set[tuple[str, str]]:
    out = set()
    for route in server.runner.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method in ("HEAD", "OPTIONS") or not path.startswith(("/api/", "/healthz",
                                                                        "/metrics")):
            continue
        out.add((route.method, path))
    return out


def test_table_is_well_formed() -> None:
    keys = [e.key for e in TABLE]
    assert len(keys) == len(set(keys)), "an entry is listed twice"
    for e in TABLE:
        assert e.allowed and e.allowed <= set(PRINCIPALS)
        assert "admin" in e.allowed or e.allowed == LEADS
        assert not PUBLIC_EVENTS & {e.name} and (e.kind, e.name) not in PUBLIC_ROUTES


async def fingerprint(server: LiveServer) -> dict[str, str]:
    """A digest of every table in the database and of the features' in-memory state."""
    app = server.app
    out: dict[str, str] = {}
    async with app.db.session() as s:
        for table in Base.metadata.sorted_tables:
            rows = (await s.execute(select(table))).all()
            out[table.name] = hashlib.sha1(
                repr(sorted(repr(tuple(r)) for r in rows)).encode()).hexdigest()
    memory = {
        "hall.services": app.hall.services_view(),
        "hall.counters": app.hall.counters_view(),
        "expo.booths": {b: x.to_wire() for b, x in app.expo.booths.items()},
        "social.spaces": {k: repr(v) for k, v in app.social.spaces.items()},
        "locked": sorted(app.mod.locked_rooms) if hasattr(app.mod, "locked_rooms") else None,
    }
    for k, v in memory.items():
        out[k] = hashlib.sha1(json.dumps(v, sort_keys=True, default=repr).encode()).hexdigest()
    return out


def fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: ids.get(m.group(1), "x1"), value)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


async def _sio_call(c: RecordingClient, event: str, body: Any) -> Any:
    for _ in range(5):
        ack = await c.call(event, body)
        if ack.get("ok") is False and ack["error"]["code"] == "rate_limited":
            await asyncio.sleep(1.0)
            continue
        return ack
    raise AssertionError(f"{event}: still rate limited")


async def test_every_protected_action_refuses_every_lower_role(server: LiveServer) -> None:
    app = server.app
    admin = await organiser(server)
    a_http, a_id, booth_a = await exhibitor(server, admin, "alice", "b1")
    b_http, _b_id, _booth_b = await exhibitor(server, admin, "bob", "b2")
    tokens: dict[str, str | None] = {"anon": None, "admin": admin.token,
                                     "exhib_a": a_http.token, "exhib_b": b_http.token}
    ids: dict[str, str] = {"booth": booth_a, "booth_id": booth_a, "exhib_a_id": a_id,
                           "expo_id": "demo", "fmt": "csv", "room_id": "expo:demo"}
    for name, roles in (("citizen", "citizen"), ("staff", "staff"),
                        ("moderator", "moderator"), ("owner", "citizen")):
        tokens[name], ids[f"{name}_id"] = await live_token(app, name.title(), roles)
    await app.accounts.register("victim", "password-1", "Victim")
    ids["username"] = ids["citizen_username"] = "victim"
    ids["user_id"] = _b_id
    counter = sorted(app.hall.core.state.counters)[0]
    service = sorted(app.hall.core.state.services)[0]
    ids.update(counter=counter, counter_id=counter, service=service, service_id=service)

    socks: dict[str, RecordingClient] = {}
    try:
        for name, tok in tokens.items():
            if tok is not None:
                socks[name] = await connect(server.url, tok)
        # Objects the protected actions point at, made by their rightful owners.
        ack = await socks["exhib_a"].call("slot.add", {"booth_id": booth_a,
                                                       "start": SOON, "minutes": 30})
        assert ack["ok"], ack
        ids["slot"] = ids["slot_id"] = ack["slots"][0]["id"]
        ack = await socks["admin"].call("stage.create", fill(TALK, ids))
        assert ack["ok"], ack
        ids["talk"] = ids["talk_id"] = ack["talk"]["id"]
        asker = await app.accounts.get(ids["citizen_id"])
        talk = await app.stage.service.talk(ids["talk"])
        ids["question"] = (await app.stage.service.ask(asker, talk, "Why?")).id
        ack = await socks["owner"].call("space.create", {"name": "Private", "privacy": "private"})
        assert ack["ok"], ack
        ids["space"] = ids["room_id_space"] = ack["space"]["room"]
        ack = await socks["owner"].call("space.invite", {"room": ids["space"], "uses": 1})
        assert ack["ok"], ack
        ids["invite"] = ids["invite_id"] = ack["invite"]["id"]
        for name in ("citizen", "staff", "exhib_b", "moderator"):  # room.lock needs a room
            ack = await socks[name].call("join", {"room": "hall:main"})
            assert ack["ok"] or ack["error"]["code"] != "forbidden", ack

        # Every event and route is classified.
        events = set(app.realtime.handlers)
        table_events = {e.name for e in TABLE if e.kind == "sio"}
        assert events - PUBLIC_EVENTS - table_events == set(), "unclassified events"
        assert table_events - events == set() and PUBLIC_EVENTS - events == set(), "stale"
        routes = app_routes(server)
        table_routes = {e.key for e in TABLE if e.kind != "sio"}
        assert routes - PUBLIC_ROUTES - table_routes == set(), "unclassified routes"
        assert table_routes - routes == set() and PUBLIC_ROUTES - routes == set(), "stale"

        before = await fingerprint(server)
        tried = 0
        wrong: list[Any] = []
        async with aiohttp.ClientSession() as http:
            for e in TABLE:
                for who in PRINCIPALS:
                    if who in e.allowed or (e.kind == "sio" and who == "anon"):
                        continue
                    body = fill(e.body, ids)
                    if e.kind == "sio":
                        ack = await _sio_call(socks[who], e.name, body)
                        got = "ok" if ack.get("ok") else ack["error"]["code"]
                        want = {"forbidden"}
                    else:
                        path = fill(e.name, {**ids, "room_id": ids["space"]}
                                    if "/social/" in e.name else ids)
                        tok = tokens[who]
                        headers = {"Authorization": f"Bearer {tok}"} if tok else {}
                        async with http.request(e.kind, server.url + path, json=body,
                                                headers=headers) as r:
                            got = str(r.status)
                        want = {"401"} if who == "anon" else {"403"}
                    tried += 1
                    if got not in want:
                        wrong.append((e.kind, e.name, who, got))
        assert wrong == [], "\n".join(map(str, wrong))
        after = await fingerprint(server)
        assert {k for k in before if before[k] != after[k]} == set()
        assert tried >= 300
        assert len(before) >= 20  # every feature's tables are in the digest
        # Positive controls: the rightful principal's same request goes through and shows up.
        ack = await _sio_call(socks["owner"], "space.update", fill({**S, "name": "Renamed"}, ids))
        assert ack["ok"], ack
        ack = await _sio_call(socks["moderator"], "mod.action", fill(BAN, ids))
        assert ack["ok"], ack
        async with aiohttp.ClientSession() as http:
            async with http.put(f"{server.url}/api/expo/booths/{booth_a}", json=fill(
                    TABLE_BY_KEY["PUT", "/api/expo/booths/{booth_id}"].body, ids),
                    headers={"Authorization": f"Bearer {tokens['exhib_a']}"}) as r:
                assert r.status == 200, await r.text()
        changed = {k for k in before if before[k] != (await fingerprint(server))[k]}
        assert {"social.spaces", "expo.booths"} <= changed and len(changed) >= 4, changed
        print(f"role table: {len(TABLE)} protected actions, {tried} refused attempts")
    finally:
        for c in socks.values():
            await c.close()
