"""Chinese- and English-aware term filter on top of :mod:`moderation.normalize`.

The term-file format is described in :mod:`moderation.termfile`.

Terms are normalised exactly like text, so a term may itself be written in traditional
characters, full width or leet. A term edge that is a Latin letter or a digit must fall on a
word boundary of the text (``ass`` matches ``a.s.s`` but not ``class`` or ``assessment``); CJK
edges match anywhere, which is why ``allow`` exceptions exist (牙刷单价 contains 刷单).
All terms go into one Aho-Corasick automaton (pyahocorasick), so the cost per message barely
depends on the number of terms. :meth:`TermFilter.reload` builds a new automaton and swaps it
in with one assignment; a bad file leaves the old one in place.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import ahocorasick

from moderation.charmap import WILD
from moderation.context import ChatContext, DisplayNameContext
from moderation.errors import TermFileError
from moderation.fold import char_class
from moderation.normalize import normalize_views
from moderation.termfile import Action, Term, parse_terms, read_terms
from moderation.verdicts import ALLOW, Block, Flag, Redact, Severity, Verdict

if TYPE_CHECKING:
    from moderation.callbacks import ModerationCallbacks

__all__ = ["Match", "TermFilter"]

_MAX_WILD: Final = 6  # expand i/l wildcards at the first 6 positions of a term at most


@dataclass(frozen=True, slots=True)
class Match:
    """A term found in a text; ``start``/``end`` index the *original* text."""

    term: str
    """The matched term as written in the list."""
    action: Action
    """The term's action."""
    start: int
    """First original character of the match."""
    end: int
    """One past the last original character of the match."""


@dataclass(frozen=True, slots=True)
class _Entry:
    term: Term
    length: int
    check_start: bool
    check_end: bool
    breaks: frozenset[int]  # offsets where the term itself has a gap ("free|bitcoin")


def _wild_variants(key: str) -> set[str]:
    """``key`` with each i, l or WILD (up to _MAX_WILD of them) also as WILD / i / l."""
    variants = {key}
    positions = [i for i, ch in enumerate(key) if ch in ("i", "l", WILD)][:_MAX_WILD]
    for pos in positions:
        options = ("i", "l", WILD) if key[pos] == WILD else (key[pos], WILD)
        variants = {v[:pos] + o + v[pos + 1 :] for v in variants for o in options}
    return variants


def _utf8(text: str) -> str:
    """``text``'s UTF-8 bytes as a latin-1 str. pyahocorasick scans a trie node's children
    linearly, so with thousands of CJK terms the root's fan-out made every character cost
    ~0.5 µs; over bytes every fan-out is at most 256 (10,000 terms: 11 µs → 1 µs a message).
    UTF-8 is self-synchronising, so byte matches of whole terms start and end on characters."""
    return text.encode("utf-8").decode("latin-1")


class _Index:
    """An immutable compiled term list."""

    def __init__(self, terms: list[Term], source: str) -> None:
        self.terms = tuple(terms)
        keyed: dict[str, list[_Entry]] = {}
        for term in terms:
            for view in normalize_views(term.text):
                key = view.text
                if not key:
                    msg = "term is empty after normalisation"
                    raise TermFileError(msg, source=source, line=term.line)
                breaks = frozenset(i for i, gap in enumerate(view.gaps) if i and gap)
                edges = char_class(key[0]) != 0, char_class(key[-1]) != 0
                entry = _Entry(term, len(key), *edges, breaks)
                for variant in _wild_variants(key):
                    entries = keyed.setdefault(variant, [])
                    if entry not in entries:
                        entries.append(entry)
        self.automaton: ahocorasick.Automaton | None = None
        if keyed:
            automaton = ahocorasick.Automaton()
            for key, entries in keyed.items():
                automaton.add_word(_utf8(key), tuple(entries))
            automaton.make_automaton()
            self.automaton = automaton

    def find(self, text: str) -> list[Match]:
        if self.automaton is None or not text:
            return []
        found: dict[tuple[str, str, int, int], Match] = {}
        for view in normalize_views(text):
            encoded = _utf8(view.text)
            ascii_only = len(encoded) == len(view.text)
            for last, entries in self.automaton.iter(encoded):
                end = last + 1
                if not ascii_only:  # byte offset → character offset
                    end = len(encoded[:end].encode("latin-1").decode("utf-8"))
                for entry in entries:
                    start = end - entry.length
                    if entry.check_start and not view.boundary(start):
                        continue
                    if entry.check_end and not view.boundary(end):
                        continue
                    if not view.gaps_ok(start, end, entry.breaks):
                        continue
                    s, e = view.span(start, end)
                    match = Match(entry.term.text, entry.term.action, s, e)
                    found.setdefault((match.term, match.action, s, e), match)
        allowed = [(m.start, m.end) for m in found.values() if m.action == "allow"]
        kept = [
            m
            for m in found.values()
            if m.action != "allow" and not any(a <= m.start and m.end <= b for a, b in allowed)
        ]
        return sorted(kept, key=lambda m: (m.start, m.end, m.term))


class TermFilter:
    """Finds listed terms in text and turns them into verdicts; see the module docstring."""

    def __init__(
        self,
        terms: Iterable[Term] = (),
        *,
        path: str | Path | None = None,
        source: str = "<lines>",
        flag_severity: Severity = Severity.MEDIUM,
        mask: str = "*",
    ) -> None:
        """``path`` is the file :meth:`reload` re-reads; ``mask`` replaces redacted chars."""
        self._path = Path(path) if path is not None else None
        self._source = str(path) if path is not None else source
        self._index = _Index(list(terms), self._source)
        self.flag_severity = flag_severity
        self.mask = mask

    @classmethod
    def load(
        cls, path: str | Path, *, flag_severity: Severity = Severity.MEDIUM, mask: str = "*"
    ) -> TermFilter:
        """A filter for the term file at ``path``; :meth:`reload` re-reads it."""
        return cls(read_terms(path), path=path, flag_severity=flag_severity, mask=mask)

    @classmethod
    def from_lines(
        cls,
        lines: Iterable[str],
        *,
        source: str = "<lines>",
        flag_severity: Severity = Severity.MEDIUM,
        mask: str = "*",
    ) -> TermFilter:
        """A filter for term-file lines held in memory."""
        terms = parse_terms(lines, source=source)
        return cls(terms, source=source, flag_severity=flag_severity, mask=mask)

    def reload(self) -> int:
        """Re-read the file and swap the automaton atomically; returns the number of terms."""
        if self._path is None:
            raise TermFileError("no term file to reload", source=self._source)
        self.replace_terms(read_terms(self._path))
        return len(self)

    def replace_terms(self, terms: Iterable[Term]) -> None:
        """Compile ``terms`` and swap them in (e.g. a list kept in the database)."""
        self._index = _Index(list(terms), self._source)

    @property
    def terms(self) -> tuple[Term, ...]:
        """The compiled terms, in list order."""
        return self._index.terms

    def __len__(self) -> int:
        return len(self._index.terms)

    def check(self, text: str) -> list[Match]:
        """Every match of a non-allow term in ``text``, ordered by position."""
        return self._index.find(text)

    def redact(self, text: str, matches: Iterable[Match] | None = None) -> str:
        """``text`` with the matched characters (default: all matches) masked.

        Whitespace inside a match is kept and invisible characters are removed, so
        ``f r e e`` becomes ``* * * *``.
        """
        spans = sorted((m.start, m.end) for m in (self.check(text) if matches is None else matches))
        if not spans:
            return text
        out: list[str] = []
        pos = 0
        for start, end in spans:
            start = max(start, pos)
            out.append(text[pos:start])
            for ch in text[start:end]:
                if ch.isspace():
                    out.append(ch)
                elif unicodedata.category(ch) not in ("Cf", "Mn", "Me"):
                    out.append(self.mask)
            pos = max(pos, end)
        out.append(text[pos:])
        return "".join(out)

    def verdict(self, text: str) -> Verdict:
        """The strongest verdict for ``text``: block > flag > redact > ALLOW."""
        matches = self.check(text)
        for action in ("block", "flag", "redact"):
            terms = sorted({m.term for m in matches if m.action == action})
            if not terms:
                continue
            reason = f"term filter ({action}): " + ", ".join(terms[:5])
            if action == "block":
                return Block("blocked", reason)
            if action == "flag":
                return Flag(reason, self.flag_severity)
            return Redact(self.redact(text, matches), reason)
        return ALLOW

    async def check_chat(self, ctx: ChatContext) -> Verdict:
        """``check_chat`` callback: :meth:`verdict` of the message text."""
        return self.verdict(ctx.text)

    async def check_display_name(self, ctx: DisplayNameContext) -> Verdict:
        """``check_display_name`` callback: a name is never redacted, so redact terms block."""
        verdict = self.verdict(ctx.text)
        return Block("blocked", verdict.reason) if isinstance(verdict, Redact) else verdict

    def register(self, api: ModerationCallbacks) -> None:
        """Register :meth:`check_chat` and :meth:`check_display_name` on ``api``."""
        api.register_callbacks(
            check_chat=self.check_chat, check_display_name=self.check_display_name
        )
