"""Password hashing with passlib's argon2, off the event loop."""

from __future__ import annotations

import asyncio

from passlib.context import CryptContext

__all__ = ["hash_password", "verify_password", "DUMMY_HASH"]

# OWASP's argon2id minimum (19 MiB, t=2, p=1): strong, yet a login costs ~30 ms, not ~300.
_ctx = CryptContext(
    schemes=["argon2"],
    argon2__type="ID",
    argon2__memory_cost=19456,
    argon2__time_cost=2,
    argon2__parallelism=1,
)
DUMMY_HASH = _ctx.hash("metahall-dummy-password")
"""Verified against when the user is unknown, so timing does not tell which part was wrong."""


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_ctx.hash, password)


async def verify_password(password: str, hashed: str) -> bool:
    try:
        return await asyncio.to_thread(_ctx.verify, password, hashed)
    except (ValueError, TypeError):
        return False
