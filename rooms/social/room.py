"""``SocialRoom``: a social space's floor: emotes to those in view, tables (private rooms), and
the proximity-voice pairing that tells clients whom to call (``voice.peers``).

Space rules (privacy, locks, invites, host moderation, the waiting line) live in the server's
social service, reached as ``ctx.services["social"]`` through the small ``SocialHooks``
protocol; without it (tests, a bare registry) the room runs as an open plaza.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar, Protocol

from avatars import InterestConfig
from rooms.base import Room, RoomOptions
from rooms.client import Client
from rooms.errors import BadRequest, Muted, NotFound, RateLimited
from rooms.payloads import require_mapping
from rooms.social.errors import NotInRoom, NotVoicePeer
from rooms.social.layout import SOCIAL_SPACE_LAYOUT, TABLES
from rooms.social.models import EMOTES
from rooms.social.tables import Tables
from rooms.social.voice import Pair, VoiceConfig, VoiceDiff, VoiceSelector

__all__ = ["SocialRoom", "SocialHooks", "EMOTE_MIN_INTERVAL_S"]

EMOTE_MIN_INTERVAL_S = 0.5


class SocialHooks(Protocol):
    """What the room asks the server's social service."""

    def space_muted(self, room_id: str, user_id: str) -> bool:
        """A host muted this user in this space (no chat, no emotes; others drop their audio)."""

    def is_host(self, room_id: str, user_id: str, roles: tuple[str, ...]) -> bool:
        """Owner, co-host or site moderator of this space."""

    def room_left(self, room: Room, client: Client) -> None:
        """Someone left an instance (a place may be free for the waiting line)."""


class SocialRoom(Room):
    """A social space: plaza, tables, emotes and proximity voice."""

    kind = "social"
    layout = SOCIAL_SPACE_LAYOUT
    interest = InterestConfig(radius=30.0, max_visible=64)
    voice_config: ClassVar[VoiceConfig] = VoiceConfig()
    voice_every_ticks: ClassVar[int] = 5
    """Voice pairs are recomputed every this many ticks (2 Hz at the default 10 Hz)."""

    async def on_create(self, options: RoomOptions) -> None:
        """Set up tables and voice for this instance."""
        self.tables = Tables(TABLES)
        self.voice = VoiceSelector(self.voice_config)
        self.voice_eids: dict[int, str] = {}
        """eid → user id of everyone in voice (the user id outlives the eid at a leave)."""
        self._emote_at: dict[int, float] = {}

    # -- hooks ---------------------------------------------------------------------------
    def _hooks(self) -> SocialHooks | None:
        hooks: SocialHooks | None = self.ctx.services.get("social")
        return hooks

    def _muted(self, user_id: str) -> bool:
        hooks = self._hooks()
        return hooks is not None and hooks.space_muted(self.id, user_id)

    def _is_host(self, client: Client) -> bool:
        hooks = self._hooks()
        return hooks is not None and hooks.is_host(self.id, client.user.id, client.user.roles)

    async def on_message(self, client: Client, event: str, payload: object) -> dict[str, Any] | None:
        """Emotes, tables and voice participation (see docs/protocol.md, "Social")."""
        if event == "emote.send":
            return self._emote(client, payload)
        if event == "voice.join":
            return self._voice_join(client)
        if event == "voice.leave":
            self._voice_drop(client.eid, reason="left")
            return {}
        if event == "table.join":
            return self._table_join(client, payload)
        if event == "table.leave":
            left = self.tables.leave(client.eid)
            if left is not None:
                self._table_changed(left)
                self._voice_step()
            return {"table": left}
        if event == "table.lock":
            locked = require_mapping(payload).get("locked")
            if not isinstance(locked, bool):
                raise BadRequest("locked must be true or false", field="locked")
            table = self.tables.lock(client.eid, locked, host=self._is_host(client))
            self._table_changed(table)
            return {"table": self.tables.to_wire(table, self._who)}
        if event == "table.list":
            return {"tables": [self.tables.to_wire(t, self._who) for t in self.tables.specs]}
        raise NotFound(f"Unknown event {event!r} in a social space.")

    async def on_leave(self, client: Client, consented: bool) -> None:
        """Stand up from a table, hang up every call, tell the service a place is free."""
        # The runtime has already taken the client's eid back: drop every eid that is gone.
        for eid in [e for e in self.tables.seated() if e not in self.clients]:
            left = self.tables.leave(eid)
            if left is not None:
                self._table_changed(left)
        for eid in [e for e in self.voice_eids if e not in self.clients]:
            self._voice_drop(eid, reason="left", tell_self=False)
        for eid in [e for e in self._emote_at if e not in self.clients]:
            del self._emote_at[eid]
        hooks = self._hooks()
        if hooks is not None:
            hooks.room_left(self, client)

    async def on_tick(self, tick: int) -> None:
        """Twice a second: stand up people who walked away from tables; update voice pairs."""
        if tick % self.voice_every_ticks or not self.clients:
            return
        for table in self.tables.sweep(self._xz):
            self._table_changed(table)
        self._voice_step()

    def channel_members(self, client: Client, channel: str) -> list[Client] | None:
        """``table:<id>``: the people at that table."""
        if not channel.startswith("table:"):
            return None
        table = channel[len("table:"):]
        if table not in self.tables.specs:
            return None
        return [self.clients[e] for e in self.tables.members[table] if e in self.clients]

    # -- emotes --------------------------------------------------------------------------
    def in_view(self, eid: int) -> list[Client]:
        """Clients whose area of interest holds ``eid`` (and ``eid`` itself)."""
        out = []
        for c in self.near(eid, self.interest.radius):
            if c.eid == eid or (c.eid in self.world and eid in self.world.visible(c.eid)):
                out.append(c)
        return out

    def _emote(self, client: Client, payload: object) -> dict[str, Any]:
        kind = require_mapping(payload).get("kind")
        if kind not in EMOTES:
            raise BadRequest(f"kind must be one of {', '.join(EMOTES)}", field="kind")
        if self._muted(client.user.id):
            raise Muted("A host muted you in this space.")
        now = self.ctx.clock()
        if now - self._emote_at.get(client.eid, 0.0) < EMOTE_MIN_INTERVAL_S:
            raise RateLimited("One emote at a time.")
        self._emote_at[client.eid] = now
        msg = {"eid": client.eid, "user_id": client.user.id, "kind": kind,
               "ts": int(now * 1000)}
        seen = self.in_view(client.eid)
        for c in seen:
            self.ctx.outbox.emit(c.sid, "emote", msg)
        return {"seen_by": len(seen) - 1}

    # -- tables --------------------------------------------------------------------------
    def _who(self, eid: int) -> dict[str, Any] | None:
        c = self.clients.get(eid)
        if c is None:
            return None
        return {"eid": eid, "user_id": c.user.id, "display_name": c.user.display_name}

    def _xz(self, eid: int) -> tuple[float, float]:
        x, _, z, *_ = self.world.position(eid)
        return x, z

    def _table_join(self, client: Client, payload: object) -> dict[str, Any]:
        table_id = require_mapping(payload).get("table")
        x, z = self._xz(client.eid)
        table, left = self.tables.join(client.eid, table_id, x, z, host=self._is_host(client))
        if left is not None:
            self._table_changed(left)
        self._table_changed(table)
        self._voice_step()
        return {"table": self.tables.to_wire(table, self._who)}

    def _table_changed(self, table: str) -> None:
        self.broadcast("table.update", self.tables.to_wire(table, self._who))

    # -- voice ---------------------------------------------------------------------------
    def _voice_join(self, client: Client) -> dict[str, Any]:
        for other in list(self.voice_eids):
            c = self.clients.get(other)
            if other != client.eid and c is not None and c.user.id == client.user.id:
                self._voice_drop(other, reason="replaced")  # a newer tab of the same person
        self.voice_eids[client.eid] = client.user.id
        self._voice_step()
        cfg = self.voice_config
        return {"radius": cfg.radius, "margin": cfg.margin, "max_peers": cfg.max_peers,
                "muted": self._muted(client.user.id)}

    def _voice_drop(self, eid: int, *, reason: str, tell_self: bool = True) -> None:
        if eid not in self.voice_eids:
            return
        user = self.voice_eids.pop(eid)
        gone = self.voice.forget(eid)
        self._emit_voice(VoiceDiff(removed=frozenset(gone)), leaving=(eid, user))
        c = self.clients.get(eid)
        if tell_self and c is not None:
            self.ctx.outbox.emit(c.sid, "voice.stopped", {"reason": reason})

    def _voice_step(self) -> None:
        eids = sorted(e for e in self.voice_eids if e in self.clients)
        pos = [self._xz(e) for e in eids]
        diff = self.voice.update(eids, [p[0] for p in pos], [p[1] for p in pos],
                                 [self.tables.zone_of(e) for e in eids])
        if diff:
            self._emit_voice(diff)

    def _emit_voice(self, diff: VoiceDiff, leaving: tuple[int, str] | None = None) -> None:
        users = dict(self.voice_eids)
        if leaving is not None:
            users[leaving[0]] = leaving[1]
        add: dict[int, list[dict[str, Any]]] = defaultdict(list)
        remove: dict[int, list[str]] = defaultdict(list)
        for a, b in diff.added:
            ca, cb = self.clients.get(a), self.clients.get(b)
            if ca is None or cb is None:
                continue
            add[a].append(self._peer_entry(ca, cb))
            add[b].append(self._peer_entry(cb, ca))
        for a, b in diff.removed:
            for me, other in ((a, b), (b, a)):
                user = users.get(other)
                if me in self.voice_eids and me in self.clients and user is not None:
                    remove[me].append(user)
        for eid in set(add) | set(remove):
            c = self.clients.get(eid)
            if c is not None:
                self.ctx.outbox.emit(c.sid, "voice.peers",
                                     {"add": add.get(eid, []), "remove": remove.get(eid, [])})

    def _peer_entry(self, me: Client, other: Client) -> dict[str, Any]:
        return {"user_id": other.user.id, "eid": other.eid,
                "display_name": other.user.display_name,
                "offer": me.user.id < other.user.id,  # one side offers: no glare
                "muted": self._muted(other.user.id)}

    def voice_pairs(self) -> set[Pair]:
        return set(self.voice.pairs)

    def set_voice_muted(self, user_id: str, muted: bool) -> None:
        """A host (un)muted ``user_id``: tell them and everyone they are connected to."""
        msg = {"user_id": user_id, "muted": muted}
        told: set[str] = set()
        for c in self.by_user(user_id):
            for eid in [c.eid, *self.voice.peers_of(c.eid)]:
                target = self.clients.get(eid)
                if target is not None and target.sid not in told:
                    told.add(target.sid)
                    self.ctx.outbox.emit(target.sid, "voice.muted", msg)

    def may_signal(self, sender: Client, target: Client) -> None:
        """``rtc.signal`` policy here: only between two people the room has paired for voice."""
        if sender.room is not self or target.room is not self:
            raise NotInRoom()
        if not self.voice.connected(sender.eid, target.eid):
            raise NotVoicePeer()
