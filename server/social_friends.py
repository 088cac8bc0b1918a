"""Presence and friends: status (available, busy), whether friends may see where I am, friend
requests, and "join where my friend is".

Friendship needs both sides: ``friend.request`` then the other's ``friend.accept`` (or their own
request). A friend's whereabouts are shown only to accepted friends, only while the friend
shares them (``presence.set {"share_location": false}`` hides them), and come with whether the
viewer may enter that room (a private or locked space says why not).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rooms.client import Client
from rooms.errors import BadRequest, NotFound
from rooms.payloads import get_str, require_mapping
from rooms.social.errors import FriendUnknown, LocationHidden, SocialError
from rooms.social.models import STATUSES
from rooms.social.rules import admit
from server.social_store import Profile

if TYPE_CHECKING:
    from server.app import App
    from server.social_service import Handler, SocialService

__all__ = ["SocialFriends", "FriendAway"]

log = logging.getLogger("metahall.social")

PROFILE_CACHE = 4096
"""Presence profiles kept in memory (least recently used beyond that are read again)."""


class FriendAway(SocialError, NotFound):
    """Your friend is not in any room right now."""

    reason = "friend_away"


class SocialFriends:
    def __init__(self, app: App, social: SocialService) -> None:
        self.app = app
        self.social = social
        self.store = social.store
        # The profiles of users seen lately; bounded, since every guest is a new user.
        self._profiles: OrderedDict[str, Profile] = OrderedDict()

    def handlers(self) -> dict[str, Handler]:
        return {"presence.set": self.ev_presence, "friend.request": self.ev_request,
                "friend.accept": self.ev_accept, "friend.remove": self.ev_remove,
                "friend.list": self.ev_list, "friend.locate": self.ev_locate}

    # -- presence -------------------------------------------------------------------------
    async def profile(self, user_id: str) -> Profile:
        p = self._profiles.get(user_id)
        if p is None:
            p = await self.store.profile(user_id)
            self._remember(user_id, p)
        else:
            self._profiles.move_to_end(user_id)
        return p

    def _remember(self, user_id: str, profile: Profile) -> None:
        self._profiles[user_id] = profile
        self._profiles.move_to_end(user_id)
        while len(self._profiles) > PROFILE_CACHE:
            self._profiles.popitem(last=False)

    async def set_presence(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        old = await self.profile(client.user.id)
        status = data.get("status", old.status)
        share = data.get("share_location", old.share_location)
        if status not in STATUSES:
            raise BadRequest(f"status must be one of {', '.join(STATUSES)}", field="status")
        if not isinstance(share, bool):
            raise BadRequest("share_location must be true or false", field="share_location")
        new = Profile(status, share)
        if new != old:
            await self.store.set_profile(client.user.id, new)
            self._remember(client.user.id, new)
        if new.status != old.status:
            await self._tell_presence(client.user.id, new.status)
        return {"status": new.status, "share_location": new.share_location}

    async def _tell_presence(self, user_id: str, status: str) -> None:
        rt = self.app.realtime
        msg = {"user_id": user_id, "status": status}
        told: set[str] = set()
        rooms = {c.room for c in rt.presence(user_id) if c.room is not None}
        targets = [c for r in rooms for c in r.clients.values()]
        for link, _name in await self.store.friends(user_id):
            if link.state == "accepted":
                targets.extend(rt.presence(link.friend_id))
        for c in targets:
            if c.sid not in told:
                told.add(c.sid)
                rt.outbox.emit(c.sid, "presence", msg)

    # -- where people are -------------------------------------------------------------------
    async def where(self, viewer: Client, user_id: str) -> dict[str, Any] | None:
        """The room ``user_id`` is in, its name, and whether ``viewer`` may enter it."""
        rooms = [c.room for c in self.app.realtime.presence(user_id) if c.room is not None]
        if not rooms:
            return None
        room = rooms[0]
        space = self.social.spaces.get(room.id)
        out: dict[str, Any] = {"room": room.id, "kind": room.kind, "joinable": True,
                               "name": space.name if space else room.options.name}
        if space is not None:
            try:
                admit(space, viewer.user.id, viewer.user.roles,
                      kicked_until=self.social.kicks.get((room.id, viewer.user.id)),
                      now_ms=_now())
            except SocialError as exc:
                out["joinable"], out["reason"] = False, exc.reason
        return out

    # -- friends ----------------------------------------------------------------------------
    async def _target(self, client: Client, data: Mapping[str, Any]) -> Any:
        uid = get_str(data, "user_id", max_len=32)
        if uid == client.user.id:
            raise BadRequest("That is you.", field="user_id")
        user = await self.app.accounts.get(str(uid))
        if user is None:
            raise NotFound("No such user.")
        return user

    def _tell(self, user_id: str, about: Client, state: str) -> None:
        rt = self.app.realtime
        for c in rt.presence(user_id):
            rt.outbox.emit(c.sid, "friend.update", {
                "user_id": about.user.id, "display_name": about.user.display_name,
                "state": state})

    async def request(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        target = await self._target(client, data)
        state = await self.store.friend_request(client.user.id, target.id)
        self._tell(target.id, client, "accepted" if state == "accepted" else "incoming")
        return {"user_id": target.id, "state": state}

    async def accept(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        target = await self._target(client, data)
        if not await self.store.friend_accept(client.user.id, target.id):
            raise FriendUnknown("There is no friend request from that person.")
        self._tell(target.id, client, "accepted")
        return {"user_id": target.id, "state": "accepted"}

    async def remove(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        target = await self._target(client, data)
        removed = await self.store.friend_remove(client.user.id, target.id)
        if removed:
            self._tell(target.id, client, "none")
        return {"user_id": target.id, "state": "none", "removed": removed}

    async def list(self, client: Client) -> dict[str, Any]:
        out = []
        for link, name in await self.store.friends(client.user.id):
            online = bool(self.app.realtime.presence(link.friend_id))
            item: dict[str, Any] = {"user_id": link.friend_id, "display_name": name,
                                    "state": link.state, "online": online}
            if link.state == "accepted":
                prof = await self.profile(link.friend_id)
                item["status"] = prof.status if online else "offline"
                item["where"] = await self.where(client, link.friend_id) \
                    if online and prof.share_location else None
            out.append(item)
        return {"friends": out}

    async def locate(self, client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
        """Where an accepted friend is and whether I may join them there."""
        target = await self._target(client, data)
        if await self.store.friend_state(client.user.id, target.id) != "accepted":
            raise FriendUnknown()
        if not (await self.profile(target.id)).share_location:
            raise LocationHidden()
        where = await self.where(client, target.id)
        if where is None:
            raise FriendAway()
        return where

    # -- events -----------------------------------------------------------------------------
    async def ev_presence(self, c: Client, p: object) -> dict[str, Any]:
        return await self.set_presence(c, require_mapping(p))

    async def ev_request(self, c: Client, p: object) -> dict[str, Any]:
        return await self.request(c, require_mapping(p))

    async def ev_accept(self, c: Client, p: object) -> dict[str, Any]:
        return await self.accept(c, require_mapping(p))

    async def ev_remove(self, c: Client, p: object) -> dict[str, Any]:
        return await self.remove(c, require_mapping(p))

    async def ev_list(self, c: Client, p: object) -> dict[str, Any]:
        return await self.list(c)

    async def ev_locate(self, c: Client, p: object) -> dict[str, Any]:
        return await self.locate(c, require_mapping(p))


def _now() -> int:
    return int(time.time() * 1000)
