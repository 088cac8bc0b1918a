"""The browser client against ``metahall cluster --procs 2``: it enters a room wherever the room
lives (following a join redirect when it lands on the other node), and when the room's node is
killed it comes back to the room on its own, without the user doing anything."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cluster_front.clusterproc import ClusterProcess
from tests.cluster_front.conftest import redis_available
from tests.helpers import requires_service
from tests.pg import postgres_available

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.postgres,
              requires_service("Redis", redis_available()),
              requires_service("PostgreSQL", postgres_available())]

# Record the connection's state changes (redirects carry `node`, failovers `failover`) and the
# WebSocket URLs the page opened.
RECORD = """
window.__conn = [];
document.addEventListener("metahall:connection", (e) => window.__conn.push(e.detail));
"""


def state(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.metahall.state")  # type: ignore[no-any-return]


def enter(page: Any, url: str, name: str, room: str) -> None:
    page.goto(f"{url}/?rtc=0")
    page.fill("#guest-name", name)
    page.click("#form-guest button[type=submit]")
    page.click(f"#room-list button[data-room-id='{room}']")
    page.wait_for_function("() => window.metahall.state.connection === 'joined'", timeout=30_000)


def see_each_other(pages: list[Any]) -> None:
    eids = [state(page)["self"]["eid"] for page in pages]
    pages[0].wait_for_function("eid => eid in window.metahall.state.entities", arg=eids[1])
    pages[1].wait_for_function("eid => eid in window.metahall.state.entities", arg=eids[0])


@pytest.mark.timeout(400)
def test_browser_follows_redirects_and_survives_the_rooms_node_dying(
        tmp_path: Path, open_page: Any) -> None:
    cluster = ClusterProcess(tmp_path)
    try:
        t0 = time.monotonic()
        cluster.start()
        print(f"cluster up in {time.monotonic() - t0:.1f} s")
        pages, sockets = [], []
        for i in range(2):  # two visitors: the front spreads them, the room lives on one node
            page = open_page(allow=("WebSocket connection to", "Failed to load resource",
                                    "ERR_CONNECTION_REFUSED", "503"))
            page.add_init_script(RECORD)
            urls: list[str] = []
            page.on("websocket", lambda ws, urls=urls: urls.append(ws.url))
            enter(page, cluster.url, f"Visitor {i}", "social:plaza")
            pages.append(page)
            sockets.append(urls)
        owner = cluster.owner("social:plaza")
        assert owner in ("n1", "n2")
        for page, urls in zip(pages, sockets, strict=True):
            s = state(page)
            assert s["room"] == "social:plaza" and s["joins"] == 1
            assert not page.is_visible("#refusal")
            # It ended on the owner: directly (plain /socket.io/) or through a redirect.
            last = urls[-1]
            assert "/socket.io/" in last and ("/node/" not in last or f"/node/{owner}/" in last)
            redirects = [e for e in page.evaluate("() => window.__conn") if e.get("node")]
            assert all(e["node"] == owner for e in redirects)
            assert ("/node/" in last) == bool(redirects)
        see_each_other(pages)  # the same room instance, on one node

        before = [len(page.evaluate("() => window.__conn")) for page in pages]
        cluster.kill(owner)  # no goodbye: its lease must expire before the room moves
        killed = time.monotonic()
        for page in pages:
            page.wait_for_function(
                "() => window.metahall.state.connection === 'joined' && window.metahall.state.joins === 2",
                timeout=90_000)
        print(f"owner {owner} killed; both visitors back in the room after "
              f"{time.monotonic() - killed:.1f} s")
        trail = [page.evaluate("() => window.__conn")[n:] for page, n in zip(pages, before, strict=True)]
        for page, events in zip(pages, trail, strict=True):
            s = state(page)
            assert s["room"] == "social:plaza"
            assert not page.is_visible("#refusal") and not page.is_visible("#view-notice")
            assert "refused" not in [e["state"] for e in events], json.dumps(events)
        # Reconnecting took them through placement again: to the dead owner first (its lease
        # still held), then back to the default endpoint, until the room lived on a live node.
        print(json.dumps(trail))
        assert any(e.get("node") or e.get("failover") for events in trail for e in events), \
            json.dumps(trail)
        assert cluster.owner("social:plaza") is not None
        see_each_other(pages)
    finally:
        code = cluster.stop()
    assert code == 0, cluster.text()[-3000:]
