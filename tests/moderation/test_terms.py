"""Term files, reload, allow-exceptions and the callback forms of the term filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation import (
    ALLOW,
    Block,
    ChatContext,
    DisplayNameContext,
    Flag,
    ModerationCallbacks,
    Redact,
    Severity,
    Term,
    TermFileError,
    TermFilter,
    parse_terms,
)


def chat(text: str) -> ChatContext:
    return ChatContext("u1", "Ann", frozenset({"citizen"}), "hall:main", "room", text)


def test_parse_actions_separators_and_comments() -> None:
    terms = parse_terms(
        ["# comment", "", "刷单", "free bitcoin\tflag", "click here,redact", "hello, world\tallow"]
    )
    assert terms == [
        Term("刷单", "block", 3),
        Term("free bitcoin", "flag", 4),
        Term("click here", "redact", 5),
        Term("hello, world", "allow", 6),
    ]


def test_unknown_action_names_file_and_line() -> None:
    with pytest.raises(TermFileError, match=r"terms\.txt:2: unknown action 'blok'"):
        parse_terms(["ok", "spam\tblok"], source="terms.txt")
    with pytest.raises(TermFileError, match="needs a tab"):
        parse_terms(["hello, world"])


def test_term_that_normalises_to_nothing_is_rejected() -> None:
    with pytest.raises(TermFileError, match="empty after normalisation"):
        TermFilter.from_lines(["!!!\tblock"])


def test_empty_filter_allows_everything() -> None:
    term_filter = TermFilter()
    assert len(term_filter) == 0
    assert term_filter.check("anything") == []
    assert term_filter.verdict("anything") is ALLOW


def test_missing_file_is_a_term_file_error(tmp_path: Path) -> None:
    with pytest.raises(TermFileError, match="cannot read"):
        TermFilter.load(tmp_path / "nope.txt")


def test_reload_swaps_terms_and_keeps_old_ones_on_error(tmp_path: Path) -> None:
    path = tmp_path / "terms.txt"
    path.write_text("spam\n", encoding="utf-8")
    term_filter = TermFilter.load(path)
    assert term_filter.check("buy spam") and not term_filter.check("buy eggs")
    path.write_text("eggs\tflag\n", encoding="utf-8")
    assert term_filter.reload() == 1
    assert not term_filter.check("buy spam") and term_filter.check("buy eggs")
    path.write_text("eggs\tbogus\n", encoding="utf-8")
    with pytest.raises(TermFileError):
        term_filter.reload()
    assert term_filter.check("buy eggs")  # the previous automaton is still in place


def test_reload_without_file_is_an_error() -> None:
    with pytest.raises(TermFileError, match="no term file"):
        TermFilter.from_lines(["x"]).reload()


def test_allow_exception_drops_matches_inside_it() -> None:
    term_filter = TermFilter.from_lines(["刷单", "牙刷单\tallow"])
    assert term_filter.check("牙刷单价") == []
    assert [m.term for m in term_filter.check("牙刷单价，顺便刷单")] == ["刷单"]


def test_space_between_real_words_is_a_word_break() -> None:
    term_filter = TermFilter.from_lines(["island"])
    assert term_filter.check("this is land we own") == []
    assert term_filter.check("i s l a n d") != []
    assert term_filter.check("is-land") != []


def test_term_written_in_traditional_or_leet_matches_plain_text() -> None:
    term_filter = TermFilter.from_lines(["刷單", "b1tcoin"])
    assert {m.term for m in term_filter.check("刷单 bitcoin")} == {"刷單", "b1tcoin"}


def test_many_terms_overlapping_matches_all_reported() -> None:
    term_filter = TermFilter.from_lines(["代开", "开发票", "代开发票"])
    assert [m.term for m in term_filter.check("代开发票")] == ["代开", "代开发票", "开发票"]


async def test_check_chat_verdicts() -> None:
    term_filter = TermFilter.from_lines(
        ["scam\tblock", "dm me\tflag", "dummy\tredact"], flag_severity=Severity.HIGH
    )
    assert await term_filter.check_chat(chat("this is a scam")) == Block(
        "blocked", "term filter (block): scam"
    )
    assert await term_filter.check_chat(chat("dm me")) == Flag(
        "term filter (flag): dm me", Severity.HIGH
    )
    assert await term_filter.check_chat(chat("you dummy")) == Redact(
        "you *****", "term filter (redact): dummy"
    )
    assert await term_filter.check_chat(chat("hello")) is ALLOW


async def test_display_name_with_redact_term_is_blocked() -> None:
    term_filter = TermFilter.from_lines(["dummy\tredact"])
    ctx = DisplayNameContext("u1", frozenset(), "Dummy Dan")
    assert isinstance(await term_filter.check_display_name(ctx), Block)


async def test_register_hooks_into_callbacks() -> None:
    callbacks = ModerationCallbacks()
    TermFilter.from_lines(["scam"]).register(callbacks)
    assert callbacks.registered()["check_chat"] == ("TermFilter.check_chat",)
    assert isinstance(await callbacks.check_chat(chat("s c a m")), Block)


EXAMPLE = TermFilter.load(Path(__file__).resolve().parents[2] / "moderation/data/terms-example.txt")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_matches_are_valid_spans_and_redaction_removes_them(text: str) -> None:
    matches = EXAMPLE.check(text)
    for match in matches:
        assert 0 <= match.start < match.end <= len(text)
    redacted = EXAMPLE.redact(text, [m for m in matches if m.action == "redact"])
    assert not [m for m in EXAMPLE.check(redacted) if m.action == "redact"]
