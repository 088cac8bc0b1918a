"""Zero false positives on ordinary chat, for the example terms and thousands of trap terms."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from moderation import Term, TermFilter, canonical, read_terms

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "data" / "normal_chat.txt"
EXAMPLE_TERMS = HERE.parents[1] / "moderation" / "data" / "terms-example.txt"


def corpus() -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _words(line: str) -> list[str]:
    return [canonical(w) for w in re.split(r"[^\w']+", line) if canonical(w)]


def trap_terms(lines: list[str], seed: int = 20240601) -> list[Term]:
    """Terms built to catch naive substring matching: pieces of corpus words, pieces that
    straddle two words, and CJK strings made of the corpus's own characters."""
    rng = random.Random(seed)
    latin_words = [w for line in lines for w in _words(line) if re.fullmatch(r"[a-z]+", w)]
    vocabulary = set(latin_words)
    phrases = {
        "".join(ws[i : i + n])
        for line in lines
        for ws in [_words(line)]
        for n in (2, 3)
        for i in range(len(ws))
    }
    traps: set[str] = set()
    for word in latin_words:  # inner pieces, prefixes and suffixes of real words
        for size in (3, 4, 5):
            for start in range(0, len(word) - size + 1):
                piece = word[start : start + size]
                if piece not in vocabulary and piece not in phrases:
                    traps.add(piece)
    for line in lines:  # pieces straddling a word gap but cutting into a word
        ws = [w for w in _words(line) if re.fullmatch(r"[a-z]+", w)]
        for left, right in zip(ws, ws[1:], strict=False):
            if len(left) > 2 and len(right) > 2:
                traps.add(left[-2:] + right[:2])
    traps -= vocabulary
    joined = "\n".join(canonical(line) for line in lines)
    cjk = sorted({ch for ch in joined if "\u4e00" <= ch <= "\u9fff"})
    while len([t for t in traps if not t.isascii()]) < 3000:
        candidate = "".join(rng.choice(cjk) for _ in range(rng.choice((2, 3, 4))))
        if candidate not in joined:
            traps.add(candidate)
    traps -= {canonical(t.text) for t in read_terms(EXAMPLE_TERMS)}
    return [Term(t, rng.choice(("block", "flag", "redact"))) for t in sorted(traps)]


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return corpus()


def test_corpus_has_at_least_200_lines_in_both_languages(lines: list[str]) -> None:
    assert len(lines) >= 200
    assert sum(1 for line in lines if re.search(r"[\u4e00-\u9fff]", line)) >= 80
    assert sum(1 for line in lines if re.search(r"[A-Za-z]{3}", line)) >= 80


def test_example_terms_have_no_false_positive(lines: list[str]) -> None:
    terms = TermFilter.load(EXAMPLE_TERMS)
    hits = {line: terms.check(line) for line in lines}
    assert {line: m for line, m in hits.items() if m} == {}


def test_thousands_of_trap_terms_have_no_false_positive(lines: list[str]) -> None:
    terms = read_terms(EXAMPLE_TERMS) + trap_terms(lines)
    assert len(terms) > 5000
    term_filter = TermFilter(terms)
    hits = {line: [m.term for m in term_filter.check(line)] for line in lines}
    false_positives = {line: m for line, m in hits.items() if m}
    assert false_positives == {}, f"false-positive rate {len(false_positives)}/{len(lines)}"


def test_trap_terms_do_match_when_written_as_words(lines: list[str]) -> None:
    """The traps are live: the same filter finds them as standalone words."""
    traps = [t for t in trap_terms(lines) if t.text.isascii()][:200]
    term_filter = TermFilter(traps)
    for term in traps:
        assert term.text in {m.term for m in term_filter.check(f"look: {term.text}!")}
