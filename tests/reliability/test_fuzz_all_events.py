"""Every Socket.IO event the running server handles, fuzzed as a guest and as a user holding every
staff role: each ack is ``ok`` or a clean error with a known code (never ``internal``), and
afterwards a fresh client joins, chats, takes a number, moves and sees another; rooms and the
hall queue are consistent.

The event list is read from the app (``realtime.handlers``) and from each room kind's
``on_message``, so a new event is fuzzed without touching this file. ``METAHALL_FUZZ_EXAMPLES``
raises the number of generated payloads per event (``make chaos``)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from typing import Any

import msgpack
import pytest

import server.realtime as realtime_mod
from tests.hall.fakes import live_token
from tests.helpers import LiveServer, RecordingClient, connect, guest
from tests.reliability.fuzzkit import (
    KNOWN_CODES,
    collect,
    examples,
    field_names,
    fixed_payloads,
    payloads,
    room_events,
)

ALL_ROLES = "citizen,staff,exhibitor,moderator,admin"
ROOM_OF_KIND = {"hall": "hall:main", "social": "social:plaza", "expo": "expo:demo"}
MUST_HAVE = {"join", "leave", "chat", "report", "queue.take", "counter.next", "counter.open",
             "ticket.rate", "expo.path", "booth.favourite", "lead.share", "rtc.signal",
             "rtc.offer", "mod.action", "room.lock", "space.create", "stage.ask",
             "friend.request", "emote.send", "table.join", "voice.join"}


def all_events(live: LiveServer) -> dict[str, str | None]:
    """event → the room kind that answers it (None: a global handler)."""
    events: dict[str, str | None] = dict.fromkeys(live.app.realtime.handlers)
    for name, kind in room_events(live.app.registry._kinds).items():
        events.setdefault(name, kind)
    return events


def known_ids(live: LiveServer) -> list[str]:
    app = live.app
    ids = ["hall:main", "social:plaza", "expo:demo", "demo", "main", "stage", "room", "near",
           "dm:nobody", "booth:demo-yunfan", "", "x" * 65]
    state = app.hall.state
    ids += list(state.services)[:6] + list(state.counters)[:6]
    ids += [b for b in list(getattr(app.expo, "booths", {}))[:6] if isinstance(b, str)]
    return ids


async def fuzz_one(client: RecordingClient, cases: list[tuple[str, Any]], tally: Counter[str],
                   crashes: list[str]) -> None:
    for i, (event, payload) in enumerate(cases):
        if not client.sio.connected:
            tally["disconnected"] += 1  # an admin fuzzer may have kicked another: legitimate
            return
        if i % 7 == 6:
            await client.sio.emit(event, payload)  # no ack: must not break anything either
            tally["no_ack"] += 1
            continue
        try:
            ack = await client.call(event, payload, timeout=15)
        except Exception as exc:  # noqa: BLE001 -- a missing ack is a finding
            if not client.sio.connected:
                tally["disconnected"] += 1
                return
            crashes.append(f"{event}: no ack ({type(exc).__name__}) for {payload!r:.200}")
            continue
        if not isinstance(ack, dict) or not isinstance(ack.get("ok"), bool):
            crashes.append(f"{event}: malformed ack {ack!r:.200}")
            continue
        if ack["ok"]:
            tally["ok"] += 1
            continue
        err = ack.get("error")
        code = err.get("code") if isinstance(err, dict) else None
        if code not in KNOWN_CODES or not isinstance(err.get("message"), str):
            crashes.append(f"{event}: {err!r:.200} for {payload!r:.300}")
        tally[str(code)] += 1


def hall_consistent(live: LiveServer) -> None:
    state = live.app.hall.state
    for user_id, mine in state.by_user.items():
        for service_id, tid in mine.items():
            t = state.tickets[tid]
            assert t.user_id == user_id and t.service_id == service_id
    for tid, t in state.tickets.items():
        if t.status == "waiting":
            assert tid in state.queues[t.service_id]
    for counter_id, tid in state.current.items():
        assert state.tickets[tid].counter_id == counter_id
    for q in state.queues.values():
        assert len(q) == len(set(q._by_id)) and all(k in state.tickets for k in q._by_id)


def rooms_consistent(live: LiveServer) -> None:
    for room in live.app.registry.rooms():
        assert len(room.world) == room.members, room.id
        for eid, c in room.clients.items():
            assert c.room is room and c.eid == eid
            assert all(math.isfinite(v) for v in room.world.position(eid)[:4]), room.id


async def test_every_event_survives_hostile_payloads(server: LiveServer,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    # The per-connection budget is tested in test_limits; here every payload should reach
    # its handler instead of bouncing off rate_limited.
    monkeypatch.setattr(realtime_mod, "EVENTS_PER_S", 100_000.0)
    monkeypatch.setattr(realtime_mod, "EVENTS_BURST", 100_000.0)
    events = all_events(server)
    assert MUST_HAVE <= set(events), MUST_HAVE - set(events)
    assert len(events) >= 80
    ids = known_ids(server)
    keys = field_names()
    assert {"room", "text", "service_id", "counter_id", "ticket_id"} <= set(keys)

    tokens: list[tuple[str, str, str]] = []
    for kind in ROOM_OF_KIND:
        for role in ("citizen", ALL_ROLES):
            token, uid = await live_token(server.app, f"fz-{kind}-{role[:5]}", role)
            ids.append(uid)
            tokens.append((kind, token, role))

    # Generate everything before connecting: drawing examples blocks the event loop, and a
    # client that cannot answer pings for 30 s is (rightly) dropped by the server.
    n = examples(3)
    per_event = {ev: collect(payloads(ids, keys), n) for ev in events}
    plans: list[list[tuple[str, Any]]] = []
    for kind, _token, _role in tokens:
        # The hand-picked extremes go to every event from the hall (both roles); elsewhere the
        # generated payloads only, to keep this inside make test's budget.
        extremes = fixed_payloads(keys) if kind == "hall" or examples(0) else []
        plan = []
        for ev, room_kind in sorted(events.items(), key=lambda kv: kv[0]):
            if room_kind is not None and room_kind != kind:
                continue  # a room event is fuzzed in a room of its kind
            if ev in ("join", "leave"):
                # Leaving would take the fuzzer out of the room the following events need;
                # joins go elsewhere and back once, at the end.
                continue
            plan += [(ev, p) for p in per_event[ev] + extremes]
        plan += [("join", p) for p in per_event["join"] + extremes]
        plan += [("leave", p) for p in per_event["leave"][:2]]
        plan.append(("join", {"room": ROOM_OF_KIND[kind]}))
        plans.append(plan)

    t_victim, _ = await guest(server.url, "victim")
    victim = await connect(server.url, t_victim)
    assert (await victim.call("join", {"room": "hall:main"}))["ok"]
    fuzzers: list[tuple[str, RecordingClient, str]] = []
    for kind, token, role in tokens:
        c = await connect(server.url, token)
        ack = await c.call("join", {"room": ROOM_OF_KIND[kind]})
        assert ack["ok"], ack
        fuzzers.append((kind, c, role))

    tally: Counter[str] = Counter()
    crashes: list[str] = []
    await asyncio.gather(*(fuzz_one(c, plan, tally, crashes)
                           for (_k, c, _r), plan in zip(fuzzers, plans, strict=True)))
    tried = sum(len(p) for p in plans)
    print(f"\nfuzzed {len(events)} events with {tried} payloads: {dict(tally)}")
    assert not crashes, "\n".join(crashes[:30])
    # Events sent without an ack may not crash either: a failing handler logs an error.
    failures = [r.getMessage() for r in caplog.records
                if r.levelno >= logging.ERROR and r.name.startswith("metahall")]
    assert not failures, failures[:10]
    assert "metahall_room_hook_errors_total{" not in server.app.metrics.render().decode()
    assert tally["ok"] > 50 and sum(tally[c] for c in KNOWN_CODES) > tried // 3

    # -- afterwards: the server serves a normal client; nothing is corrupted --------------------
    rooms_consistent(server)
    hall_consistent(server)
    assert victim.sio.connected
    t_admin, _ = await live_token(server.app, "fixer", "admin,moderator")
    admin = await connect(server.url, t_admin)
    for rid in ("hall:main",):  # an admin fuzzer may have locked it: that is allowed
        ack = await admin.call("mod.action", {"action": "unlock", "room_id": rid,
                                              "reason": "disruption"})
        assert ack["ok"] or ack["error"]["code"] in KNOWN_CODES
    t_a, _ = await guest(server.url, "after-a")
    t_b, _ = await guest(server.url, "after-b")
    a, b = await connect(server.url, t_a), await connect(server.url, t_b)
    ja = await a.call("join", {"room": "hall:main", "avatar": {"model": "fox", "color": "#00ff00"}})
    jb = await b.call("join", {"room": "hall:main"})
    assert ja["ok"] and jb["ok"], (ja, jb)
    sent = await a.call("chat", {"channel": "room", "text": "after the storm"})
    assert sent["ok"], sent
    await b.wait("chat", lambda m: m["text"] == "after the storm")
    await victim.wait("chat", lambda m: m["text"] == "after the storm")
    service = next(iter(server.app.hall.state.services))
    took = await a.call("queue.take", {"service_id": service})
    assert took["ok"] and took["ticket"]["position"] >= 1, took
    x, y, z, yaw = ja["spawn"]
    for step in range(1, 6):
        await a.sio.emit("move", [x + 0.2 * step, y, z, yaw, 1])
        await asyncio.sleep(0.12)

    def sees_a(snap: Any) -> bool:
        body = msgpack.unpackb(snap) if isinstance(snap, bytes) else snap
        return any(row[0] == ja["self"] for row in body[1])

    await b.wait("snap", sees_a, timeout=10)
    hall_consistent(server)
    rooms_consistent(server)
    for _k, c, _r in fuzzers:
        if c.sio.connected:
            await c.close()
    for c in (victim, admin, a, b):
        await c.close()
