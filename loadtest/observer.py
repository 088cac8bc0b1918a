"""Observer bots: decode every ``snap`` and score the view against the truth.

How the numbers are made (all times are wall-clock ms on the one machine):

* An observer keeps, per entity id, the newest position received and when
  (``held``). ``enter`` marks ids as known; a ``snap`` entity never entered is
  counted as a protocol error (``snap_after_gone`` if the id was announced gone
  and not entered again); ``gone`` forgets the id. The bot's own entity in a snap
  is the server correcting (clamping) its position: counted as a correction.
  Entity ids are mapped to bots through the roster -- each bot announces the
  ``self`` eid of its join ack -- rather than through ``display_name``: that works
  across processes, ignores non-bot entities and leftovers of earlier runs, and
  survives name filters.
* About once a second (jittered, so the instant does not lock onto the server's
  tick phase) each observer is scored: its *true* neighbours are the 64 nearest
  other bots within 30 m at that instant, computed from the replayed walks
  (:mod:`loadtest.roster`) of every bot that has walked for at least a second.
  For each of them:

  - **staleness** = now - send time of the newest position held (the send time is
    recovered from the position itself, :meth:`loadtest.walk.Walk.send_time_of`);
  - **coverage** counts it as heard if an update for it arrived in the last second;
  - **latency** = receive time - send time of that newest update (one sample per
    neighbour per scoring, only for updates received in the last second).

Send time is the bot's scheduled grid time, so a generator that sends late adds
to the latency it reports: that is why its send lag and loop lag are reported.
"""

from __future__ import annotations

from collections import Counter

from .frames import decode_packet, decode_snap
from .metrics import Held, ViewScore, score_view, true_neighbours
from .roster import Present, Roster

__all__ = ["Observer"]


class Observer:
    """The view one observer bot has, fed by its connection's frames."""

    __slots__ = (
        "corrections",
        "entered",
        "entities",
        "gone",
        "held",
        "instance",
        "protocol",
        "self_eid",
        "snaps",
    )

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.held: dict[int, Held] = {}
        """eid -> (x_cm, z_cm, receive ms)."""
        self.entered: set[int] = set()
        self.self_eid = -1
        """This bot's own eid (from the join ack)."""
        self.corrections = 0
        """Times the server sent this bot its own entity: it clamped a move."""
        self.gone: set[int] = set()
        """eids announced gone and not entered again since."""
        self.snaps = 0
        self.entities = 0
        self.protocol: Counter[str] = Counter()
        """Protocol violations seen, by kind."""

    @property
    def protocol_errors(self) -> int:
        return sum(self.protocol.values())

    def on_frame(self, frame: bytes, now_ms: float) -> None:
        """Handle one EVENT packet (as :data:`loadtest.conn.FrameHandler`)."""
        try:
            data = decode_packet(frame).data
            name = data[0]
            if name == "snap":
                _, ents, gone = decode_snap(data[1])
            elif name == "enter":
                for ent in data[1]:
                    eid = int(ent["eid"])
                    self.entered.add(eid)
                    self.gone.discard(eid)
                return
            else:
                return
        except (ValueError, TypeError, KeyError, IndexError):
            self.protocol["malformed"] += 1
            return
        self.snaps += 1
        self.entities += len(ents)
        held, entered = self.held, self.entered
        for e in ents:
            eid = e[0]
            if eid == self.self_eid:
                self.corrections += 1
                continue
            if eid not in entered:
                self.protocol["snap_after_gone" if eid in self.gone else "snap_before_enter"] += 1
                entered.add(eid)
            held[eid] = (e[1], e[3], now_ms)
        for g in gone:
            if g not in entered:
                self.protocol["gone_not_entered"] += 1
            held.pop(g, None)
            entered.discard(g)
            self.gone.add(g)

    def score(
        self,
        now_ms: float,
        me: tuple[float, float],
        my_index: int,
        roster: Roster,
        present: Present,
        radius: float,
        k: int,
    ) -> ViewScore:
        """Score this view at ``now_ms`` against ``roster.present(...)`` of its instance."""
        idx, eids, xz = present
        others = idx != my_index
        nb = true_neighbours(me, xz[others], radius, k)
        neighbour_eids = [int(e) for e in eids[others][nb]]
        inst = self.instance

        def send_time_of(eid: int, x_cm: float, z_cm: float, seen_ms: float) -> float | None:
            walk = roster.walk_by_eid(inst, eid)
            if walk is None:
                return None
            return walk.send_time_of(x_cm * 0.01, z_cm * 0.01, seen_ms)

        return score_view(now_ms, neighbour_eids, self.held, send_time_of)
