"""Per-character fold: one source code point → canonical characters with their kinds.

Pipeline for one code point: NFKC (full width, math and circled letters, compatibility
ideographs) → upper-case homoglyphs or casefold → NFD, drop combining marks, format and
invisible characters and apostrophes → NFC → decimal digits of any script to ASCII →
traditional → simplified Chinese → lower-case homoglyphs (tables in ``moderation.charmap``).
Each output character gets a *kind*: a kept letter/digit/leet symbol, or a separator whose
``GAP*`` bits :mod:`moderation.normalize` records between canonical characters.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from moderation.charmap import (
    HARD_STOPS,
    HOMOGLYPHS,
    INVISIBLE,
    JOINERS,
    LEET_SYMBOLS,
    STOPS,
    T2S,
    UPPER_HOMOGLYPHS,
    WILD,
)

__all__ = [
    "DIGIT",
    "FOLD_CACHE",
    "GAP",
    "GAP_BITS",
    "GAP_SPACE",
    "GAP_STOP",
    "HARD",
    "LATIN",
    "OTHER",
    "SPACE",
    "SYM",
    "Folded",
    "char_class",
    "fold_char",
]

LATIN, DIGIT, OTHER, SYM = 1, 2, 3, 4  # kinds of kept characters
SPACE, STOP, HARDSTOP, SEP = 8, 9, 10, 11  # kinds of separators (>= SPACE)
GAP: Final = 1
"""Gap bit: at least one separator stood before this character."""
GAP_SPACE: Final = 2
"""Gap bit: the separators included whitespace."""
GAP_STOP: Final = 4
"""Gap bit: the separators included a sentence end."""
HARD: Final = GAP_SPACE | GAP_STOP
GAP_BITS: Final = {
    SPACE: GAP | GAP_SPACE,
    STOP: GAP | GAP_STOP,
    HARDSTOP: GAP | HARD,
    SEP: GAP,
}
_DROPPED: Final = frozenset({"Mn", "Me", "Cf"})

Folded = tuple[tuple[str, int], ...]
FOLD_CACHE: dict[str, Folded] = {}
"""Memo of the pure function :func:`fold_char` (bounded); hot loops may ``.get`` it first."""
_FOLD_CACHE_MAX: Final = 1 << 16


def char_class(ch: str) -> int:
    """1 for a canonical Latin letter (a-z or WILD), 2 for a digit, 0 for anything else."""
    if "a" <= ch <= "z" or ch == WILD:
        return 1
    return 2 if "0" <= ch <= "9" else 0


def _kind(ch: str) -> int:
    if "a" <= ch <= "z":
        return LATIN
    if "0" <= ch <= "9":
        return DIGIT
    if ch in LEET_SYMBOLS:
        return SYM
    if ch in HARD_STOPS:
        return HARDSTOP
    if ch in STOPS:
        return STOP
    if ch.isspace():
        return SPACE
    return OTHER if unicodedata.category(ch)[0] in "LN" else SEP


def _fold(c: str) -> Folded:
    cat = unicodedata.category(c)
    if cat in _DROPPED or c in INVISIBLE or c in JOINERS:
        return ()
    if cat == "Co":  # private use: a separator (also keeps WILD untypeable)
        return ((c, SEP),)
    out: list[tuple[str, int]] = []
    for ch in unicodedata.normalize("NFKC", c):
        upper = UPPER_HOMOGLYPHS.get(ch)
        decomposed = unicodedata.normalize("NFD", upper if upper is not None else ch.casefold())
        kept = "".join(
            d
            for d in decomposed
            if unicodedata.category(d) not in _DROPPED and d not in INVISIBLE and d not in JOINERS
        )
        for piece in unicodedata.normalize("NFC", kept):
            if unicodedata.category(piece) == "Nd":
                piece = str(unicodedata.decimal(piece))
            piece = T2S.get(piece, piece)
            piece = HOMOGLYPHS.get(piece, piece)
            out.append((piece, _kind(piece)))
    return tuple(out)


def fold_char(c: str) -> Folded:
    """``((canonical_char, kind), ...)`` for one source character; ``()`` if it vanishes."""
    folded = FOLD_CACHE.get(c)
    if folded is None:
        folded = _fold(c)
        if len(FOLD_CACHE) < _FOLD_CACHE_MAX:
            FOLD_CACHE[c] = folded
    return folded
