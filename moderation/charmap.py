"""Character tables for the term filter's canonical form (see ``moderation/normalize.py``).

Everything here maps *one* code point (after NFKC) to a short string, so the normaliser can
keep a map from canonical positions back to the original text. Tables are deliberately small
and conservative: each entry is a look-alike used to dodge filters, not a transliteration.

* :data:`T2S` - traditional → simplified Chinese, single-character pairs built at import from
  OpenCC's dictionaries as installed by ``opencc-python-reimplemented`` (Apache-2.0). Character-level on
  purpose: phrase-level conversion can change lengths and is 100x slower. Applied to terms and
  text alike, so it only has to be consistent, not linguistically right (e.g. 著→着, 乾→干).
* :data:`UPPER_HOMOGLYPHS` / :data:`HOMOGLYPHS` - Cyrillic, Greek and Latin look-alikes of
  a-z; the upper-case table is applied before casefolding because Greek Η looks like H while
  its lower case η looks like n. Also enclosed/negative-squared letters and regional
  indicators, which NFKC leaves alone.
* :data:`LEET_DIGITS` / :data:`LEET_SYMBOLS` - applied only inside words that contain Latin
  letters (the normaliser decides where). ``WILD`` stands for "i or l" (1, !, |).
"""

from __future__ import annotations

from importlib import resources
from typing import Final

__all__ = [
    "HARD_STOPS",
    "HOMOGLYPHS",
    "INVISIBLE",
    "JOINERS",
    "LEET_DIGITS",
    "LEET_SYMBOLS",
    "ENDING_ONLY_LEET",
    "STOPS",
    "T2S",
    "UPPER_HOMOGLYPHS",
    "WILD",
    "load_t2s",
]

WILD: Final = "\ue000"
"""Canonical stand-in for a character that may be i or l (``1``, ``!``, ``|``). A private-use
code point: private-use characters in input are treated as separators, so it cannot be typed."""

INVISIBLE: Final = frozenset(
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers (category Lo, but render as nothing)
    "\u2800"  # braille pattern blank
    "\u034f\u17b4\u17b5"  # combining grapheme joiner, Khmer inherent vowels
)
"""Removed without leaving a gap, in addition to categories Cf, Mn and Me (zero-width space
and joiners, bidi controls, soft hyphen, variation selectors, tags, combining marks)."""

JOINERS: Final = frozenset("'\u2019\u02bc")
"""Apostrophes: removed without a gap, so ``it's`` is one word (``its``), not ``it`` + ``s``."""

STOPS: Final = frozenset(".?!\u2026\u203c\u2047\u2048\u2049")
"""Sentence ends. A gap holding one of these *and* whitespace is a hard break (see
normalize.py); a term never matches across a hard break between two real words."""

HARD_STOPS: Final = frozenset("\u3002")
"""Ideographic full stop: a hard break on its own (Chinese puts no space after it)."""

LEET_DIGITS: Final = {
    "0": "o",
    "1": WILD,
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
}
LEET_SYMBOLS: Final = {
    "@": "a",
    "$": "s",
    "!": WILD,
    "|": WILD,
    "+": "t",
    "\u20ac": "e",
    "\u00a1": WILD,
}
ENDING_ONLY_LEET: Final = frozenset("!|\u00a1")
"""Leet symbols that are ordinary punctuation at the end of a word (``hello!``)."""


def _pairs(pairs: str) -> dict[str, str]:
    """``"аaвb"`` → ``{"а": "a", "в": "b"}``."""
    return {pairs[i]: pairs[i + 1] for i in range(0, len(pairs), 2)}


UPPER_HOMOGLYPHS: Final = _pairs(
    # Greek capitals
    "ΑaΒbΕeΖzΗhΙiΚkΜmΝnΟoΡpΤtΥyΧx"
    # Cyrillic capitals
    "АaВbЕeКkМmНhОoРpСcТtУyХxЅsІiЈjԚqԜwӀl"
)

HOMOGLYPHS: Final = {
    **_pairs(
        # Cyrillic small letters
        "аaвbеeіiјjкkмmнhоoпnрpсcтtуyхxѕsԁdԛqԝwһhӏlьb"
        # Greek small letters
        "αaβbγyεeηnιiκkνvοoρpτtυuχxωwϳj"
        # Latin small capitals and other look-alikes NFKC keeps
        "ᴀaʙbᴄcᴅdᴇeꜰfɢgʜhɪiᴊjᴋkʟlᴍmɴnᴏoᴘpꞯqʀrꜱsᴛtᴜuᴠvᴡwʏyᴢz"
        "ıiȷjɑaɡgɩiøođdłlħhŧtƅbɓbɗdƙkɲnɵoƥpʂsƭtʋvȥz"
    ),
    # negative circled, negative squared capitals and regional indicators A-Z
    **{chr(base + i): chr(ord("a") + i) for base in (0x1F150, 0x1F170, 0x1F1E6) for i in range(26)},
}


def load_t2s() -> dict[str, str]:
    """Traditional → simplified, one code point to one, built from the OpenCC dictionaries that
    the ``opencc-python-reimplemented`` package installs (we do not copy them into the repo).

    TSCharacters plus the Taiwan/Hong Kong variant tables, first candidate, applied until stable.
    """
    root = resources.files("opencc").joinpath("dictionary")

    def read(name: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in root.joinpath(name).read_text(encoding="utf-8").splitlines():
            key, _, values = line.partition("\t")
            target = values.split(" ")[0] if values else ""
            if len(key) == 1 and len(target) == 1 and key != target:
                out.setdefault(key, target)
        return out

    ts = read("TSCharacters.txt")
    variants = {**read("HKVariantsRev.txt"), **read("TWVariantsRev.txt")}
    table: dict[str, str] = {}
    for ch in {*ts, *variants}:
        out = ts.get(ch) or ts.get(variants.get(ch, ch), variants.get(ch, ch))
        for _ in range(3):  # a variant's standard form may itself convert further
            out = ts.get(out, out)
        if out != ch:
            table[ch] = out
    # A few OpenCC entries map a simplified form onward (e.g. 乾→干 where 干 also appears as a
    # key): follow each value to a fixed point and drop pairs that cycle, so folding twice is
    # the same as folding once.
    for ch, out in list(table.items()):
        seen = {ch}
        while out in table and out not in seen:
            seen.add(out)
            out = table[out]
        if out in seen:
            del table[ch]
        else:
            table[ch] = out
    return table


T2S: Final = load_t2s()
