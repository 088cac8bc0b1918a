"""Races settled by the database, on SQLite and PostgreSQL: two stores on separate engines stand
in for two server processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rooms.errors import MetahallError
from rooms.hall.errors import ActiveTicketExists, AlreadyBooked, CounterBusy, SlotFull
from rooms.hall.models import Appointment, IssueRequest, Outcome, TicketStatus
from server.db.engine import Database
from server.hall_setup import SEED_FILE, load_catalogue_file
from server.hall_store import SqlHallStore
from tests.hall.fakes import add_people, add_person
from tests.helpers import requires_service
from tests.pg import fresh_database, postgres_available

NOW = 1_780_000_000_000
BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=[pytest.mark.postgres,
                                    requires_service("PostgreSQL", postgres_available())]),
]


@pytest.fixture(params=BACKENDS)
async def stores(request: pytest.FixtureRequest,
                 tmp_path: Path) -> AsyncIterator[tuple[Database, SqlHallStore, SqlHallStore]]:
    async def setup(url: str) -> AsyncIterator[tuple[Database, SqlHallStore, SqlHallStore]]:
        db1, db2 = Database(url), Database(url)
        await db1.migrate()
        s1, s2 = SqlHallStore(db1), SqlHallStore(db2)
        await s1.save_catalogue(load_catalogue_file(SEED_FILE), replace=True)
        try:
            yield db1, s1, s2
        finally:
            await s1.close()
            await s2.close()
            await db1.close()
            await db2.close()

    if request.param == "sqlite":
        async for pair in setup(f"sqlite+aiosqlite:///{tmp_path / 'race.db'}"):
            yield pair
    else:
        async with fresh_database() as url:
            async for pair in setup(url):
                yield pair


def req(user_id: str, service: str = "tax", prefix: str = "H", now: int = NOW) -> IssueRequest:
    return IssueRequest(service, prefix, user_id, "x", "20260529", now)


async def test_twenty_counters_racing_never_share_a_ticket(stores: tuple) -> None:
    db, s1, s2 = stores
    people = await add_people(db, 30)
    issued = [await s1.issue(req(p.id, now=NOW + i)) for i, p in enumerate(people)]
    claimed: list[str] = []

    async def counter(store: SqlHallStore, counter_id: str) -> None:
        while True:
            t = await store.claim_next(counter_id, ["tax"], "staff", NOW + 10_000)
            if t is None:
                return
            assert t.status == TicketStatus.CALLED and t.counter_id == counter_id
            claimed.append(t.id)
            await store.update_ticket(t.id, (TicketStatus.CALLED,), {
                "status": TicketStatus.DONE, "outcome": Outcome.SERVED, "finished_at": NOW})

    await asyncio.gather(*(counter(s1 if i % 2 else s2, f"c{i}") for i in range(20)))
    assert sorted(claimed) == sorted(t.id for t in issued)  # each exactly once


async def test_one_counter_clicked_twice_gets_one_ticket(stores: tuple) -> None:
    db, s1, s2 = stores
    for i, p in enumerate(await add_people(db, 3)):
        await s1.issue(req(p.id, now=NOW + i))
    results = await asyncio.gather(s1.claim_next("c7", ["tax"], "st", NOW),
                                   s2.claim_next("c7", ["tax"], "st", NOW),
                                   return_exceptions=True)
    tickets = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(tickets) == 1 and tickets[0] is not None
    assert len(errors) == 1 and isinstance(errors[0], CounterBusy)


async def test_numbers_are_unique_and_one_active_ticket_per_user(stores: tuple) -> None:
    db, s1, s2 = stores
    people = await add_people(db, 12)
    tickets = await asyncio.gather(*(
        (s1 if i % 2 else s2).issue(req(p.id)) for i, p in enumerate(people)))
    assert sorted(t.seq for t in tickets) == list(range(1, 13))
    assert len({t.number for t in tickets}) == 12
    same = people[0]
    results = await asyncio.gather(*((s1 if i % 2 else s2).issue(req(same.id, "hukou", "A"))
                                     for i in range(8)), return_exceptions=True)
    ok = [r for r in results if not isinstance(r, BaseException)]
    assert len(ok) == 1
    assert all(isinstance(r, ActiveTicketExists) for r in results if isinstance(r, BaseException))


async def test_a_slot_is_never_overbooked(stores: tuple) -> None:
    db, s1, s2 = stores
    people = await add_people(db, 10)
    start = NOW + 3_600_000

    def appt(i: int, user_id: str) -> Appointment:
        return Appointment(f"a{i:031d}", "hukou", user_id, "x", start, start + 1_800_000,
                           "booked", NOW)

    results = await asyncio.gather(*((s1 if i % 2 else s2).book(appt(i, p.id), 3)
                                     for i, p in enumerate(people)), return_exceptions=True)
    ok = [r for r in results if not isinstance(r, BaseException)]
    assert len(ok) == 3
    assert all(isinstance(r, SlotFull) for r in results if isinstance(r, BaseException))
    assert (await s1.slot_usage("hukou", start, start + 1)) == {start: 3}
    again = await asyncio.gather(s1.book(appt(20, ok[0].user_id), 10),
                                 return_exceptions=True)
    assert isinstance(again[0], AlreadyBooked)
    assert (await s2.slot_usage("hukou", start, start + 1)) == {start: 3}  # nothing changed


async def test_finishing_twice_fails_the_second_time(stores: tuple) -> None:
    db, s1, s2 = stores
    p = await add_person(db, "p")
    t = await s1.issue(req(p.id))
    await s1.claim_next("c7", ["tax"], "st", NOW)
    done = {"status": TicketStatus.DONE, "outcome": Outcome.SERVED, "finished_at": NOW}
    results = await asyncio.gather(s1.update_ticket(t.id, ("called",), done),
                                   s2.update_ticket(t.id, ("called",), done),
                                   return_exceptions=True)
    assert sum(isinstance(r, MetahallError) for r in results) == 1
