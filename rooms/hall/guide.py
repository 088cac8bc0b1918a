"""The guide desk: plain words in, matching services out. Chinese and English, no cloud AI.

Matching is lexical and explainable. A query is normalised (NFKC, case, punctuation), expanded
with the catalogue's synonym groups, then each service's terms (names, keywords) are tried:
Chinese terms as substrings of the query, with a character-bigram overlap as a partial match
(Chinese has no spaces, and people abbreviate: 社保 for 社会保险); English terms as stemmed word
sets. Terms shared by many services weigh less (an IDF factor).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rooms.hall.models import ServiceDef

__all__ = ["Guide", "Match", "normalize", "en_tokens", "bigrams"]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")
_PUNCT = re.compile(r"[^\w\u3400-\u9fff]+")
EN_STOP = frozenset(
    "a an the to for of in on at by with and or i my me we our you your it is are be do does "
    "can could would should will want wants need needs how what where which when please get "
    "got new help some about this that there here from".split())
ZH_STOP = ("我想", "我要", "想要", "需要", "请问", "怎么", "如何", "在哪里", "在哪", "哪里", "办理",
           "一下", "可以", "什么", "我", "的", "了", "吗", "呢", "要", "想", "去", "办", "请")


def normalize(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_PUNCT.sub(" ", t).split())


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def en_tokens(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in _WORD.findall(text) if w not in EN_STOP)


def _zh_core(text: str) -> str:
    core = "".join(_CJK.findall(text))
    for stop in ZH_STOP:
        core = core.replace(stop, " ")
    return core


def bigrams(text: str) -> frozenset[str]:
    out: set[str] = set()
    for run in _zh_core(text).split():
        if len(run) == 1:
            out.add(run)
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class _Term:
    text: str
    weight: float
    cjk: bool
    tokens: frozenset[str]
    grams: frozenset[str]


@dataclass(frozen=True, slots=True)
class Match:
    service_id: str
    score: float
    matched: tuple[str, ...]


class _Query:
    __slots__ = ("text", "tokens", "grams", "expansions")

    def __init__(self, text: str, synonyms: Sequence[tuple[str, ...]]) -> None:
        self.text = normalize(text)
        self.tokens = set(en_tokens(self.text))
        self.grams = set(bigrams(self.text))
        self.expansions: set[str] = set()
        for group in synonyms:
            if any(self._has_phrase(w) for w in group):
                for w in group:
                    self.expansions.add(w)
                    self.tokens |= en_tokens(w)
                    self.grams |= bigrams(w)

    def _has_phrase(self, phrase: str) -> bool:
        if _CJK.search(phrase):
            return phrase in self.text
        words = en_tokens(phrase)
        return bool(words) and words <= en_tokens(self.text)

    def contains(self, term: str) -> bool:
        return term in self.text or any(term in e for e in self.expansions)


class Guide:
    """Recommends services for a question. Rebuild it when the catalogue changes."""

    def __init__(self, services: Iterable[ServiceDef], synonyms: Sequence[tuple[str, ...]] = ()
                 ) -> None:
        self.synonyms = [tuple(normalize(w) for w in g) for g in synonyms]
        self._terms: dict[str, list[_Term]] = {}
        for s in services:
            if not s.active:
                continue
            raw = [(s.name["zh-CN"], 3.0), (s.name["en"], 3.0)]
            raw += [(k, 2.0) for k in s.keywords]
            terms: dict[str, _Term] = {}
            for text, weight in raw:
                t = normalize(text)
                if t and (t not in terms or terms[t].weight < weight):
                    terms[t] = _Term(t, weight, bool(_CJK.search(t)), en_tokens(t), bigrams(t))
            self._terms[s.id] = list(terms.values())
        df: dict[str, int] = {}
        for terms_of in self._terms.values():
            for term in terms_of:
                df[term.text] = df.get(term.text, 0) + 1
        n = max(len(self._terms), 1)
        self._idf = {t: math.log(1 + n / c) for t, c in df.items()}

    def _score_term(self, q: _Query, term: _Term) -> float:
        idf = self._idf.get(term.text, 1.0)
        if term.cjk:
            if q.contains(term.text):
                return term.weight * idf * (1 + min(len(term.text), 8) / 4)
            if len(term.grams) >= 2:
                frac = len(term.grams & q.grams) / len(term.grams)
                if frac >= 0.5:
                    return term.weight * idf * frac * 0.6
            return 0.0
        if not term.tokens:
            return 0.0
        hit = len(term.tokens & q.tokens)
        if hit == len(term.tokens):
            return term.weight * idf * (1 + 0.5 * (len(term.tokens) - 1))
        if hit and hit / len(term.tokens) >= 0.5:
            return term.weight * idf * (hit / len(term.tokens)) * 0.5
        return 0.0

    def ask(self, text: str, limit: int = 3, min_score: float = 1.0) -> list[Match]:
        """The best services for ``text``, best first; empty when nothing fits."""
        q = _Query(text, self.synonyms)
        if not q.text:
            return []
        scored: list[Match] = []
        for sid, terms in self._terms.items():
            total = 0.0
            matched: list[str] = []
            for term in terms:
                s = self._score_term(q, term)
                if s > 0:
                    total += s
                    matched.append(term.text)
            if total >= min_score:
                scored.append(Match(sid, round(total, 3), tuple(matched)))
        scored.sort(key=lambda m: (-m.score, m.service_id))
        if not scored:
            return []
        best = scored[0].score
        return [m for m in scored[:limit] if m.score >= 0.35 * best]
