"""The service hall in a cluster: every process keeps its own mirror of the live queues, fed by
the changes the others commit, so positions and ETAs are right wherever a citizen is connected.

The database stays the judge (two counters never get one ticket: the store's conditional
updates settle that); the bus only spreads what was committed. A process that misses a message
(Redis hiccup) is corrected by the next change to the same ticket, which carries a higher
version, and fully on restart. The sweep's shared work (no-shows, due appointments, absentees)
runs on one process, the holder of the ``hall-sweep`` leadership.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from rooms.hall.models import CounterState, Ticket

if TYPE_CHECKING:
    from server.app import App
    from server.cluster import Cluster

__all__ = ["attach_hall", "ticket_from_wire", "ticket_to_wire"]

log = logging.getLogger("metahall.cluster")

_TICKET_FIELDS = {f.name for f in dataclasses.fields(Ticket)}


def ticket_to_wire(t: Ticket) -> dict[str, Any]:
    return dataclasses.asdict(t)


def ticket_from_wire(d: dict[str, Any]) -> Ticket:
    data = {k: v for k, v in d.items() if k in _TICKET_FIELDS}
    data["docs_checked"] = tuple(data.get("docs_checked") or ())
    return Ticket(**data)


def attach_hall(app: App, cluster: Cluster) -> None:
    hall = app.hall
    core = hall.core

    def publish(kind: str, payload: Any) -> None:
        if kind == "tickets":
            data: Any = [ticket_to_wire(t) for t in payload]
        elif kind == "counter":
            cid, state = payload
            data = [cid, dataclasses.asdict(state)]
        else:
            data = None
        app.spawn(cluster.publish("hall", kind=kind, data=data), "hall-sync")

    async def receive(msg: dict[str, Any]) -> None:
        if msg.get("from") == cluster.me.id:
            return
        kind, data = msg.get("kind"), msg.get("data")
        if kind == "tickets" and isinstance(data, list):
            core.apply_remote(*(ticket_from_wire(d) for d in data))
        elif kind == "counter" and isinstance(data, list) and len(data) == 2:
            st = data[1]
            core.set_counter(str(data[0]), CounterState(
                bool(st["open"]), st.get("staff_id"), tuple(st.get("service_ids") or ()),
                st.get("opened_at")), remote=True)
        elif kind == "catalogue":
            await hall.manager.reload(remote=True)
        else:
            log.warning("hall sync: unknown message kind=%r", kind)

    core.sync = publish
    cluster.on("hall", receive)
    hall.leader = cluster.want_leadership("hall-sweep")
