"""The hall over the wire on a fresh PostgreSQL database: staff racing for the next ticket."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.hall.fakes import live_token
from tests.helpers import connect, requires_service, start_server
from tests.pg import fresh_database, postgres_available

pytestmark = [pytest.mark.postgres, requires_service("PostgreSQL", postgres_available())]


async def test_four_counters_pressing_next_together_never_share_a_ticket(tmp_path: Path) -> None:
    async with fresh_database() as url:
        live = await start_server(tmp_path, database_url=url)
        clients = []
        try:
            staff = []
            for i, counter in enumerate(("c7", "c8", "c9", "c12")):
                token, _ = await live_token(live.app, f"S{i}", "staff")
                s = await connect(live.url, token)
                clients.append(s)
                ack = await s.call("counter.open", {"counter_id": counter, "service_ids": ["tax"]})
                assert ack["ok"], ack
                staff.append((s, counter))
            for i in range(12):
                token, _ = await live_token(live.app, f"c{i}")
                c = await connect(live.url, token)
                clients.append(c)
                assert (await c.call("queue.take", {"service_id": "tax"}))["ok"]
            seen: list[str] = []
            for _ in range(3):
                acks = await asyncio.gather(*(s.call("counter.next", {"counter_id": cid})
                                              for s, cid in staff))
                ids = [a["ticket"]["id"] for a in acks]
                assert len(set(ids)) == 4
                seen += ids
                await asyncio.gather(*(s.call("counter.finish", {"ticket_id": t,
                                                                 "outcome": "served"})
                                       for (s, _), t in zip(staff, ids, strict=True)))
            assert len(set(seen)) == 12
            assert not live.app.hall.state.tickets
        finally:
            for c in clients:
                await c.close()
            await live.close()
