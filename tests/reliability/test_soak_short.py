"""The soak in short (``make soak`` runs the long one): 60 bots walk, chat, queue, reconnect and
hold WebRTC state channels against a live in-process server for 15 s; then everything they
held must be given back. Behaviour only: no speed or memory figures are asserted here."""

from __future__ import annotations

import os
from pathlib import Path

from loadtest.bench_hall import PASSWORD
from loadtest.soak import SLACK, build_parser, counts_of, leak_check, run_soak
from tests.helpers import start_server

BOTS = 60


async def test_bots_leave_nothing_behind(tmp_path: Path) -> None:
    live = await start_server(tmp_path, empty_room_grace_s=1, guest_logins_per_minute=100_000)
    try:
        for i in range(2):
            await live.app.accounts.register(f"bench-staff{i:02d}", PASSWORD, f"staff{i}",
                                             roles="staff")
        args = build_parser().parse_args([
            "--url", live.url, "--server-pid", str(os.getpid()), "--bots", str(BOTS),
            "--minutes", "0.25", "--sample-s", "3", "--settle-start-s", "0.5", "--settle-s", "20",
            "--staff", "2", "--serve-s", "0.5", "--citizens", "30", "--rtc-bots", "4",
            "--churn", "20", "--out", str(tmp_path / "soak"),
        ])
        keep: dict = {}
        r = await run_soak(args, keep)
        soak = keep["soak"]

        # everyone got in and nothing went wrong on the way
        assert r["ramp"]["joined"] == BOTS
        assert r["tally"]["errors"] == {}, r["tally"]["errors"]
        counts = r["tally"]["counts"]
        assert counts["chat_ok"] == counts["chat_sent"] > 0
        assert counts["rtc_links"] >= 4  # the WebRTC bots (and any churned one) got a channel
        assert counts.get("churn_reconnects", 0) >= 1
        assert min(s["bots_connected"] for s in r["samples"]) >= BOTS - 2  # churn in flight
        # under load the server held what the bots opened
        assert max(s["sio_sessions"] for s in r["samples"]) >= BOTS
        assert max(s["peers_open"] for s in r["samples"]) >= 1

        # afterwards: tasks, fds, sessions, peers back to the baseline, rooms disposed
        assert not [k for k, v in r["leaks"].items() if v["leak"]], r["leaks"]
        assert r["after"]["sio_sessions"] == r["after"]["eio_sockets"] == 0
        assert r["after"]["peers_open"] == r["after"]["peers_owned"] == 0
        assert list(live.app.registry.rooms()) == []
        assert live.app.realtime.clients == {} and live.app.realtime.rtc.peers == {}

        # the queue: numbers unique per service, what staff finished was issued, what the
        # citizens were told matches, and the server's record agrees with every ack
        q = r["queue"]
        assert q["consistent"], q
        assert q["issued"] > 0 and q["finished"] > 0
        store = live.app.hall.core.store
        for tid, (service, number) in soak.tally.tickets.items():
            ticket = await store.get_ticket(tid)
            assert ticket is not None and (ticket.service_id, ticket.number) == (service, number)
        for tid, outcome in soak.tally.finished.items():
            ticket = await store.get_ticket(tid)
            assert ticket is not None and ticket.outcome == outcome
    finally:
        await live.close()


def test_leak_check_flags_what_stays_above_the_baseline() -> None:
    base = {"tasks": 10, "fds_non_db": 20, "db_fds": 6, "sio_sessions": 0, "eio_sockets": 0,
            "peers_open": 0, "rooms": 1}
    same = leak_check(base, {**base, "rooms": 0})
    assert not any(v["leak"] for v in same.values())
    worse = leak_check(base, {**base, "tasks": 10 + SLACK["tasks"] + 1, "peers_open": 1,
                              "rooms": 1})
    assert sorted(k for k, v in worse.items() if v["leak"]) == ["peers_open", "rooms", "tasks"]
    assert counts_of({"metahall_asyncio_tasks": 7.0, 'metahall_rooms{kind="hall"}': 2.0,
                      'metahall_rooms{kind="expo"}': 1.0})["rooms"] == 3.0


async def test_runtime_gauges_count_what_is_open() -> None:
    from aiortc import RTCPeerConnection

    from loadtest.metrics import parse_prometheus
    from server.metrics import Metrics
    from server.runtime_metrics import open_peers, track_peer

    before = open_peers()
    pc = track_peer(RTCPeerConnection())
    assert open_peers() == before + 1  # not closed: counted whoever holds it
    await pc.close()
    assert open_peers() == before

    m = Metrics()
    for ms in range(1, 101):
        m.observe_tick(ms / 1000)
    m.runtime.sessions["socketio"] = lambda: 3
    m.runtime.peers["state"] = lambda: 2
    values = parse_prometheus(m.render().decode())
    assert values['metahall_tick_recent_seconds{quantile="0.99"}'] == 0.1
    assert values['metahall_tick_recent_seconds{quantile="0.5"}'] == 0.051
    assert values['metahall_sio_sessions{layer="socketio"}'] == 3
    assert values['metahall_rtc_peers{kind="state"}'] == 2
    assert values["metahall_asyncio_tasks"] >= 1  # this test's own task
    assert values["process_open_fds"] > 0
    assert values["metahall_tick_duration_seconds_count"] == 100
