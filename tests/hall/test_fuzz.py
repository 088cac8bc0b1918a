"""Arbitrary payloads at every hall event, as a citizen, as staff and as the manager: every ack
is well formed, nothing answers ``internal``, and the hall keeps serving."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import strategies as st

from rooms.hall.events import EVENTS
from tests.hall.fakes import live_token
from tests.helpers import LiveServer, connect
from tests.server.test_fuzz_events import collect, values

ids = st.sampled_from(["tax", "hukou", "c1", "c7", "", "x" * 65, "../etc", "c99"]) | st.text(
    max_size=8)
hall_shaped = st.fixed_dictionaries({}, optional={
    "service_id": ids | values, "counter_id": ids | values, "ticket_id": ids | values,
    "appointment_id": ids | values, "to_service_id": ids | values,
    "outcome": st.sampled_from(["served", "no_show", "transferred", "x"]) | values,
    "score": st.integers(-3, 9) | values, "comment": st.text(max_size=600) | values,
    "text": st.text(max_size=250) | values, "lang": st.sampled_from(["en", "zh-CN", "fr"]),
    "start": st.integers(-5, 2**63) | values, "date": st.text(max_size=12) | values,
    "checked": st.lists(ids, max_size=4) | values,
    "service_ids": st.lists(ids, max_size=3) | values,
    "since": st.integers(-5, 2**63) | values,
})


async def test_random_payloads_at_hall_events_get_clean_answers(server: LiveServer) -> None:
    cases = collect(st.tuples(st.sampled_from(EVENTS), hall_shaped | values), 300)
    roles = ["citizen", "staff", "admin"]
    clients = []
    for role in roles:
        token, _ = await live_token(server.app, f"fuzz-{role}", role)
        clients.append(await connect(server.url, token))
    codes: dict[str, int] = {}
    try:
        for i, (event, payload) in enumerate(cases):
            c = clients[i % 3]
            ack: Any = await c.call(event, payload)
            assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (event, ack)
            if not ack["ok"]:
                code = ack["error"]["code"]
                assert code != "internal", (event, payload, ack)
                assert ack["error"]["message"]
                codes[code] = codes.get(code, 0) + 1
            if i % 30 == 29:
                await asyncio.sleep(0.3)  # stay inside the per-connection event budget
        assert {"bad_request", "forbidden", "not_found"} <= set(codes)
        assert "rate_limited" not in codes
        token, _ = await live_token(server.app, "after-the-storm")
        fresh = await connect(server.url, token)
        clients.append(fresh)
        assert (await fresh.call("queue.take", {"service_id": "marriage"}))["ok"]
        assert len((await fresh.call("queue.mine", {}))["tickets"]) == 1
    finally:
        for c in clients:
            await c.close()
