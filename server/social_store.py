"""Social spaces in the database (SQLAlchemy 2 async; SQLite and PostgreSQL).

Every write is one committed transaction before the caller acknowledges it. Races are settled
here: an invite's use count only grows with a guarded ``UPDATE ... WHERE uses < max_uses``, so
two people redeeming the last use at once cannot both get in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.errors import Conflict
from rooms.social.errors import InviteUnknown, SpaceNotFound, TooManySpaces
from rooms.social.models import FriendLink, Invite, Member, Space
from rooms.social.rules import check_invite
from server.db.engine import Database
from server.db.models import RoomRecord, User, new_id
from server.social_models import (
    SocialFriendRow,
    SocialInviteRow,
    SocialMemberRow,
    SocialProfileRow,
    SocialSpaceRow,
)

__all__ = ["SqlSocialStore", "Profile", "MAX_SPACES_PER_OWNER", "MAX_FRIENDS"]

MAX_SPACES_PER_OWNER = 10
MAX_FRIENDS = 500


def _now() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class Profile:
    status: str = "available"
    share_location: bool = True


def _space(row: SocialSpaceRow, members: Iterable[SocialMemberRow]) -> Space:
    sp = Space(row.room_id, row.owner_id, row.name, row.description, row.capacity,
               privacy=row.privacy, overflow=row.overflow, locked=row.locked,
               created_at=row.created_at)
    for m in members:
        sp.members[m.user_id] = _member(m)
    return sp


def _member(m: SocialMemberRow) -> Member:
    return Member(m.user_id, m.role, m.via, m.added_at, m.invite_id)


def _invite(r: SocialInviteRow) -> Invite:
    return Invite(r.id, r.room_id, r.created_by, r.created_at, r.expires_at, r.max_uses, r.uses,
                  r.revoked_at)


class SqlSocialStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- spaces -----------------------------------------------------------------------------
    async def load_spaces(self) -> list[Space]:
        async with self.db.session() as s:
            rows = (await s.execute(select(SocialSpaceRow))).scalars().all()
            members = (await s.execute(select(SocialMemberRow))).scalars().all()
        by_room: dict[str, list[SocialMemberRow]] = {}
        for m in members:
            by_room.setdefault(m.room_id, []).append(m)
        return [_space(r, by_room.get(r.room_id, ())) for r in rows]

    async def load_space(self, room_id: str) -> Space | None:
        async with self.db.session() as s:
            row = await s.get(SocialSpaceRow, room_id)
            if row is None:
                return None
            members = (await s.execute(select(SocialMemberRow).where(
                SocialMemberRow.room_id == room_id))).scalars().all()
        return _space(row, members)

    async def create_space(self, room_id: str, owner_id: str, settings: dict[str, Any]) -> Space:
        """The room record and the space, in one transaction (at most a few per owner)."""
        now = _now()
        async with self.db.session() as s, s.begin():
            owned = (await s.execute(select(func.count()).select_from(SocialSpaceRow).where(
                SocialSpaceRow.owner_id == owner_id))).scalar_one()
            if owned >= MAX_SPACES_PER_OWNER:
                raise TooManySpaces(limit=MAX_SPACES_PER_OWNER)
            s.add(RoomRecord(id=room_id, kind="social", name_zh=settings["name"],
                             name_en=settings["name"], public=settings["privacy"] == "public",
                             capacity=settings["capacity"], owner_id=owner_id, created_at=now))
            await s.flush()
            row = SocialSpaceRow(room_id=room_id, owner_id=owner_id, name=settings["name"],
                                 description=settings["description"],
                                 capacity=settings["capacity"], privacy=settings["privacy"],
                                 overflow=settings["overflow"], locked=False, created_at=now,
                                 updated_at=now)
            s.add(row)
        return _space(row, ())

    async def update_space(self, room_id: str, changes: dict[str, Any]) -> None:
        """Write changed settings; the room record follows the name, capacity and privacy."""
        now = _now()
        async with self.db.session() as s, s.begin():
            row = await s.get(SocialSpaceRow, room_id)
            rec = await s.get(RoomRecord, room_id)
            if row is None or rec is None:
                raise SpaceNotFound()
            for key, value in changes.items():
                setattr(row, key, value)
            row.updated_at = now
            if "name" in changes:
                rec.name_zh = rec.name_en = changes["name"]
            if "privacy" in changes:
                rec.public = changes["privacy"] == "public"
            if "capacity" in changes:
                rec.capacity = changes["capacity"]

    async def delete_space(self, room_id: str) -> None:
        async with self.db.session() as s, s.begin():
            await s.execute(delete(SocialInviteRow).where(SocialInviteRow.room_id == room_id))
            await s.execute(delete(SocialMemberRow).where(SocialMemberRow.room_id == room_id))
            await s.execute(delete(SocialSpaceRow).where(SocialSpaceRow.room_id == room_id))
            await s.execute(delete(RoomRecord).where(RoomRecord.id == room_id))

    # -- members ------------------------------------------------------------------------------
    async def put_member(self, room_id: str, user_id: str, role: str, via: str,
                         added_by: str | None, invite_id: str | None = None) -> Member:
        now = _now()
        async with self.db.session() as s, s.begin():
            row = await s.get(SocialMemberRow, (room_id, user_id))
            if row is None:
                row = SocialMemberRow(room_id=room_id, user_id=user_id, role=role, via=via,
                                      invite_id=invite_id, added_by=added_by, added_at=now)
                s.add(row)
            else:
                row.role, row.added_by = role, added_by
        return _member(row)

    async def remove_member(self, room_id: str, user_id: str) -> bool:
        async with self.db.session() as s, s.begin():
            res = await s.execute(delete(SocialMemberRow).where(
                SocialMemberRow.room_id == room_id, SocialMemberRow.user_id == user_id))
        return bool(getattr(res, "rowcount", 0))

    # -- invites ------------------------------------------------------------------------------
    async def create_invite(self, room_id: str, created_by: str, token_hash: str, ttl_s: int,
                            max_uses: int | None) -> Invite:
        now = _now()
        row = SocialInviteRow(id=new_id(), room_id=room_id, token_hash=token_hash,
                              created_by=created_by, created_at=now,
                              expires_at=now + ttl_s * 1000, max_uses=max_uses, uses=0)
        async with self.db.session() as s, s.begin():
            s.add(row)
        return _invite(row)

    async def invites(self, room_id: str) -> list[Invite]:
        async with self.db.session() as s:
            rows = (await s.execute(select(SocialInviteRow).where(
                SocialInviteRow.room_id == room_id).order_by(SocialInviteRow.created_at.desc())
                .limit(100))).scalars().all()
        return [_invite(r) for r in rows]

    async def revoke_invite(self, room_id: str, invite_id: str, by: str) -> Invite:
        now = _now()
        async with self.db.session() as s, s.begin():
            row = await s.get(SocialInviteRow, invite_id)
            if row is None or row.room_id != room_id:
                raise InviteUnknown()
            if row.revoked_at is None:
                row.revoked_at, row.revoked_by = now, by
        return _invite(row)

    async def redeem(self, token_hash: str, user_id: str,
                     already_member: Callable[[str], bool]) -> tuple[Invite, Member | None]:
        """Use an invite: the member row it creates (None when ``already_member(room_id)``).

        Revoked and expired invites are refused for everyone; a member coming back with a
        link they already used is let through without using it again."""
        now = _now()
        async with self.db.session() as s, s.begin():
            row = (await s.execute(select(SocialInviteRow).where(
                SocialInviteRow.token_hash == token_hash))).scalar_one_or_none()
            if row is None:
                raise InviteUnknown()
            inv = _invite(row)
            if inv.status(now) in ("revoked", "expired"):
                check_invite(inv, now)
            if already_member(inv.room_id):
                return inv, None
            check_invite(inv, now)
            res = await s.execute(update(SocialInviteRow).where(
                SocialInviteRow.id == inv.id, SocialInviteRow.revoked_at.is_(None),
                SocialInviteRow.expires_at > now,
                or_(SocialInviteRow.max_uses.is_(None),
                    SocialInviteRow.uses < SocialInviteRow.max_uses),
            ).values(uses=SocialInviteRow.uses + 1))
            if not getattr(res, "rowcount", 0):
                await s.refresh(row)
                check_invite(_invite(row), now)  # someone else took the last use
            member = await s.get(SocialMemberRow, (inv.room_id, user_id))
            if member is None:
                member = SocialMemberRow(room_id=inv.room_id, user_id=user_id, role="member",
                                         via="invite", invite_id=inv.id, added_by=inv.created_by,
                                         added_at=now)
                s.add(member)
        return _invite(row), _member(member)

    # -- friends ------------------------------------------------------------------------------
    async def _link(self, s: AsyncSession, a: str, b: str) -> SocialFriendRow | None:
        return await s.get(SocialFriendRow, (a, b))

    async def friend_request(self, a: str, b: str) -> str:
        """``a`` asks ``b``; returns a's new state toward b (``outgoing`` or, when b had
        already asked a, ``accepted``)."""
        now = _now()
        async with self.db.session() as s, s.begin():
            mine, theirs = await self._link(s, a, b), await self._link(s, b, a)
            if mine is not None and mine.state == "accepted":
                return "accepted"
            if mine is not None and mine.state == "incoming" and theirs is not None:
                mine.state = theirs.state = "accepted"
                mine.updated_at = theirs.updated_at = now
                return "accepted"
            if mine is None:
                count = (await s.execute(select(func.count()).select_from(SocialFriendRow)
                                         .where(SocialFriendRow.user_id == a))).scalar_one()
                if count >= MAX_FRIENDS:
                    raise Conflict(f"At most {MAX_FRIENDS} friends.")
                s.add(SocialFriendRow(user_id=a, friend_id=b, state="outgoing", created_at=now,
                                      updated_at=now))
            if theirs is None:
                s.add(SocialFriendRow(user_id=b, friend_id=a, state="incoming", created_at=now,
                                      updated_at=now))
            return "outgoing"

    async def friend_accept(self, a: str, b: str) -> bool:
        """``a`` accepts ``b``'s request; False when there is none."""
        now = _now()
        async with self.db.session() as s, s.begin():
            mine, theirs = await self._link(s, a, b), await self._link(s, b, a)
            if mine is None or theirs is None or mine.state not in ("incoming", "accepted"):
                return False
            mine.state = theirs.state = "accepted"
            mine.updated_at = theirs.updated_at = now
        return True

    async def friend_remove(self, a: str, b: str) -> bool:
        async with self.db.session() as s, s.begin():
            res = await s.execute(delete(SocialFriendRow).where(or_(
                (SocialFriendRow.user_id == a) & (SocialFriendRow.friend_id == b),
                (SocialFriendRow.user_id == b) & (SocialFriendRow.friend_id == a))))
        return bool(getattr(res, "rowcount", 0))

    async def friends(self, user_id: str) -> list[tuple[FriendLink, str]]:
        """Every link of ``user_id`` with the friend's display name."""
        async with self.db.session() as s:
            rows = (await s.execute(
                select(SocialFriendRow, User.display_name)
                .join(User, User.id == SocialFriendRow.friend_id)
                .where(SocialFriendRow.user_id == user_id)
                .order_by(User.display_name))).all()
        return [(FriendLink(r.user_id, r.friend_id, r.state, r.created_at), name)
                for r, name in rows]

    async def friend_state(self, a: str, b: str) -> str | None:
        async with self.db.session() as s:
            row = await self._link(s, a, b)
        return row.state if row is not None else None

    # -- profiles -----------------------------------------------------------------------------
    async def profile(self, user_id: str) -> Profile:
        async with self.db.session() as s:
            row = await s.get(SocialProfileRow, user_id)
        return Profile(row.status, row.share_location) if row is not None else Profile()

    async def set_profile(self, user_id: str, profile: Profile) -> None:
        now = _now()
        async with self.db.session() as s, s.begin():
            row = await s.get(SocialProfileRow, user_id)
            if row is None:
                s.add(SocialProfileRow(user_id=user_id, status=profile.status,
                                       share_location=profile.share_location, updated_at=now))
            else:
                row.status, row.share_location, row.updated_at = (
                    profile.status, profile.share_location, now)
