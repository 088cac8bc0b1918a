"""Canonical form of user text for evasion-resistant term matching.

Each original character is folded on its own (:func:`moderation.fold.fold_char`: width,
case, marks, invisible characters, digits, traditional → simplified, homoglyphs). Then:

* separators (whitespace, punctuation, symbols, emoji) are removed from the text, but each
  canonical character remembers in ``gaps`` what stood before it: nothing, a separator, a
  space, a sentence end. Invisible characters and apostrophes leave no gap at all;
* leetspeak is decoded only inside words that hold Latin letters: a run of at most two digits
  next to a letter (``fr33``, ``b1tc01n``) but not a number with a unit (``3rd``, ``10am``),
  and ``@ $ + €`` anywhere in such a word, ``! |`` only before a letter (``b!tcoin``, but
  ``hello!``). Because ``free!bitcoin`` and ``b!tcoin`` want opposite readings,
  :func:`normalize_views` returns the leet-decoded view and, when it differs, a plain view
  (digits kept, symbols as separators); the term filter matches both;
* ``origin[i]`` is the index in the source of canonical character ``i``, so a match can be
  mapped back to the characters to mask.

Word boundaries (for Latin and digit term edges) are judged on the canonical text: a change
of class (Latin / digit / other) is a boundary; between two characters of the same class only
a gap is, except inside a run of one-character words (``f r e e`` is one word, so ``c l a s s``
does not contain ``ass``). Inside a match, punctuation and symbols are ignored everywhere
(``f.r.e.e``, ``代，开``), but between two real words a hard break (sentence end plus space,
or 。) never is ("Is it free? Bitcoin..." is not "free bitcoin"), and a space between two
Latin words only where the term itself has one ("the pen is" is not "penis"); see
:meth:`Normalized.gaps_ok`.

Limits: the fold is per code point, so sequences NFKC would compose across characters (e.g.
Hangul conjoining jamo) stay apart; homophones, pinyin and split characters (言身寸) are not
handled.
"""

from __future__ import annotations

from dataclasses import dataclass

from moderation.charmap import ENDING_ONLY_LEET, LEET_DIGITS, LEET_SYMBOLS, STOPS
from moderation.fold import (
    DIGIT,
    FOLD_CACHE,
    GAP,
    GAP_BITS,
    GAP_SPACE,
    GAP_STOP,
    LATIN,
    SPACE,
    SYM,
    char_class,
    fold_char,
)

__all__ = [
    "GAP",
    "GAP_SPACE",
    "GAP_STOP",
    "Normalized",
    "canonical",
    "normalize",
    "normalize_views",
]


@dataclass(frozen=True, slots=True)
class Normalized:
    """One canonical view of a source text."""

    source: str
    """The original text."""
    text: str
    """Canonical text: separators removed, characters folded."""
    origin: tuple[int, ...]
    """``origin[i]``: index in ``source`` of the character that produced ``text[i]``."""
    gaps: bytes
    """``gaps[i]``: GAP/GAP_SPACE/GAP_STOP bits for what stood between ``text[i-1]`` and
    ``text[i]`` in the source."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The source span ``[s, e)`` covering canonical ``text[start:end]`` (end > start)."""
        return self.origin[start], self.origin[end - 1] + 1

    def _single(self, j: int) -> bool:
        """True if ``text[j]`` is a one-character word (gaps on both sides)."""
        gaps = self.gaps
        return (j == 0 or gaps[j] != 0) and (j + 1 >= len(gaps) or gaps[j + 1] != 0)

    def boundary(self, pos: int) -> bool:
        """Is there a word boundary before canonical position ``pos``?"""
        text = self.text
        if pos <= 0 or pos >= len(text):
            return True
        left = char_class(text[pos - 1])
        if left != char_class(text[pos]):
            return True
        if not self.gaps[pos]:
            return False
        return left == 0 or not (self._single(pos - 1) and self._single(pos))

    def gaps_ok(self, start: int, end: int, breaks: frozenset[int] = frozenset()) -> bool:
        """May a term spanning canonical ``text[start:end]`` ignore the gaps inside it?

        No if it spans a hard break between two real words; nor a whitespace gap between two
        real Latin words unless the term has a break there (``breaks`` holds offsets from
        ``start``): ``island`` is not in "this is land", ``free bitcoin`` is in "free bitcoin".
        Runs of one-character words (``f r e e``) are exempt from both rules.
        """
        gaps, text = self.gaps, self.text
        for pos in range(start + 1, end):
            gap = gaps[pos]
            if not gap & GAP_SPACE or (self._single(pos - 1) and self._single(pos)):
                continue
            if gap & GAP_STOP:
                return False
            if (
                pos - start not in breaks
                and char_class(text[pos - 1]) == char_class(text[pos]) == 1
            ):
                return False
        return True


def _scan(text: str) -> tuple[list[str], list[int], list[int], list[int], bool]:
    chars: list[str] = []
    origin: list[int] = []
    kinds: list[int] = []
    gaps: list[int] = []
    gap = 0
    leet = False
    cache = FOLD_CACHE
    for i, c in enumerate(text):
        folded = cache.get(c)
        if folded is None:
            folded = fold_char(c)
        for ch, kind in folded:
            if kind >= SPACE:
                gap |= GAP_BITS[kind]
                continue
            if kind == DIGIT or kind == SYM:
                leet = True
            chars.append(ch)
            origin.append(i)
            kinds.append(kind)
            gaps.append(gap)
            gap = 0
    return chars, origin, kinds, gaps, leet


def _groups(gaps: list[int]) -> list[tuple[int, int]]:
    """Words as ``(start, end)``; a run of one-character words counts as one word."""
    n = len(gaps)
    cuts = [j for j in range(1, n) if gaps[j]]
    starts, ends = [0, *cuts], [*cuts, n]
    groups: list[tuple[int, int]] = []
    i = 0
    while i < len(starts):
        s, e = starts[i], ends[i]
        if e - s == 1:
            while i + 1 < len(starts) and ends[i + 1] - starts[i + 1] == 1:
                i += 1
            e = ends[i]
        groups.append((s, e))
        i += 1
    return groups


def _leet(chars: list[str], kinds: list[int], gaps: list[int]) -> list[str | None]:
    """Per character: None keep, "" drop (a symbol read as a separator), else replacement."""
    repl: list[str | None] = [("" if k == SYM else None) for k in kinds]
    for s, e in _groups(gaps):
        if LATIN not in kinds[s:e]:
            continue
        first_letter = kinds.index(LATIN, s, e)
        if not (kinds[s] == DIGIT and DIGIT not in kinds[first_letter:e]):  # not "3rd"
            j = s
            while j < e:
                k = j
                while k < e and kinds[k] == DIGIT:
                    k += 1
                if k - j and k - j <= 2:
                    near = (j > s and kinds[j - 1] in (LATIN, SYM)) or (
                        k < e and kinds[k] in (LATIN, SYM)
                    )
                    if near:
                        for m in range(j, k):
                            repl[m] = LEET_DIGITS.get(chars[m])
                j = k + 1 if k == j else k
        followed = False
        for j in range(e - 1, s - 1, -1):
            kind = kinds[j]
            if kind == SYM:
                ch = chars[j]
                if followed or (ch not in ENDING_ONLY_LEET and LATIN in kinds[s:j]):
                    repl[j] = LEET_SYMBOLS[ch]
                    followed = True
            else:
                followed = kind == LATIN or (kind == DIGIT and repl[j] is not None)
    return repl


def _build(
    source: str, chars: list[str], origin: list[int], gaps: list[int], repl: list[str | None]
) -> Normalized:
    out: list[str] = []
    out_origin: list[int] = []
    out_gaps: list[int] = []
    carry = 0
    for j, ch in enumerate(chars):
        r = repl[j]
        if r == "":
            carry |= gaps[j] | GAP | (GAP_STOP if ch in STOPS else 0)
            continue
        out.append(ch if r is None else r)
        out_origin.append(origin[j])
        out_gaps.append(gaps[j] | carry)
        carry = 0
    return Normalized(source, "".join(out), tuple(out_origin), bytes(out_gaps))


def normalize_views(text: str) -> tuple[Normalized, ...]:
    """The leet-decoded view, plus the plain view when leetspeak decoding changed anything."""
    chars, origin, kinds, gaps, leet = _scan(text)
    if not leet:
        return (Normalized(text, "".join(chars), tuple(origin), bytes(gaps)),)
    plain: list[str | None] = [("" if k == SYM else None) for k in kinds]
    decoded = _leet(chars, kinds, gaps)
    if decoded == plain:
        return (_build(text, chars, origin, gaps, plain),)
    return _build(text, chars, origin, gaps, decoded), _build(text, chars, origin, gaps, plain)


def normalize(text: str) -> Normalized:
    """The leet-decoded canonical view of ``text``."""
    return normalize_views(text)[0]


def canonical(text: str) -> str:
    """Just the canonical string (for duplicate detection and keys)."""
    return normalize_views(text)[0].text
