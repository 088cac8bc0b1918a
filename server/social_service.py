"""The social service of one server process: spaces, joining rules, invites, host moderation
and the waiting line. Rooms reach it as ``ctx.services["social"]`` (``SocialHooks``); presence
and friends are in :mod:`server.social_friends`.

The live copy of every space (settings, co-hosts, members) is kept here and written through
``SqlSocialStore`` before an event is acknowledged. Host mutes and kicks are moderation actions
(``ActionDesk.act_in_space``: same table, same hash-chained audit log); active ones are loaded
at start. Like the hall, one process serves social spaces today.

With several processes (``app.cluster``), a room lives on one of them at a time, but spaces can
be changed and people muted or kicked from any: every ``SYNC_S`` seconds each process reloads
spaces, members and sanctions from the database (the database is the truth; a reload that
overlapped a local change is dropped and redone next time) and applies new mutes and kicks to
the rooms it serves.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from rooms.base import Room, RoomOptions
from rooms.client import Client
from rooms.errors import BadRequest, Muted, NotFound
from rooms.payloads import ROOM_ID_RE, clean_text, get_int, get_str, require_mapping
from rooms.social.errors import (
    BadSpaceSetting,
    CannotActOn,
    InviteUnknown,
    NotHost,
    NotInSocialRoom,
    NotOwner,
    SpaceFull,
    SpaceNotFound,
)
from rooms.social.models import Space
from rooms.social.room import SocialRoom
from rooms.social.rules import (
    admit,
    check_moderation,
    may_host,
    new_token,
    parse_invite_request,
    parse_settings,
    site_rank,
    token_hash,
)
from rooms.social.waitline import WaitLine
from server.db.models import ModAction
from server.moderation_store import action_dict
from server.social_friends import SocialFriends
from server.social_store import SqlSocialStore

if TYPE_CHECKING:
    from server.app import App

__all__ = ["SocialService", "Handler", "http_client", "KICK_DEFAULT_S", "MUTE_DEFAULT_S"]

log = logging.getLogger("metahall.social")
Handler = Callable[[Client, object], Awaitable[dict[str, Any] | None]]
KICK_DEFAULT_S = 10 * 60
MUTE_DEFAULT_S = 10 * 60
ACTION_MAX_S = 7 * 86400
HOLD_S = 30.0
SYNC_S = 3.0
PLAZAS_TTL_S = 10.0
SPACE_PREFIX = "social:s-"
"""Ids of user-created spaces; other ``social:*`` rooms are plazas."""
_TEXTS = {
    "kicked": {"zh-CN": "主持人已请你离开“{name}”。", "en": "A host removed you from “{name}”."},
    "muted": {"zh-CN": "主持人已在“{name}”中将你禁言。", "en": "A host muted you in “{name}”."},
    "unmuted": {"zh-CN": "你在“{name}”中的禁言已解除。", "en": "You can speak again in “{name}”."},
    "closed": {"zh-CN": "“{name}”已被关闭。", "en": "“{name}” was closed by its owner."},
    "muted_chat": {"zh-CN": "你在这个空间被禁言了。", "en": "A host muted you in this space."},
}


def _now() -> int:
    return int(time.time() * 1000)


def _text(key: str, lang: str, **params: str) -> str:
    text = _TEXTS[key]["zh-CN" if lang.lower().startswith("zh") else "en"]
    for k, v in params.items():
        text = text.replace("{" + k + "}", v)
    return text


def http_client(user: Any, lang: str | None) -> Client:
    """A stand-in connection for an HTTP request, so events and HTTP share one code path."""
    return Client(sid=f"http:{uuid.uuid4().hex[:12]}", user=user,
                  lang="zh-CN" if (lang or "").lower().startswith("zh") else "en")


class SocialService:
    """Spaces, the join check, invites, host moderation and the waiting line."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.store = SqlSocialStore(app.db)
        self.spaces: dict[str, Space] = {}
        self.mutes: dict[tuple[str, str], int] = {}
        """(room, user) → until (Unix ms) of host mutes in force."""
        self.kicks: dict[tuple[str, str], int] = {}
        """(room, user) → until of host kicks in force (no coming back before)."""
        self.line = WaitLine(hold_s=HOLD_S)
        self._gen = 0
        self._plazas: list[RoomOptions] = []
        self._plazas_at = -PLAZAS_TTL_S
        """Bumped by every local change, so a reload that overlapped one is not applied."""
        app.registry.ctx.services["social"] = self
        rt = app.realtime
        for event, handler in self.handlers().items():
            rt.on(event, handler)
        rt.on("chat", self._wrap_chat(rt.handlers["chat"]))
        app.join_checks.append(self.join_check)
        self.friends = SocialFriends(app, self)
        for event, handler in self.friends.handlers().items():
            rt.on(event, handler)

    def handlers(self) -> dict[str, Handler]:
        return {
            "space.list": self.ev_list, "space.create": self.ev_create,
            "space.get": self.ev_get, "space.update": self.ev_update,
            "space.lock": self.ev_lock, "space.delete": self.ev_delete,
            "space.cohost": self.ev_cohost, "space.allow": self.ev_allow,
            "space.members": self.ev_members, "space.invite": self.ev_invite,
            "space.invites": self.ev_invites, "space.revoke": self.ev_revoke,
            "space.redeem": self.ev_redeem, "space.mute": self.ev_mute,
            "space.unmute": self.ev_unmute, "space.kick": self.ev_kick,
            "space.wait": self.ev_wait, "space.unwait": self.ev_unwait,
            "space.people": self.ev_people,
        }

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        """Load spaces and the host mutes and kicks still in force."""
        self.spaces, self.mutes, self.kicks = await self._load()
        log.info("social spaces loaded spaces=%d mutes=%d kicks=%d", len(self.spaces),
                 len(self.mutes), len(self.kicks))

    async def _load(self) -> tuple[dict[str, Space], dict[tuple[str, str], int],
                                   dict[tuple[str, str], int]]:
        spaces = {s.room_id: s for s in await self.store.load_spaces()}
        now = _now()
        async with self.app.db.session() as s:
            rows = (await s.execute(select(ModAction).where(
                ModAction.action.in_(("space_mute", "space_kick")),
                ModAction.revoked_at.is_(None), ModAction.until > now))).scalars().all()
        mutes: dict[tuple[str, str], int] = {}
        kicks: dict[tuple[str, str], int] = {}
        for r in rows:
            if r.room_id and r.target_user_id and r.until:
                table = mutes if r.action == "space_mute" else kicks
                key = (r.room_id, r.target_user_id)
                table[key] = max(table.get(key, 0), r.until)
        return spaces, mutes, kicks

    async def sync_once(self) -> bool:
        """Reload from the database (changes made by other processes); False if overlapped."""
        gen = self._gen
        spaces, mutes, kicks = await self._load()
        if gen != self._gen:
            return False
        self.spaces = spaces
        for key in set(mutes) | set(self.mutes):
            if (key in mutes) != (key in self.mutes):
                self._apply_mute(key[0], key[1], mutes.get(key))
        self.mutes = mutes
        new_kicks = [k for k in kicks if k not in self.kicks]
        self.kicks = kicks
        for room_id, user_id in new_kicks:
            for room in self._instances(room_id):
                for c in room.by_user(user_id):
                    await self._remove(room_id, c, kicks[(room_id, user_id)], "")
        return True

    async def run(self) -> None:
        """Once a second: end expired mutes and kicks, pass on turns in waiting lines; in a
        cluster, pick up what other processes changed."""
        last_sync = time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            try:
                self.tick(_now())
                if getattr(self.app, "cluster", None) is not None \
                        and time.monotonic() - last_sync >= SYNC_S:
                    last_sync = time.monotonic()
                    await self.sync_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("social sweep failed")

    def tick(self, now: int) -> None:
        for (room_id, user_id), until in list(self.mutes.items()):
            if until <= now:
                del self.mutes[(room_id, user_id)]
                self._apply_mute(room_id, user_id, None)
        for key, until in list(self.kicks.items()):
            if until <= now:
                del self.kicks[key]
        for room_id in self.line.rooms():
            self._admit_next(room_id, now)

    # -- SocialHooks (called by SocialRoom) ------------------------------------------------
    def space_muted(self, room_id: str, user_id: str) -> bool:
        until = self.mutes.get((room_id, user_id))
        return until is not None and until > _now()

    def is_host(self, room_id: str, user_id: str, roles: tuple[str, ...]) -> bool:
        space = self.spaces.get(room_id)
        if space is None:
            return site_rank(roles) >= 1
        return may_host(space, user_id, roles)

    def room_left(self, room: Room, client: Client) -> None:
        self._admit_next(room.id, _now())

    # -- lookups ------------------------------------------------------------------------
    def _space(self, room_id: str) -> Space:
        space = self.spaces.get(room_id)
        if space is None:
            raise SpaceNotFound()
        return space

    def _room_arg(self, client: Client, data: Mapping[str, Any]) -> str:
        room_id = data.get("room")
        if room_id is None and client.room is not None:
            room_id = client.room.id
        if room_id is None:
            raise NotInSocialRoom()
        if not isinstance(room_id, str) or not ROOM_ID_RE.match(room_id) \
                or not room_id.startswith("social:"):
            raise BadRequest("room must look like 'social:<name>'", field="room")
        return room_id

    def _host_space(self, client: Client, data: Mapping[str, Any]) -> Space:
        space = self._space(self._room_arg(client, data))
        if not may_host(space, client.user.id, client.user.roles):
            raise NotHost()
        return space

    def _owner_space(self, client: Client, data: Mapping[str, Any]) -> Space:
        space = self._space(self._room_arg(client, data))
        if client.user.id != space.owner_id and site_rank(client.user.roles) < 2:
            raise NotOwner()
        return space

    def _instances(self, room_id: str) -> list[Room]:
        return self.app.registry.instances(room_id)

    def _visible(self, space: Space, client: Client | None) -> bool:
        if space.privacy == "public":
            return True
        return client is not None and (space.role_of(client.user.id) is not None
                                       or site_rank(client.user.roles) >= 1)

    def entry(self, space: Space, viewer: Client | None) -> dict[str, Any]:
        """A space as the directory and ``space.get`` show it, with live figures."""
        reg = self.app.registry
        members = reg.members(space.room_id)
        instances = self._instances(space.room_id)
        now = _now()
        out = space.to_wire(viewer=viewer.user.id if viewer else None)
        out.update(members=members, instances=len(instances),
                   waiting=self.line.waiting(space.room_id), plaza=False)
        if space.overflow == "queue":
            out["full"] = members + self.line.held(space.room_id, now) >= space.capacity
        else:
            out["full"] = bool(instances) and all(r.members >= r.max_clients for r in instances)
        if viewer is not None:
            out["my_position"] = self.line.position(space.room_id, viewer.user.id)
        return out

    async def directory(self, viewer: Client | None) -> list[dict[str, Any]]:
        """Public spaces and plazas (and private spaces the viewer belongs to), busiest first."""
        out = [self.entry(s, viewer) for s in self.spaces.values() if self._visible(s, viewer)]
        reg = self.app.registry
        now = time.monotonic()
        if now - self._plazas_at > PLAZAS_TTL_S:  # the room table changes rarely: no query per poll
            self._plazas = [o for o in await self.app.directory.list()
                            if o.kind == "social" and o.public and not o.room_id.startswith(SPACE_PREFIX)]
            self._plazas_at = now
        for opts in self._plazas:
            if opts.room_id not in self.spaces:
                out.append({"room": opts.room_id, "name": opts.name, "description": "",
                            "capacity": opts.capacity, "privacy": "public", "public": True,
                            "overflow": "instance", "locked": False, "owner_id": None,
                            "members": reg.members(opts.room_id),
                            "instances": len(reg.instances(opts.room_id)), "waiting": 0,
                            "full": False, "plaza": True, "my_role": None})
        out.sort(key=lambda e: (-int(e["members"]), str(e["room"])))
        return out

    # -- the join check -------------------------------------------------------------------
    async def join_check(self, client: Client, room_id: object) -> None:
        """``App.join_checks``: kicks, locks, privacy and a full space's waiting line."""
        if not isinstance(room_id, str) or not room_id.startswith("social:"):
            return
        space = self.spaces.get(room_id)
        if space is None and room_id.startswith(SPACE_PREFIX):
            space = await self.store.load_space(room_id)  # made by another process just now
            if space is not None:
                self.spaces[room_id] = space
        if space is None:
            return  # a plaza, or no such room (the registry answers not_found)
        now = _now()
        user = client.user
        admit(space, user.id, user.roles, kicked_until=self.kicks.get((room_id, user.id)),
              now_ms=now)
        if space.overflow != "queue" or may_host(space, user.id, user.roles):
            return
        if self.line.holds(room_id, user.id, now):
            self.line.consume(room_id, user.id)
            return
        taken = self.app.registry.members(room_id) + self.line.held(room_id, now)
        if taken >= space.capacity or self.line.waiting(room_id):
            raise SpaceFull(overflow="queue", waiting=self.line.waiting(room_id),
                            position=self.line.position(room_id, user.id))

    # -- spaces ---------------------------------------------------------------------------
    async def _gate_text(self, client: Client, text: str, what: str) -> str:
        if not text:
            return text
        return await self.app.mod.check_text(client, text, channel=f"space-{what}")

    async def create(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        settings = parse_settings(data, max_capacity=self.app.settings.capacity["social"])
        settings["name"] = await self._gate_text(client, settings["name"], "name")
        settings["description"] = await self._gate_text(client, settings["description"],
                                                        "description")
        room_id = f"{SPACE_PREFIX}{secrets.token_hex(5)}"
        space = await self.store.create_space(room_id, client.user.id, settings)
        self.spaces[room_id] = space
        self.app.directory.forget(room_id)
        self._gen += 1
        log.info("space created room=%s owner=%s privacy=%s", room_id, client.user.id,
                 space.privacy)
        return self.entry(space, client)

    async def update(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space = self._owner_space(client, data)
        changes = parse_settings(data, max_capacity=self.app.settings.capacity["social"],
                                 partial=True)
        if "capacity" in changes and changes["capacity"] != space.capacity:
            raise BadSpaceSetting("The capacity is fixed when the space is created.",
                                  field="capacity")
        changes.pop("capacity", None)
        for key in ("name", "description"):
            if key in changes:
                changes[key] = await self._gate_text(client, changes[key], key)
        if changes:
            await self.store.update_space(space.room_id, changes)
            for key, value in changes.items():
                setattr(space, key, value)
            self._gen += 1
            self.app.directory.forget(space.room_id)
            self._announce(space)
        return self.entry(space, client)

    async def lock(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space = self._host_space(client, data)
        locked = data.get("locked")
        if not isinstance(locked, bool):
            raise BadRequest("locked must be true or false", field="locked")
        if locked != space.locked:
            await self.store.update_space(space.room_id, {"locked": locked})
            space.locked = locked
            self._gen += 1
            log.info("space lock room=%s locked=%s by=%s", space.room_id, locked, client.user.id)
            self._announce(space)
        return self.entry(space, client)

    async def delete(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space = self._owner_space(client, data)
        for room in self._instances(space.room_id):
            for c in list(room.clients.values()):
                self.app.realtime.outbox.emit(c.sid, "space.closed", {
                    "room": space.room_id, "message": _text("closed", c.lang, name=space.name)})
                async with c.lock:
                    await self.app.registry.leave(c, consented=False)
        await self.store.delete_space(space.room_id)
        self.spaces.pop(space.room_id, None)
        self._gen += 1
        self.app.directory.forget(space.room_id)
        return {"room": space.room_id, "deleted": True}

    def _announce(self, space: Space) -> None:
        for room in self._instances(space.room_id):
            for c in room.clients.values():
                self.app.realtime.outbox.emit(c.sid, "space.updated", self.entry(space, c))

    async def _user(self, user_id: object) -> Any:
        if not isinstance(user_id, str) or not 1 <= len(user_id) <= 32:
            raise BadRequest("user_id is required", field="user_id")
        user = await self.app.accounts.get(user_id)
        if user is None:
            raise NotFound("No such user.")
        return user

    async def set_cohost(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space = self._owner_space(client, data)
        target = await self._user(data.get("user_id"))
        cohost = data.get("cohost")
        if not isinstance(cohost, bool):
            raise BadRequest("cohost must be true or false", field="cohost")
        if target.id == space.owner_id:
            raise CannotActOn("The owner is always a host.")
        old = space.members.get(target.id)
        role = "cohost" if cohost else "member"
        via = old.via if old is not None else "host"
        space.members[target.id] = await self.store.put_member(
            space.room_id, target.id, role, via, client.user.id)
        self._gen += 1
        self._announce(space)
        return {"member": space.members[target.id].to_wire()}

    async def set_allowed(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space = self._host_space(client, data)
        target = await self._user(data.get("user_id"))
        allowed = data.get("allowed")
        if not isinstance(allowed, bool):
            raise BadRequest("allowed must be true or false", field="allowed")
        old = space.members.get(target.id)
        if allowed:
            if old is None:
                space.members[target.id] = await self.store.put_member(
                    space.room_id, target.id, "member", "allow", client.user.id)
                self._gen += 1
        elif old is not None:
            if old.role == "cohost" and client.user.id != space.owner_id:
                raise CannotActOn("Only the owner can remove a co-host.")
            await self.store.remove_member(space.room_id, target.id)
            del space.members[target.id]
            self._gen += 1
        return {"user_id": target.id, "allowed": target.id in space.members}

    async def members(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space = self._host_space(client, data)
        out = []
        for m in space.members.values():
            user = await self.app.accounts.get(m.user_id)
            out.append({**m.to_wire(), "display_name": user.display_name if user else "?"})
        return {"room": space.room_id, "owner_id": space.owner_id, "members": out}

    # -- invites --------------------------------------------------------------------------
    async def invite(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space = self._host_space(client, data)
        ttl_s, max_uses = parse_invite_request(data)
        token = new_token()
        inv = await self.store.create_invite(space.room_id, client.user.id, token_hash(token),
                                             ttl_s, max_uses)
        out = inv.to_wire(_now())
        out.update(token=token, link=f"/?room={space.room_id}&invite={token}")
        return {"invite": out}

    async def invites(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space = self._host_space(client, data)
        now = _now()
        return {"invites": [i.to_wire(now) for i in await self.store.invites(space.room_id)]}

    async def revoke(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space = self._host_space(client, data)
        invite_id = get_str(data, "invite_id", max_len=32)
        assert invite_id is not None
        inv = await self.store.revoke_invite(space.room_id, invite_id, client.user.id)
        return {"invite": inv.to_wire(_now())}

    async def redeem(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        """Use an invite token (or a whole invite link): you become a member of the space."""
        raw = get_str(data, "token", max_len=400)
        assert raw is not None
        token = raw.strip()
        if "invite=" in token:
            found = parse_qs(urlsplit(token).query).get("invite")
            token = found[0] if found else ""
        if not 16 <= len(token) <= 100:
            raise InviteUnknown()
        uid = client.user.id

        def already(room_id: str) -> bool:
            sp = self.spaces.get(room_id)
            return sp is not None and sp.role_of(uid) is not None

        inv, member = await self.store.redeem(token_hash(token), uid, already)
        space = self._space(inv.room_id)
        if member is not None:
            space.members[uid] = member
            self._gen += 1
            log.info("invite redeemed room=%s invite=%s user=%s", inv.room_id, inv.id, uid)
        return {"room": space.room_id, "space": self.entry(space, client),
                "new_member": member is not None}

    # -- host moderation (recorded like any moderator action) ------------------------------
    async def _act(self, client: Client, data: Mapping[str, Any], action: str,
                   default_s: int | None) -> tuple[Space, Any, ModAction]:
        room_id = self._room_arg(client, data)
        space = self._space(room_id)
        target = await self._user(data.get("user_id"))
        check_moderation(space, client.user.id, client.user.roles, target.id, target.roles)
        raw = data.get("note")
        note = "" if raw in (None, "") else clean_text(raw, "note", max_len=500)
        until = None
        if default_s is not None:
            seconds = get_int(data, "duration_s", lo=60, hi=ACTION_MAX_S, required=False)
            until = _now() + 1000 * (seconds or default_s)
        actor = await self.app.accounts.get(client.user.id)
        if actor is None:
            raise NotFound("Sign in again.")
        row = await self.app.mod.desk.act_in_space(actor, action, room_id=room_id,
                                                   target_id=target.id, note=note, until=until)
        return space, target, row

    async def mute(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space, target, row = await self._act(client, data, "space_mute", MUTE_DEFAULT_S)
        assert row.until is not None
        self.mutes[(space.room_id, target.id)] = row.until
        self._gen += 1
        self._apply_mute(space.room_id, target.id, row.until, note=row.note)
        return {"action": action_dict(row)}

    async def unmute(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space, target, row = await self._act(client, data, "space_unmute", None)
        self.mutes.pop((space.room_id, target.id), None)
        self._gen += 1
        self._apply_mute(space.room_id, target.id, None)
        return {"action": action_dict(row)}

    def _apply_mute(self, room_id: str, user_id: str, until: int | None, note: str = "") -> None:
        muted = until is not None
        for room in self._instances(room_id):
            if isinstance(room, SocialRoom):
                room.set_voice_muted(user_id, muted)
        space = self.spaces.get(room_id)
        name = space.name if space else room_id
        for c in self.app.realtime.presence(user_id):
            self.app.realtime.outbox.emit(c.sid, "space.muted", {
                "room": room_id, "muted": muted, "until": until, "note": note,
                "message": _text("muted" if muted else "unmuted", c.lang, name=name)})

    async def kick(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space, target, row = await self._act(client, data, "space_kick", KICK_DEFAULT_S)
        assert row.until is not None
        self.kicks[(space.room_id, target.id)] = row.until
        self._gen += 1
        self.line.leave(space.room_id, target.id)
        for room in self._instances(space.room_id):
            for c in room.by_user(target.id):
                await self._remove(space.room_id, c, row.until, row.note)
        return {"action": action_dict(row)}

    async def _remove(self, room_id: str, c: Client, until: int, note: str) -> None:
        """Take a kicked person out of the room, telling them why."""
        space = self.spaces.get(room_id)
        self.app.realtime.outbox.emit(c.sid, "space.kicked", {
            "room": room_id, "until": until, "note": note,
            "message": _text("kicked", c.lang, name=space.name if space else room_id)})
        async with c.lock:
            await self.app.registry.leave(c, consented=False)

    # -- the waiting line -------------------------------------------------------------------
    async def wait(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        space = self._space(self._room_arg(client, data))
        if space.overflow != "queue":
            raise BadSpaceSetting("This space opens another instance when full; just join.",
                                  field="room")
        user = client.user
        admit(space, user.id, user.roles, kicked_until=self.kicks.get((space.room_id, user.id)),
              now_ms=_now())
        self.line.join(space.room_id, user.id)
        self._admit_next(space.room_id, _now())
        return {"room": space.room_id, "position": self.line.position(space.room_id, user.id),
                "waiting": self.line.waiting(space.room_id)}

    async def unwait(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        room_id = self._room_arg(client, data)
        left = self.line.leave(room_id, client.user.id)
        self._admit_next(room_id, _now())
        return {"room": room_id, "left": left}

    def _admit_next(self, room_id: str, now: int) -> None:
        space = self.spaces.get(room_id)
        if space is None or space.overflow != "queue":
            return
        before = self.line.line(room_id)
        free = space.capacity - self.app.registry.members(room_id)
        turns = self.line.admit(room_id, free, now)
        outbox = self.app.realtime.outbox
        for user_id, until in turns:
            for c in self.app.realtime.presence(user_id):
                outbox.emit(c.sid, "space.turn", {"room": room_id, "until": until,
                                                  "name": space.name})
        if turns or before != self.line.line(room_id):
            for pos, user_id in enumerate(self.line.line(room_id), start=1):
                for c in self.app.realtime.presence(user_id):
                    outbox.emit(c.sid, "space.line", {"room": room_id, "position": pos})

    # -- people in my instance ----------------------------------------------------------------
    async def people(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        room = client.room
        if room is None or not isinstance(room, SocialRoom):
            raise NotInSocialRoom()
        space = self.spaces.get(room.id)
        friends = self.friends
        out = []
        for c in room.clients.values():
            uid = c.user.id
            out.append({
                "user_id": uid, "eid": c.eid, "display_name": c.user.display_name,
                "role": space.role_of(uid) if space else None,
                "site_role": "admin" if site_rank(c.user.roles) == 2 else
                "moderator" if site_rank(c.user.roles) == 1 else None,
                "status": (await friends.profile(uid)).status,
                "table": room.tables.zone_of(c.eid), "voice": c.eid in room.voice_eids,
                "muted": self.space_muted(room.id, uid),
            })
        return {"room": room.id, "people": out,
                "me": {"host": self.is_host(room.id, client.user.id, client.user.roles),
                       "owner": bool(space and space.owner_id == client.user.id)}}

    # -- chat ---------------------------------------------------------------------------------
    def _wrap_chat(self, inner: Handler) -> Handler:
        async def chat(client: Client, payload: object) -> dict[str, Any] | None:
            room = client.room
            if room is not None and room.kind == "social" \
                    and self.space_muted(room.id, client.user.id):
                channel = payload.get("channel") if isinstance(payload, Mapping) else None
                if not (isinstance(channel, str) and channel.startswith("dm:")):
                    raise Muted(_text("muted_chat", client.lang),
                                until=self.mutes.get((room.id, client.user.id)), scope="space")
            return await inner(client, payload)

        return chat

    # -- event adapters ---------------------------------------------------------------------
    async def ev_list(self, c: Client, p: object) -> dict[str, Any]:
        return {"spaces": await self.directory(c)}

    async def ev_create(self, c: Client, p: object) -> dict[str, Any]:
        return {"space": await self.create(c, require_mapping(p))}

    async def ev_get(self, c: Client, p: object) -> dict[str, Any]:
        data = require_mapping(p) if p is not None else {}
        room_id = self._room_arg(c, data)
        space = self.spaces.get(room_id)
        if space is None and room_id.startswith(SPACE_PREFIX):
            space = await self.store.load_space(room_id)
            if space is None:
                raise SpaceNotFound()
            self.spaces[room_id] = space
        if space is None:
            opts = await self.app.directory.get(room_id)
            if opts is None or opts.kind != "social":
                raise SpaceNotFound()
            return {"space": {"room": room_id, "name": opts.name, "plaza": True,
                              "privacy": "public", "public": True, "locked": False,
                              "capacity": opts.capacity, "owner_id": None, "my_role": None,
                              "members": self.app.registry.members(room_id)}}
        if not self._visible(space, c):
            raise SpaceNotFound()
        return {"space": self.entry(space, c)}

    async def ev_update(self, c: Client, p: object) -> dict[str, Any]:
        return {"space": await self.update(c, require_mapping(p))}

    async def ev_lock(self, c: Client, p: object) -> dict[str, Any]:
        return {"space": await self.lock(c, require_mapping(p))}

    async def ev_delete(self, c: Client, p: object) -> dict[str, Any]:
        return await self.delete(c, require_mapping(p))

    async def ev_cohost(self, c: Client, p: object) -> dict[str, Any]:
        return await self.set_cohost(c, require_mapping(p))

    async def ev_allow(self, c: Client, p: object) -> dict[str, Any]:
        return await self.set_allowed(c, require_mapping(p))

    async def ev_members(self, c: Client, p: object) -> dict[str, Any]:
        return await self.members(c, require_mapping(p) if p is not None else {})

    async def ev_invite(self, c: Client, p: object) -> dict[str, Any]:
        return await self.invite(c, require_mapping(p))

    async def ev_invites(self, c: Client, p: object) -> dict[str, Any]:
        return await self.invites(c, require_mapping(p) if p is not None else {})

    async def ev_revoke(self, c: Client, p: object) -> dict[str, Any]:
        return await self.revoke(c, require_mapping(p))

    async def ev_redeem(self, c: Client, p: object) -> dict[str, Any]:
        return await self.redeem(c, require_mapping(p))

    async def ev_mute(self, c: Client, p: object) -> dict[str, Any]:
        return await self.mute(c, require_mapping(p))

    async def ev_unmute(self, c: Client, p: object) -> dict[str, Any]:
        return await self.unmute(c, require_mapping(p))

    async def ev_kick(self, c: Client, p: object) -> dict[str, Any]:
        return await self.kick(c, require_mapping(p))

    async def ev_wait(self, c: Client, p: object) -> dict[str, Any]:
        return await self.wait(c, require_mapping(p))

    async def ev_unwait(self, c: Client, p: object) -> dict[str, Any]:
        return await self.unwait(c, require_mapping(p))

    async def ev_people(self, c: Client, p: object) -> dict[str, Any]:
        return await self.people(c, p if isinstance(p, Mapping) else {})

