"""Two and more server processes acting as one, on PostgreSQL and Redis (issue #11)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from tests.cluster.nodes import cluster, redis_available
from tests.helpers import connect, guest, requires_service, wait_for
from tests.pg import fresh_database, postgres_available

pytestmark = [requires_service("PostgreSQL", postgres_available()),
              requires_service("Redis", redis_available()),
              pytest.mark.timeout(400)]


async def join_following(url: str, token: str, room: str) -> tuple[Any, dict[str, Any], str]:
    """Connect to ``url`` and join ``room``, following redirects the way clients must."""
    client = await connect(url, token)
    ack = await client.call("join", {"room": room})
    for _ in range(3):
        if "redirect" not in ack:
            return client, ack, url
        assert ack["ok"] is True
        red = ack["redirect"]
        await client.sio.disconnect()
        url = red["url"]
        client = await connect(url, token, socketio_path=red["path"])
        ack = await client.call("join", {"room": room})
    raise AssertionError(f"redirect loop: {ack}")


async def test_join_redirects_to_the_owner_and_chat_crosses_processes(tmp_path: Path) -> None:
    async with fresh_database() as db, cluster(tmp_path, db) as cut:
        a, b = cut[0], cut[1]
        t1, u1 = await guest(a.url, "Ada")
        t2, u2 = await guest(b.url, "Bo")  # a token from one node is good on every node
        c1, ack1, at1 = await join_following(a.url, t1, "social:plaza")
        assert ack1["ok"] is True and ack1["room"] == "social:plaza"
        # the second user asks the other node for the same room: sent to the owner
        c2 = await connect(b.url if at1 == a.url else a.url, t2)
        red = await c2.call("join", {"room": "social:plaza"})
        assert red["ok"] is True and red["redirect"]["url"] == at1
        assert red["redirect"]["path"] == "/socket.io/"
        assert "room" not in red  # nothing joined on the wrong node
        await c2.sio.disconnect()
        # a room nobody holds goes to the least loaded node (by heartbeat, once a second): the other
        await asyncio.sleep(1.5)
        c3, ack3, at3 = await join_following(a.url, t2, "social:cafe")
        assert ack3["ok"] is True and at3 != at1, (at1, at3, a.url, b.url)
        # a direct message from a user on one process reaches a user on the other
        ack = await c1.call("chat", {"channel": f"dm:{u2['id']}", "text": "hello across"})
        assert ack["ok"] is True, ack
        got = await c3.wait("chat", lambda m: m["text"] == "hello across", timeout=5)
        assert got["from"]["user_id"] == u1["id"]
        mine = await c1.wait("chat", lambda m: m["text"] == "hello across", timeout=5)
        assert mine["channel"] == f"dm:{u2['id']}"
        assert len([m for m in c3.events["chat"] if m["text"] == "hello across"]) == 1
        await c1.sio.disconnect()
        await c3.sio.disconnect()


async def test_moderator_on_one_process_kicks_a_user_on_the_other(tmp_path: Path) -> None:
    async with fresh_database() as db, cluster(tmp_path, db) as cut:
        a, b = cut[0], cut[1]
        mod_token = await make_user(a, "modder", "moderator")
        tu, user = await guest(b.url, "Target")
        cu, _, at_u = await join_following(b.url, tu, "social:cafe")
        mod_url = a.url if at_u == b.url else b.url
        cm = await connect(mod_url, mod_token)
        ack = await cm.call("mod.action", {"action": "kick", "user_id": user["id"],
                                           "reason": "spam", "note": "stop it"})
        assert ack["ok"] is True, ack
        notice = await cu.wait("moderation", lambda m: m["action"] == "kick", timeout=8)
        assert notice["reason_code"] == "spam"
        await wait_for(lambda: not cu.sio.connected, timeout=10)
        await cm.sio.disconnect()


async def make_user(node: Any, username: str, role: str) -> str:
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "server.cli", "user", "add", username, "--role", role]
    await asyncio.to_thread(subprocess.run, cmd, input=b"correct horse battery\n", env=node.env,
                            check=True, capture_output=True, timeout=60)
    async with aiohttp.ClientSession() as http, http.post(
            f"{node.url}/api/auth/login",
            json={"username": username, "password": "correct horse battery"}) as r:
        assert r.status == 200, await r.text()
        return str((await r.json())["token"])


async def test_owner_killed_room_comes_back_elsewhere_with_the_queue(tmp_path: Path) -> None:
    async with fresh_database() as db, cluster(tmp_path, db) as cut:
        t1, _ = await guest(cut[0].url, "Citizen")
        c1, ack, owner_url = await join_following(cut[0].url, t1, "hall:main")
        assert ack["ok"] is True
        services = await c1.call("hall.services", {})
        sid = services["services"][0]["id"] if "services" in services else None
        assert sid, services
        took = await c1.call("queue.take", {"service_id": sid})
        assert took["ok"] is True, took
        ticket = took["ticket"]
        owner = next(n for n in cut.nodes if n.url == owner_url)
        other = next(n for n in cut.nodes if n is not owner)
        owner.kill()
        await wait_for(lambda: not c1.sio.connected, timeout=30)
        # the client comes back through the survivor; the lease of the dead node runs out
        loop = asyncio.get_running_loop()
        end = loop.time() + 20
        while True:  # until the lease expires a join may still be sent to the dead node
            try:
                c2, ack2, at2 = await join_following(other.url, t1, "hall:main")
                break
            except socketio.exceptions.ConnectionError:
                assert loop.time() < end, "the room never came back"
                await asyncio.sleep(0.5)
        assert at2 == other.url
        mine = await c2.call("queue.mine", {})
        assert mine["ok"] is True, mine
        held = [t for t in mine["tickets"] if t["id"] == ticket["id"]]
        assert held and held[0]["number"] == ticket["number"]
        assert held[0]["position"] == ticket["position"]
        await c2.sio.disconnect()


async def test_two_processes_calling_next_at_once_never_share_a_ticket(tmp_path: Path) -> None:
    """Staff on either process call from one queue whose citizens sit on both; every ticket is
    called exactly once and each citizen hears it on the process they are connected to."""
    async with fresh_database() as db, cluster(tmp_path, db) as cut:
        a, b = cut[0], cut[1]
        staff_tokens = [await make_user(a, "clerk1", "staff"), await make_user(b, "clerk2", "staff")]
        s1, s2 = await connect(a.url, staff_tokens[0]), await connect(b.url, staff_tokens[1])
        info = await s1.call("hall.services", {})
        svc = next(s for s in info["services"] if len(s["counter_ids"]) >= 2)
        c1, c2 = svc["counter_ids"][:2]
        for staff, cid in ((s1, c1), (s2, c2)):
            ack = await staff.call("counter.open", {"counter_id": cid, "service_ids": [svc["id"]]})
            assert ack["ok"] is True, ack
        citizens, tickets = [], {}
        for i in range(12):
            node = (a, b)[i % 2]
            token, user = await guest(node.url, f"Citizen {i}")
            cit = await connect(node.url, token)
            took = await cit.call("queue.take", {"service_id": svc["id"]})
            assert took["ok"] is True, took
            citizens.append(cit)
            tickets[took["ticket"]["id"]] = cit
        called: list[str] = []

        async def desk(staff: Any, cid: str) -> None:
            for _ in range(40):
                ack = await staff.call("counter.next", {"counter_id": cid}, timeout=15)
                assert ack["ok"] is True, ack
                if ack["ticket"] is None:
                    return
                called.append(ack["ticket"]["id"])
                done = await staff.call("counter.finish", {"ticket_id": ack["ticket"]["id"],
                                                           "outcome": "served"}, timeout=15)
                assert done["ok"] is True, done

        await asyncio.gather(desk(s1, c1), desk(s2, c2))
        assert sorted(called) == sorted(tickets), "every ticket called once, none twice"
        for tid, cit in tickets.items():
            got = await cit.wait("queue.called", lambda m, tid=tid: m["ticket_id"] == tid,
                                 timeout=10)
            assert got["counter"]["id"] in (c1, c2)
            assert len([m for m in cit.events["queue.called"] if m["ticket_id"] == tid]) == 1
        for c in (s1, s2, *citizens):
            await c.sio.disconnect()


async def test_metrics_show_placement_and_redis(tmp_path: Path) -> None:
    async with fresh_database() as db, cluster(tmp_path, db) as cut:
        token, _ = await guest(cut[0].url, "M")
        c, _, _ = await join_following(cut[0].url, token, "social:plaza")  # placed by node 1
        text = ""
        async with aiohttp.ClientSession() as http:
            for _ in range(50):  # the node gauge follows the heartbeat (once a second)
                async with http.get(f"{cut[0].url}/metrics") as r:
                    text = await r.text()
                if "metahall_cluster_nodes 2.0" in text:
                    break
                await asyncio.sleep(0.2)
        assert 'metahall_placements_total{outcome="new"}' in text
        assert "metahall_redis_seconds_bucket" in text
        assert "metahall_cluster_nodes 2.0" in text
        await c.sio.disconnect()


async def test_a_booth_edited_on_one_process_shows_in_the_hall_on_the_other(tmp_path: Path) -> None:
    async with fresh_database() as db, cluster(tmp_path, db) as cut:
        admin = await make_user(cut[0], "organiser", "admin")
        tv, _ = await guest(cut[0].url, "Visitor")
        visitor, ack, owner_url = await join_following(cut[0].url, tv, "expo:demo")
        assert ack["ok"] is True
        other = next(n for n in cut.nodes if n.url != owner_url)
        headers = {"Authorization": f"Bearer {admin}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(f"{other.url}/api/expos/demo/booths") as r:
                assert r.status == 200, await r.text()
                body = await r.json()
            booths = body["booths"] if isinstance(body, dict) else body
            booth = booths[0]
            profile = {"name": {"zh-CN": "集群展位", "en": "Cluster booth"},
                       "description": {"zh-CN": "跨进程", "en": "across processes"}}
            async with http.put(f"{other.url}/api/expo/booths/{booth['id']}", json=profile) as r:
                assert r.status == 200, await r.text()
        got = await visitor.wait("expo.booth", lambda m: m["booth"]["id"] == booth["id"]
                                 and m["booth"]["name"]["en"] == "Cluster booth", timeout=10)
        assert got["booth"]["name"]["zh-CN"] == "集群展位"
        async with aiohttp.ClientSession(headers=headers) as http, \
                http.get(f"{owner_url}/api/expo/booths/{booth['id']}") as r:
            seen = await r.json()
        assert (seen.get("booth", seen))["name"]["en"] == "Cluster booth"
        await visitor.sio.disconnect()
