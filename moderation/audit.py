"""Hash-chained audit log entries: pure functions, no storage.

Each entry's ``hash`` covers its canonical serialisation - sorted-key, compact JSON of every
field but ``hash`` (``prev_hash`` included), UTF-8, prefixed by ``metahall-audit-v1\\n`` - so
changing, removing, reordering or inserting an entry breaks the chain at that point:

* an edited field no longer matches the entry's ``hash``;
* a deleted entry leaves a gap in ``seq`` and a ``prev_hash`` pointing at nothing;
* reordered or inserted entries break ``seq`` order and the ``prev_hash`` links.

Plain SHA-256 makes the log tamper-*evident* only against someone who cannot also recompute
every later hash. Two defences, both optional: pass a secret ``key`` (then the hashes are
HMAC-SHA256 and cannot be forged without it), and/or keep the latest head hash somewhere the
database writer cannot change (another store, a signed daily digest) and pass it as
``expected_head``, which also detects truncation of the tail.

``ts`` is Unix ms (an int, so the serialisation is exact); ``data`` must be JSON (no NaN) and
is deep-copied into plain JSON types when an entry is made.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from moderation.errors import AuditSerializationError

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "VerifyResult",
    "canonical_bytes",
    "chain_append",
    "entry_hash",
    "verify_chain",
]

GENESIS_HASH: Final = "0" * 64
"""``prev_hash`` of the first entry (``seq`` 1)."""
_PREFIX: Final = b"metahall-audit-v1\n"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited moderation action."""

    seq: int
    """1-based position in the chain."""
    ts: int
    """When, Unix ms."""
    actor_id: str
    """Moderator user id, or ``system`` for automatic actions."""
    action: str
    """``warn``, ``mute``, ``kick``, ``ban``, ``redact``, ``lock_room``, ``erase``..."""
    target: str
    """User, message or room id acted on."""
    reason: str
    """Why, as entered by the moderator or produced by the check."""
    data: Mapping[str, Any]
    """Extra JSON details (duration, flag id, verdict...)."""
    prev_hash: str
    """``hash`` of the previous entry, ``GENESIS_HASH`` for the first."""
    hash: str
    """Hex digest of this entry's canonical bytes."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for storage (a DB row, JSON lines)."""
        return {
            "seq": self.seq,
            "ts": self.ts,
            "actor_id": self.actor_id,
            "action": self.action,
            "target": self.target,
            "reason": self.reason,
            "data": dict(self.data),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> AuditEntry:
        """Inverse of :meth:`to_dict`."""
        return cls(
            int(row["seq"]),
            int(row["ts"]),
            str(row["actor_id"]),
            str(row["action"]),
            str(row["target"]),
            str(row["reason"]),
            dict(row["data"]),
            str(row["prev_hash"]),
            str(row["hash"]),
        )


def _json(value: object) -> str:
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise AuditSerializationError(f"audit data is not canonical JSON: {exc}") from exc


def canonical_bytes(
    *,
    seq: int,
    ts: int,
    actor_id: str,
    action: str,
    target: str,
    reason: str,
    data: Mapping[str, Any],
    prev_hash: str,
) -> bytes:
    """The exact bytes an entry's hash covers."""
    payload = {
        "seq": seq,
        "ts": ts,
        "actor_id": actor_id,
        "action": action,
        "target": target,
        "reason": reason,
        "data": data,
        "prev_hash": prev_hash,
    }
    return _PREFIX + _json(payload).encode("utf-8")


def entry_hash(entry: AuditEntry, *, key: bytes | None = None) -> str:
    """Recompute ``entry``'s hash from its fields (SHA-256, or HMAC-SHA256 with ``key``)."""
    raw = canonical_bytes(
        seq=entry.seq,
        ts=entry.ts,
        actor_id=entry.actor_id,
        action=entry.action,
        target=entry.target,
        reason=entry.reason,
        data=entry.data,
        prev_hash=entry.prev_hash,
    )
    if key is not None:
        return hmac.new(key, raw, hashlib.sha256).hexdigest()
    return hashlib.sha256(raw).hexdigest()


def chain_append(
    prev: AuditEntry | None,
    *,
    ts: int,
    actor_id: str,
    action: str,
    target: str,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
    key: bytes | None = None,
) -> AuditEntry:
    """The entry following ``prev`` (``None`` starts a chain at ``seq`` 1)."""
    plain_data: dict[str, Any] = json.loads(_json(dict(data or {})))  # deep copy, JSON types
    draft = AuditEntry(
        seq=1 if prev is None else prev.seq + 1,
        ts=int(ts),
        actor_id=actor_id,
        action=action,
        target=target,
        reason=reason,
        data=plain_data,
        prev_hash=GENESIS_HASH if prev is None else prev.hash,
        hash="",
    )
    return AuditEntry(
        draft.seq,
        draft.ts,
        draft.actor_id,
        draft.action,
        draft.target,
        draft.reason,
        draft.data,
        draft.prev_hash,
        entry_hash(draft, key=key),
    )


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of :func:`verify_chain`; truthy when the chain is intact."""

    ok: bool
    """True if every check passed."""
    first_bad_seq: int | None
    """The first sequence number at which the chain is broken (None when ok)."""
    problem: str | None
    """What is wrong there, for the operator (None when ok)."""
    checked: int = 0
    """Entries examined."""
    head: str | None = None
    """Hash of the last entry examined (store it as the next ``expected_head``)."""

    def __bool__(self) -> bool:
        return self.ok


def verify_chain(
    entries: Iterable[AuditEntry],
    *,
    after: AuditEntry | None = None,
    expected_head: str | None = None,
    key: bytes | None = None,
) -> VerifyResult:
    """Check ``entries`` in the order given.

    ``after`` is a trusted entry just before the first one (to verify a segment); without it
    the chain must start at ``seq`` 1 with ``GENESIS_HASH``. ``expected_head`` is the hash the
    last entry must have.
    """
    expected_seq = 1 if after is None else after.seq + 1
    prev_hash = GENESIS_HASH if after is None else after.hash
    checked = 0
    for entry in entries:
        checked += 1
        problem: str | None = None
        bad = expected_seq
        if entry.seq > expected_seq:
            problem = f"entries {expected_seq}..{entry.seq - 1} missing (deleted)"
        elif entry.seq < expected_seq:
            problem = f"seq {entry.seq} where {expected_seq} was expected (reordered or inserted)"
        elif not hmac.compare_digest(entry_hash(entry, key=key), entry.hash):
            problem = "hash does not match the entry's fields (edited)"
        elif entry.prev_hash != prev_hash:
            problem = "prev_hash does not link to the previous entry (inserted or replaced)"
        if problem is not None:
            return VerifyResult(False, bad, problem, checked, prev_hash)
        expected_seq += 1
        prev_hash = entry.hash
    if expected_head is not None and prev_hash != expected_head:
        problem = "chain does not end at the expected head (truncated or rewritten)"
        return VerifyResult(False, expected_seq, problem, checked, prev_hash)
    return VerifyResult(True, None, None, checked, prev_hash)
