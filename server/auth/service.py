"""Account operations against the database: guests, registration, login, lookups, roles."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from rooms.errors import AuthError, BadRequest, Conflict, NotFound
from rooms.payloads import clean_text
from server.auth.passwords import DUMMY_HASH, hash_password, verify_password
from server.auth.roles import ROLES, parse_roles
from server.db.engine import Database
from server.db.models import User

__all__ = ["UserInfo", "AccountService", "USERNAME_RE"]

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
WRONG_CREDENTIALS = "Wrong username or password."


@dataclass(frozen=True, slots=True)
class UserInfo:
    """What the rest of the server knows about a signed-in user."""

    id: str
    display_name: str
    roles: tuple[str, ...]
    token_version: int = 0
    is_guest: bool = False

    @classmethod
    def from_row(cls, user: User) -> UserInfo:
        return cls(user.id, user.display_name, tuple(parse_roles(user.roles)), user.token_version,
                   user.is_guest)

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "display_name": self.display_name, "roles": list(self.roles)}


def clean_display_name(value: object) -> str:
    return clean_text(value, "display_name", min_visible=1, max_len=32)


def _clean_password(value: object) -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= 256:
        raise BadRequest("password must be 8..256 characters", field="password")
    return value


def _clean_username(value: object) -> str:
    if not isinstance(value, str) or not USERNAME_RE.match(value):
        raise BadRequest("username must be 3..32 of A-Z a-z 0-9 _ . -", field="username")
    return value.lower()


NameGate = Callable[[str, tuple[str, ...], str], Awaitable[None]]


async def _any_name(_user_id: str, _roles: tuple[str, ...], _name: str) -> None:
    return None


class AccountService:
    def __init__(self, db: Database, name_gate: NameGate = _any_name) -> None:
        self.db = db
        self.name_gate = name_gate
        """Moderation's display-name check; raises to refuse a name."""

    async def create_guest(self, display_name: object) -> UserInfo:
        name = clean_display_name(display_name)
        await self.name_gate("", ("citizen",), name)
        async with self.db.session() as s, s.begin():
            user = User(display_name=name, roles="citizen", is_guest=True)
            s.add(user)
        return UserInfo.from_row(user)

    async def register(
        self, username: object, password: object, display_name: object, roles: str = "citizen"
    ) -> UserInfo:
        uname = _clean_username(username)
        pw = _clean_password(password)
        name = clean_display_name(display_name if display_name is not None else username)
        if not parse_roles(roles):
            raise BadRequest(f"role must be one of {', '.join(ROLES)}", field="role")
        await self.name_gate("", tuple(parse_roles(roles)), name)
        hashed = await hash_password(pw)
        try:
            async with self.db.session() as s, s.begin():
                user = User(username=uname, password_hash=hashed, display_name=name, roles=roles)
                s.add(user)
        except IntegrityError as exc:
            raise Conflict("That username is taken.", field="username") from exc
        return UserInfo.from_row(user)

    async def login(self, username: object, password: object) -> UserInfo:
        if not isinstance(username, str) or not isinstance(password, str) or len(password) > 256:
            raise AuthError(WRONG_CREDENTIALS)
        async with self.db.session() as s:
            user = (
                await s.execute(select(User).where(User.username == username.lower()))
            ).scalar_one_or_none()
        # Verify against a dummy hash for unknown users so the answer takes the same time.
        ok = await verify_password(password, user.password_hash if user and user.password_hash
                                   else DUMMY_HASH)
        if user is None or not ok:
            raise AuthError(WRONG_CREDENTIALS)
        return UserInfo.from_row(user)

    async def get(self, user_id: str) -> UserInfo | None:
        async with self.db.session() as s:
            user = await s.get(User, user_id)
        return UserInfo.from_row(user) if user else None

    async def by_username(self, username: str) -> UserInfo | None:
        async with self.db.session() as s:
            user = (
                await s.execute(select(User).where(User.username == username.lower()))
            ).scalar_one_or_none()
        return UserInfo.from_row(user) if user else None

    async def set_roles(self, username: str, roles: list[str]) -> UserInfo:
        bad = [r for r in roles if r not in ROLES]
        if bad or not roles:
            raise BadRequest(f"role must be one of {', '.join(ROLES)}", field="role")
        async with self.db.session() as s, s.begin():
            user = (
                await s.execute(select(User).where(User.username == username.lower()))
            ).scalar_one_or_none()
            if user is None:
                raise NotFound(f"No user named {username!r}.")
            new = ",".join(dict.fromkeys(roles))
            if set(parse_roles(user.roles)) - set(roles):
                # A role was taken away: tokens issued with it stop working at once.
                user.token_version += 1
            user.roles = new
        return UserInfo.from_row(user)

    async def revoke(self, user_id: str) -> int:
        """Invalidate every token of the user (logout everywhere); the new token_version."""
        async with self.db.session() as s, s.begin():
            user = await s.get(User, user_id)
            if user is None:
                raise NotFound("No such user.")
            user.token_version += 1
            return int(user.token_version)

    async def change_password(self, user_id: str, old: object, new: object) -> UserInfo:
        """Check the current password, store the new one and revoke every older token."""
        if not isinstance(new, str) or not 8 <= len(new) <= 256:
            raise BadRequest("new_password must be 8..256 characters", field="new_password")
        pw = new
        async with self.db.session() as s:
            user = await s.get(User, user_id)
        if user is None or not user.password_hash or not isinstance(old, str) \
                or len(old) > 256 or not await verify_password(old, user.password_hash):
            raise AuthError(WRONG_CREDENTIALS)
        hashed = await hash_password(pw)
        async with self.db.session() as s, s.begin():
            row = await s.get(User, user_id)
            if row is None:
                raise AuthError(WRONG_CREDENTIALS)
            row.password_hash = hashed
            row.token_version += 1
        return UserInfo.from_row(row)

    async def count(self) -> int:
        async with self.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(User))).scalar_one())
