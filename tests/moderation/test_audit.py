"""Hash-chained audit entries: tampering of every kind is detected."""

from __future__ import annotations

import dataclasses
import json

import pytest

from moderation import (
    GENESIS_HASH,
    AuditEntry,
    AuditSerializationError,
    canonical_bytes,
    chain_append,
    entry_hash,
    verify_chain,
)


def make_chain(n: int = 6, key: bytes | None = None) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = None
    for i in range(n):
        prev = chain_append(
            prev,
            ts=1_700_000_000_000 + i,
            actor_id="mod1",
            action=("warn", "mute", "kick")[i % 3],
            target=f"user{i}",
            reason=f"reason {i} 理由",
            data={"minutes": i, "flag": f"f{i}"},
            key=key,
        )
        entries.append(prev)
    return entries


def test_chain_links_and_verifies() -> None:
    entries = make_chain()
    assert entries[0].seq == 1 and entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    result = verify_chain(entries)
    assert result.ok and bool(result)
    assert (result.first_bad_seq, result.problem, result.checked) == (None, None, 6)
    assert result.head == entries[-1].hash


def test_empty_chain_is_valid() -> None:
    assert verify_chain([]).ok


def test_canonical_serialisation_is_sorted_compact_utf8() -> None:
    raw = canonical_bytes(
        seq=1,
        ts=5,
        actor_id="m",
        action="warn",
        target="u",
        reason="理由",
        data={"b": 1, "a": [1, 2]},
        prev_hash=GENESIS_HASH,
    )
    body = raw.split(b"\n", 1)[1]
    assert body.decode("utf-8") == json.dumps(
        {
            "action": "warn",
            "actor_id": "m",
            "data": {"a": [1, 2], "b": 1},
            "prev_hash": GENESIS_HASH,
            "reason": "理由",
            "seq": 1,
            "target": "u",
            "ts": 5,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert "理由".encode() in raw


def test_edit_is_detected() -> None:
    entries = make_chain()
    entries[2] = dataclasses.replace(entries[2], reason="nothing happened")
    result = verify_chain(entries)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "edited" in (result.problem or "")


def test_edit_inside_data_is_detected() -> None:
    entries = make_chain()
    entries[1].data["minutes"] = 999  # type: ignore[index]
    assert verify_chain(entries).first_bad_seq == 2


def test_deletion_is_detected() -> None:
    entries = make_chain()
    del entries[3]
    result = verify_chain(entries)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "missing" in (result.problem or "")


def test_deletion_with_renumbering_is_detected() -> None:
    entries = make_chain()
    del entries[3]
    entries[3:] = [dataclasses.replace(e, seq=e.seq - 1) for e in entries[3:]]
    result = verify_chain(entries)
    assert (result.ok, result.first_bad_seq) == (False, 4)


def test_reordering_is_detected() -> None:
    entries = make_chain()
    entries[2], entries[3] = entries[3], entries[2]
    result = verify_chain(entries)
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_insertion_is_detected() -> None:
    entries = make_chain()
    forged = chain_append(entries[1], ts=1, actor_id="mallory", action="ban", target="victim")
    entries.insert(2, forged)  # a well-formed entry with seq 3 after entry 2...
    result = verify_chain(entries)
    assert (result.ok, result.first_bad_seq) == (False, 4)  # ...breaks the original seq 3


def test_full_rewrite_is_caught_only_by_an_anchor_or_a_key() -> None:
    entries = make_chain()
    head = entries[-1].hash
    rewritten = [entries[0]]
    for e in entries[1:]:
        rewritten.append(
            chain_append(
                rewritten[-1],
                ts=e.ts,
                actor_id=e.actor_id,
                action=e.action,
                target=e.target,
                reason="edited",
                data=e.data,
            )
        )
    assert verify_chain(rewritten).ok  # self-consistent...
    anchored = verify_chain(rewritten, expected_head=head)
    assert not anchored.ok and "expected head" in (anchored.problem or "")
    keyed = make_chain(key=b"secret")
    assert verify_chain(keyed, key=b"secret").ok
    assert verify_chain(keyed).first_bad_seq == 1  # hashes need the key


def test_truncation_is_caught_by_expected_head() -> None:
    entries = make_chain()
    assert not verify_chain(entries[:-2], expected_head=entries[-1].hash).ok


def test_segment_verification_after_a_trusted_entry() -> None:
    entries = make_chain()
    assert verify_chain(entries[3:], after=entries[2]).ok
    assert verify_chain(entries[3:]).first_bad_seq == 1


def test_round_trip_through_dict() -> None:
    entries = make_chain()
    again = [AuditEntry.from_dict(json.loads(json.dumps(e.to_dict()))) for e in entries]
    assert again == entries and verify_chain(again).ok
    assert entry_hash(again[0]) == entries[0].hash


def test_data_must_be_json() -> None:
    with pytest.raises(AuditSerializationError):
        chain_append(None, ts=1, actor_id="m", action="warn", target="u", data={"x": object()})
    with pytest.raises(AuditSerializationError):
        chain_append(None, ts=1, actor_id="m", action="warn", target="u", data={"x": float("nan")})
