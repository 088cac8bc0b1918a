"""``appointment.update``: every connection of the citizen hears about their bookings (so a second
tab, or the queue panel after the service was closed, shows the truth), and nobody else does."""

from __future__ import annotations

from dataclasses import replace

from tests.hall.conftest import HallEnv
from tests.hall.fakes import live_token
from tests.helpers import LiveServer, connect


async def test_book_and_cancel_are_told_to_the_owner_only(env: HallEnv) -> None:
    appts = env.hall.appointments
    a, b = await env.person("a"), await env.person("b")
    slot = (await appts.slots("marriage", None))["slots"][0]
    booked = (await appts.book(a, "marriage", slot["start"]))["appointment"]
    told = env.notifier.of(a.id, "appointment.update")
    assert told == [{"appointment": booked, "reason": "booked"}]
    cancelled = (await appts.cancel(a, booked["id"]))["appointment"]
    assert env.notifier.of(a.id, "appointment.update")[-1] == {
        "appointment": cancelled, "reason": "cancelled"}
    assert cancelled["status"] == "cancelled"
    assert env.notifier.of(b.id, "appointment.update") == []


async def test_closing_a_service_cancels_its_due_appointments_and_tells_the_citizen(
        env: HallEnv) -> None:
    appts, hall = env.hall.appointments, env.hall
    admin, a, b = await env.person("boss", "admin"), await env.person("a"), await env.person("b")
    slot = (await appts.slots("property", None))["slots"][0]
    kept = (await appts.book(a, "hukou", (await appts.slots("hukou", None))["slots"][0]["start"]))
    gone = (await appts.book(b, "property", slot["start"]))["appointment"]
    await hall.manager.put_service(admin, replace(hall.core.service("property"), active=False))
    env.clock.now = max(slot["start"], kept["appointment"]["start"]) / 1000 + 1
    await hall.sweep()
    update = env.notifier.of(b.id, "appointment.update")[-1]
    assert update["reason"] == "service_closed" and update["appointment"]["id"] == gone["id"]
    assert update["appointment"]["status"] == "cancelled"
    assert env.notifier.of(b.id, "queue.issued") == []
    assert (await appts.mine(b)) == []
    # The open service's appointment became a priority ticket as before.
    issued = env.notifier.of(a.id, "queue.issued")
    assert len(issued) == 1 and issued[0]["ticket"]["appointment"] is True
    # A second sweep finds nothing more to do.
    await hall.sweep()
    assert len(env.notifier.of(b.id, "appointment.update")) == 2  # booked, service_closed


async def test_an_appointment_cancelled_meanwhile_does_not_stop_the_sweep(env: HallEnv) -> None:
    """The owner cancels between the sweep's query and its own cancel: no crash, others go on."""
    appts, hall = env.hall.appointments, env.hall
    admin, a, b = await env.person("boss", "admin"), await env.person("a"), await env.person("b")
    p_slot = (await appts.slots("property", None))["slots"][0]
    h_slot = (await appts.slots("hukou", None))["slots"][0]
    mine = (await appts.book(a, "property", p_slot["start"]))["appointment"]
    await appts.book(b, "hukou", h_slot["start"])
    await hall.manager.put_service(admin, replace(hall.core.service("property"), active=False))
    env.clock.now = max(p_slot["start"], h_slot["start"]) / 1000 + 1
    store = env.store
    real = store.due_appointments

    async def due_then_owner_cancels(now: int):  # type: ignore[no-untyped-def]
        found = await real(now)
        await store.cancel_appointment(mine["id"], now)
        return found

    store.due_appointments = due_then_owner_cancels  # type: ignore[method-assign]
    try:
        assert await appts.issue_due() == 1
    finally:
        store.due_appointments = real  # type: ignore[method-assign]
    assert [u["reason"] for u in env.notifier.of(a.id, "appointment.update")] == ["booked"]
    assert len(env.notifier.of(b.id, "queue.issued")) == 1


async def test_what_the_browser_needs_over_the_wire(server: LiveServer) -> None:
    """The hall's time zone with the services and slots, ``called_at`` with the call, and
    ``appointment.update`` on a second tab of the same citizen."""
    token, uid = await live_token(server.app, "Tabby")
    tab1 = await connect(server.url, token)
    tab2 = await connect(server.url, token)
    staff_token, _ = await live_token(server.app, "Clerk", "staff")
    staff = await connect(server.url, staff_token)
    try:
        assert (await staff.call("join", {"room": "hall:main"}))["ok"]
        services = await tab1.call("hall.services", {})
        assert services["ok"] and services["hall"]["timezone"] == "Asia/Shanghai"
        assert services["hall"]["opens"] == "09:00" and services["hall"]["booking_days"] == 7
        slots = await tab1.call("appointment.slots", {"service_id": "marriage"})
        assert slots["timezone"] == "Asia/Shanghai"
        booked = await tab1.call("appointment.book", {"service_id": "marriage",
                                                      "start": slots["slots"][0]["start"]})
        seen = await tab2.wait("appointment.update")
        assert seen == {"appointment": booked["appointment"], "reason": "booked"}
        await tab1.call("appointment.cancel", {"appointment_id": booked["appointment"]["id"]})
        gone = await tab2.wait("appointment.update", lambda m: m["reason"] == "cancelled")
        assert gone["appointment"]["status"] == "cancelled"

        t = (await tab1.call("queue.take", {"service_id": "marriage"}))["ticket"]
        assert (await staff.call("counter.open", {"counter_id": "c10"}))["ok"]
        called_ticket = (await staff.call("counter.next", {"counter_id": "c10"}))["ticket"]
        called = await tab2.wait("queue.called")
        assert called["ticket_id"] == t["id"] and called["called_at"] == called_ticket["called_at"]
        assert called["channel"] == "counter:c10"
        # The consultation reaches both tabs of the citizen (the second one is in no room).
        assert (await staff.call("chat", {"channel": "counter:c10", "text": "请坐"}))["ok"]
        for c in (tab1, tab2):
            assert (await c.wait("chat", lambda m: m["channel"] == "counter:c10"))["text"] == "请坐"
        assert uid == called_ticket["user_id"]
    finally:
        for c in (tab1, tab2, staff):
            await c.close()
