"""Social spaces on a fresh PostgreSQL database: migration 0005, and the last use of an invite
taken by exactly one of several people redeeming it at once (also on SQLite)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from rooms.social.errors import InviteUsedUp
from rooms.social.rules import new_token, token_hash
from server.auth.service import AccountService
from server.db.engine import Database
from server.social_store import SqlSocialStore
from tests.helpers import requires_service
from tests.pg import fresh_database, postgres_available


async def race(url: str) -> None:
    db = Database(url)
    await db.migrate()
    try:
        accounts = AccountService(db)
        users = [await accounts.register(f"u{uuid.uuid4().hex[:8]}", "correct-horse-9", f"U{i}")
                 for i in range(6)]
        store = SqlSocialStore(db)
        room = "social:s-" + uuid.uuid4().hex[:10]
        await store.create_space(room, users[0].id, {"name": "Race", "description": "",
                                                     "capacity": 10, "privacy": "private",
                                                     "overflow": "instance"})
        token = new_token()
        await store.create_invite(room, users[0].id, token_hash(token), 600, max_uses=2)
        results = await asyncio.gather(
            *(store.redeem(token_hash(token), u.id, lambda _room: False) for u in users[1:]),
            return_exceptions=True)
        won = [r for r in results if not isinstance(r, BaseException)]
        lost = [r for r in results if isinstance(r, BaseException)]
        assert len(won) == 2 and all(isinstance(e, InviteUsedUp) for e in lost), results
        space = await store.load_space(room)
        assert space is not None and len(space.members) == 2
        assert (await store.invites(room))[0].uses == 2
        await store.delete_space(room)
        assert await store.load_space(room) is None
    finally:
        await db.close()


async def test_invite_uses_are_never_overdrawn_on_sqlite(tmp_path: Path) -> None:
    await race(f"sqlite+aiosqlite:///{tmp_path / 'race.db'}")


@pytest.mark.postgres
@requires_service("PostgreSQL", postgres_available())
async def test_invite_uses_are_never_overdrawn_on_postgresql() -> None:
    async with fresh_database() as url:
        await race(url)
