"""Stop the server, start another on the same data: waiting citizens keep number and place."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hall.fakes import live_token
from tests.helpers import LiveServer, connect, requires_service, start_server
from tests.pg import fresh_database, postgres_available


async def scenario(tmp_path: Path, database_url: str | None = None) -> None:
    extra = {"database_url": database_url} if database_url else {}
    live: LiveServer = await start_server(tmp_path, **extra)
    try:
        staff_token, staff_id = await live_token(live.app, "Clerk", "staff")
        tokens = [(await live_token(live.app, f"c{i}"))[0] for i in range(4)]
        tickets = []
        for tok in tokens:
            c = await connect(live.url, tok)
            tickets.append((await c.call("queue.take", {"service_id": "housing_fund"}))["ticket"])
            await c.close()
        s = await connect(live.url, staff_token)
        assert (await s.call("counter.open", {"counter_id": "c6"}))["ok"]
        called = await s.call("counter.next", {"counter_id": "c6"})
        assert called["ticket"]["id"] == tickets[0]["id"]
        await s.close()
    finally:
        await live.close()

    again = await start_server(tmp_path, **extra)  # same data dir: same secret, same database
    try:
        hall = again.app.hall
        assert hall.state.counter_state["c6"].open and hall.state.current["c6"] == tickets[0]["id"]
        for tok, before in zip(tokens[1:], tickets[1:], strict=True):
            c = await connect(again.url, tok)
            mine = (await c.call("queue.mine", {}))["tickets"]
            assert [(m["number"], m["position"]) for m in mine] == \
                [(before["number"], before["position"] - 1)]
            await c.close()
        s = await connect(again.url, staff_token)
        done = await s.call("counter.finish", {"ticket_id": tickets[0]["id"], "outcome": "served"})
        assert done["ok"]
        nxt = await s.call("counter.next", {"counter_id": "c6"})
        assert nxt["ticket"]["id"] == tickets[1]["id"]  # the order survived
        await s.close()
        newcomer, _ = await live_token(again.app, "new")
        c = await connect(again.url, newcomer)
        t = (await c.call("queue.take", {"service_id": "housing_fund"}))["ticket"]
        assert t["number"] == "F005" and t["position"] == 3  # numbering continues
        await c.close()
    finally:
        await again.close()


async def test_restart_keeps_numbers_positions_and_counters_on_sqlite(tmp_path: Path) -> None:
    await scenario(tmp_path)


@pytest.mark.postgres
@requires_service("PostgreSQL", postgres_available())
async def test_restart_keeps_numbers_positions_and_counters_on_postgresql(tmp_path: Path) -> None:
    async with fresh_database() as url:
        await scenario(tmp_path, url)
