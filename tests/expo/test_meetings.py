"""Meetings: slots published by a booth's staff; concurrent bookings of one slot — from one
service or from two on separate engines (two processes), on SQLite and PostgreSQL — end with
exactly one meeting; reminders and the opening reach both sides once; the private channel is
theirs alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rooms.errors import MetahallError
from rooms.expo import ExpoService
from rooms.expo.errors import AlreadyBookedHere, SlotOccupied, SlotPast, SlotTaken
from server.db.engine import Database
from server.expo_models import MeetingRow
from server.expo_store import SqlExpoStore
from tests.expo.fakes import Env, Notifier, make_env, room_of, seat
from tests.helpers import requires_service
from tests.pg import fresh_database, postgres_available

BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=[pytest.mark.postgres,
                                    requires_service("PostgreSQL", postgres_available())]),
]
MIN = 60_000


@pytest.fixture(params=BACKENDS)
async def two(request: pytest.FixtureRequest,
              tmp_path: Path) -> AsyncIterator[tuple[Env, ExpoService]]:
    """An expo service and a second one on its own engine (another process) on one database."""
    async def setup(url: str) -> AsyncIterator[tuple[Env, ExpoService]]:
        env = await make_env(url)
        db2 = Database(url)
        other = ExpoService(SqlExpoStore(db2), Notifier(), clock=env.clock)
        try:
            yield env, other
        finally:
            await db2.close()
            await env.db.close()

    if request.param == "sqlite":
        async for pair in setup(f"sqlite+aiosqlite:///{tmp_path / 'meet.db'}"):
            yield pair
    else:
        async with fresh_database() as url:
            async for pair in setup(url):
                yield pair


async def booked_rows(db: Database) -> int:
    async with db.session() as s:
        return int((await s.execute(select(func.count()).select_from(MeetingRow).where(
            MeetingRow.status == "booked"))).scalar_one())


async def test_concurrent_bookings_of_one_slot_give_one_meeting(two: tuple) -> None:
    env, other = two
    host, booth = await env.exhibitor("Host", "b30")
    await other.start()  # sees the booth and its exhibitor
    start = env.svc.now() + 60 * MIN
    slots = await env.svc.meetings.add_slots(host, booth, {"start": start, "minutes": 30,
                                                           "count": 2})
    people = [await env.person(f"v{i}") for i in range(12)]
    results = await asyncio.gather(*(
        (env.svc if i % 2 else other).meetings.book(p, slots[0].id)
        for i, p in enumerate(people)), return_exceptions=True)
    ok = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(ok) == 1, results
    assert errors and all(isinstance(e, SlotTaken) for e in errors), errors
    assert await booked_rows(env.db) == 1
    listed = await env.svc.meetings.slots(people[0], booth)
    assert [s["booked"] for s in listed] == [True, False]
    # The winner cannot take the second slot of the same booth as well (one per visitor)...
    winner = next(p for p in people if p.id == ok[0].visitor_id)
    with pytest.raises(AlreadyBookedHere):
        await other.meetings.book(winner, slots[1].id)
    # ...the second slot is still free for someone else, and the host is told.
    loser = next(p for p in people if p.id != winner.id)
    m = await env.svc.meetings.book(loser, slots[1].id)
    assert m.staff_id == host.id and await booked_rows(env.db) == 2
    assert env.notifier.of(host.id, "meeting.booked")


async def test_same_visitor_clicking_twice_concurrently_books_once(two: tuple) -> None:
    env, other = two
    host, booth = await env.exhibitor("Host", "b31")
    await other.start()
    slots = await env.svc.meetings.add_slots(host, booth, {"start": env.svc.now() + 90 * MIN,
                                                           "minutes": 15, "count": 3})
    me = await env.person("Twice")
    results = await asyncio.gather(*((env.svc, other)[i % 2].meetings.book(me, s.id)
                                     for i, s in enumerate(slots)), return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, (AlreadyBookedHere, SlotTaken)) for r in results
               if isinstance(r, BaseException))
    assert await booked_rows(env.db) == 1


async def test_slots_are_checked(env: Env) -> None:
    host, booth = await env.exhibitor("Host", "b32")
    now = env.svc.now()
    for bad in ({"start": now - MIN, "minutes": 30}, {"start": now + MIN, "minutes": 5},
                {"start": now + 90 * 86_400_000, "minutes": 30},
                {"start": "soon", "minutes": 30}, {"start": now + 2 * MIN, "minutes": 30,
                                                   "count": 99}):
        with pytest.raises(MetahallError) as info:
            await env.svc.meetings.add_slots(host, booth, bad)
        assert info.value.code == "bad_request"
    await env.svc.meetings.add_slots(host, booth, {"start": now + 60 * MIN, "minutes": 30})
    with pytest.raises(SlotOccupied):  # overlaps the first
        await env.svc.meetings.add_slots(host, booth, {"start": now + 75 * MIN, "minutes": 30})
    visitor = await env.person("Late")
    slot = (await env.svc.store.slots(booth, now))[0][0]
    env.clock.advance(61 * 60)
    with pytest.raises(SlotPast):
        await env.svc.meetings.book(visitor, slot.id)
    with pytest.raises(MetahallError) as info:
        await env.svc.meetings.book(host, slot.id)
    assert info.value.code in ("forbidden", "conflict")


async def test_reminder_then_private_channel_for_the_two_of_them(env: Env) -> None:
    svc = env.svc
    host, booth = await env.exhibitor("Host", "b33")
    guest = await env.person("Guest")
    stranger = await env.person("Stranger")
    start = svc.now() + 20 * MIN
    slot = (await svc.meetings.add_slots(host, booth, {"start": start, "minutes": 30}))[0]
    m = await svc.meetings.book(guest, slot.id)
    room = await room_of(env)
    clients = {p.id: await seat(room, p) for p in (host, guest, stranger)}
    env.notifier.online = {pid: [c] for pid, c in clients.items()}
    assert await svc.meetings.tick() == 0  # 20 min ahead: nothing yet
    with pytest.raises(MetahallError) as info:
        room.channel_members(clients[guest.id], m.channel)
    assert info.value.code == "forbidden"  # not open yet
    env.clock.advance(16 * 60)  # 4 minutes before
    assert await svc.meetings.tick() == 1
    for who in (host, guest):
        (note,) = env.notifier.of(who.id, "meeting.reminder")
        assert note["meeting"]["id"] == m.id and note["minutes"] == 4
    assert not env.notifier.of(stranger.id, "meeting.reminder")
    assert await svc.meetings.tick() == 0  # once only
    env.clock.advance(4 * 60)
    assert await svc.meetings.tick() == 1
    assert env.notifier.of(guest.id, "meeting.open")[0]["channel"] == f"meeting:{m.id}"
    members = room.channel_members(clients[guest.id], m.channel)
    assert members is not None and {c.user.id for c in members} == {host.id, guest.id}
    # Their optional video call: rtc.signal is allowed between the two of them only.
    room.may_signal(clients[guest.id], clients[host.id])
    room.may_signal(clients[host.id], clients[guest.id])
    with pytest.raises(MetahallError):
        room.may_signal(clients[stranger.id], clients[host.id])
    # A second process would not send them again (the marks are in the database).
    other = ExpoService(svc.store, Notifier(), clock=env.clock)
    await other.start()
    assert await other.meetings.tick() == 0
    env.clock.advance(30 * 60 + 11 * 60)  # after the end and the grace period
    assert room.channel_members(clients[guest.id], m.channel) is None
    with pytest.raises(MetahallError):
        room.may_signal(clients[guest.id], clients[host.id])


async def test_cancelling_frees_the_slot_and_tells_the_other_side(env: Env) -> None:
    svc = env.svc
    host, booth = await env.exhibitor("Host", "b34")
    a, b = await env.person("A"), await env.person("B")
    slot = (await svc.meetings.add_slots(host, booth, {"start": svc.now() + 60 * MIN,
                                                       "minutes": 30}))[0]
    m = await svc.meetings.book(a, slot.id)
    with pytest.raises(MetahallError) as info:
        await svc.meetings.cancel(b, m.id)
    assert info.value.code == "forbidden"
    await svc.meetings.cancel(a, m.id)
    assert env.notifier.of(host.id, "meeting.cancelled")
    again = await svc.meetings.book(b, slot.id)
    out = await svc.meetings.cancel_slot(host, slot.id)
    assert out["meeting"]["id"] == again.id and env.notifier.of(b.id, "meeting.cancelled")
    assert await booked_rows(env.db) == 0


