"""Verdicts are plain data with a strength order and a JSON form."""

from __future__ import annotations

import dataclasses

import pytest

from moderation import (
    ALLOW,
    Block,
    Flag,
    Redact,
    Severity,
    Verdict,
    strongest,
    user_message,
    verdict_kind,
)
from moderation.verdicts import strength, verdict_from_dict, verdict_to_dict


def test_allow_is_a_singleton_sentinel() -> None:
    assert repr(ALLOW) == "ALLOW"
    assert verdict_kind(ALLOW) == "allow"


def test_verdicts_are_frozen_slotted_dataclasses() -> None:
    block = Block("blocked", "spam")
    with pytest.raises(dataclasses.FrozenInstanceError):
        block.code = "x"  # type: ignore[misc]
    assert not hasattr(block, "__dict__")
    assert Flag("x").severity is Severity.MEDIUM


def test_strength_order() -> None:
    verdicts: list[Verdict] = [ALLOW, Redact("t", "r"), Flag("f"), Block("blocked", "b")]
    assert [strength(v) for v in verdicts] == [0, 1, 2, 3]
    assert strongest(verdicts) == Block("blocked", "b")
    assert strongest([Flag("a"), Flag("b")]) == Flag("a")
    assert strongest([]) is ALLOW


@pytest.mark.parametrize(
    "verdict", [ALLOW, Block("blocked", "b"), Flag("f", Severity.HIGH), Redact("t", "r")]
)
def test_dict_round_trip(verdict: Verdict) -> None:
    assert verdict_from_dict(verdict_to_dict(verdict)) == verdict


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown verdict kind"):
        verdict_from_dict({"kind": "maybe"})


def test_user_messages_exist_in_both_languages() -> None:
    assert "频繁" in user_message("rate_limited", "zh-CN")
    assert "often" in user_message("rate_limited", "en")
    assert user_message("unknown_code") == user_message("blocked")
