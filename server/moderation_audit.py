"""Moderation writes and the hash-chained audit log (moderation.audit) in the database.

Every moderation write runs in :meth:`ModerationDb.write`: one transaction, serialised in this
process by a lock and across processes by PostgreSQL's advisory lock (SQLite has one writer;
a lost race there fails on the ``seq`` primary key or a busy database and is retried). Inside,
``tx.audit(...)`` appends the next entry with :func:`moderation.audit.chain_append` and keeps a
signed head (HMAC of ``seq:hash``) in ``mod_meta`` so a truncated tail is detected too.
Hashes are HMAC-SHA256 under a key derived from the server secret, so someone who can edit
the database but does not hold the secret cannot recompute a consistent chain.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from moderation.audit import AuditEntry, VerifyResult, chain_append, verify_chain
from server.db.engine import Database
from server.db.models import AuditRow, ModMeta

__all__ = ["ModerationDb", "Tx", "audit_key", "entry_of", "verify_audit", "audit_entries"]

T = TypeVar("T")
_PG_LOCK = 0x6D6F64  # "mod": one advisory lock for all moderation writers
_HEAD = "audit_head"
PAGE = 1000


def audit_key(secret: str) -> bytes:
    """The audit HMAC key, derived from the server secret (never the secret itself)."""
    return hmac.new(secret.encode(), b"metahall-audit-key-v1", hashlib.sha256).digest()


def _now() -> int:
    return int(time.time() * 1000)


def entry_of(row: AuditRow) -> AuditEntry:
    return AuditEntry(row.seq, row.ts, row.actor_id, row.action, row.target, row.reason,
                      json.loads(row.data), row.prev_hash, row.hash)


def _head_mac(key: bytes | None, seq: int, digest: str) -> str:
    raw = f"{seq}:{digest}".encode()
    return hmac.new(key or b"", raw, hashlib.sha256).hexdigest()


class Tx:
    """One moderation transaction: the session plus audit appends."""

    def __init__(self, session: AsyncSession, key: bytes | None) -> None:
        self.session = session
        self._key = key
        self._last: AuditEntry | None = None
        self._loaded = False
        self.entries: list[AuditEntry] = []

    async def audit(self, actor_id: str, action: str, target: str, reason: str = "",
                    data: dict[str, Any] | None = None, ts: int | None = None) -> AuditEntry:
        """Append the next audit entry (written when the transaction commits)."""
        s = self.session
        if not self._loaded:
            row = (await s.execute(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1))
                   ).scalar_one_or_none()
            self._last = entry_of(row) if row is not None else None
            self._loaded = True
        entry = chain_append(self._last, ts=ts or _now(), actor_id=actor_id[:32],
                             action=action[:24], target=target[:96], reason=reason,
                             data=data or {}, key=self._key)
        s.add(AuditRow(seq=entry.seq, ts=entry.ts, actor_id=entry.actor_id, action=entry.action,
                       target=entry.target, reason=entry.reason,
                       data=json.dumps(entry.data, sort_keys=True, ensure_ascii=False),
                       prev_hash=entry.prev_hash, hash=entry.hash))
        head = json.dumps({"seq": entry.seq, "hash": entry.hash,
                           "mac": _head_mac(self._key, entry.seq, entry.hash)})
        meta = await s.get(ModMeta, _HEAD)
        if meta is None:
            s.add(ModMeta(key=_HEAD, value=head))
        else:
            meta.value = head
        self._last = entry
        self.entries.append(entry)
        return entry


class ModerationDb:
    """Serialised moderation transactions over the app's database."""

    def __init__(self, db: Database, key: bytes | None) -> None:
        self.db = db
        self.key = key
        self._lock = asyncio.Lock()

    async def write(self, fn: Callable[[Tx], Awaitable[T]], retries: int = 6) -> T:
        """Run ``fn(tx)`` in one committed transaction, retrying a lost cross-process race."""
        async with self._lock:
            for attempt in range(retries):
                try:
                    async with self.db.session() as s, s.begin():
                        if not self.db.is_sqlite:
                            await s.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                            {"k": _PG_LOCK})
                        return await fn(Tx(s, self.key))
                except (IntegrityError, OperationalError):
                    if attempt == retries - 1:
                        raise
                    await asyncio.sleep(0.02 * (2 ** attempt))
        raise AssertionError("unreachable")


async def audit_entries(db: Database, after: int = 0, limit: int = PAGE) -> list[AuditEntry]:
    """Entries with ``seq > after`` in order, at most ``limit``."""
    async with db.session() as s:
        rows = (await s.execute(select(AuditRow).where(AuditRow.seq > after)
                                .order_by(AuditRow.seq).limit(limit))).scalars().all()
    return [entry_of(r) for r in rows]


async def verify_audit(db: Database, key: bytes | None,
                       expected_head: str | None = None) -> VerifyResult:
    """Verify the whole chain page by page, then the signed head (detects a cut tail)."""
    prev: AuditEntry | None = None
    checked = 0
    while True:
        page = await audit_entries(db, prev.seq if prev else 0)
        if not page:
            break
        if prev is None and page[0].seq != 1:
            return VerifyResult(False, 1, f"entries 1..{page[0].seq - 1} missing (deleted)",
                                checked, None)
        res = verify_chain(page, after=prev, key=key)
        checked += res.checked
        if not res.ok:
            return VerifyResult(False, res.first_bad_seq, res.problem, checked, res.head)
        prev = page[-1]
    head = prev.hash if prev else None
    async with db.session() as s:
        meta = await s.get(ModMeta, _HEAD)
    if meta is not None:
        signed = json.loads(meta.value)
        if not hmac.compare_digest(str(signed.get("mac", "")),
                                   _head_mac(key, int(signed.get("seq", 0)),
                                             str(signed.get("hash", "")))):
            return VerifyResult(False, int(signed.get("seq", 0)),
                                "the signed head was altered", checked, head)
        if prev is None or signed.get("seq") != prev.seq or signed.get("hash") != prev.hash:
            last = prev.seq if prev else 0
            return VerifyResult(False, last + 1,
                                f"entries after {last} missing (the signed head is at seq "
                                f"{signed.get('seq')})", checked, head)
    elif prev is not None:
        return VerifyResult(False, prev.seq, "the signed head is missing", checked, head)
    if expected_head is not None and head != expected_head:
        return VerifyResult(False, (prev.seq + 1) if prev else 1,
                            "chain does not end at the expected head (truncated or rewritten)",
                            checked, head)
    return VerifyResult(True, None, None, checked, head)
