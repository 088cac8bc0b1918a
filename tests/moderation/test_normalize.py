"""Canonical form: folding, gaps, leet views and the map back to the original text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from moderation.charmap import T2S, WILD
from moderation.normalize import GAP, GAP_SPACE, GAP_STOP, canonical, normalize, normalize_views


def test_width_case_and_traditional_fold_to_one_form() -> None:
    assert canonical("ＦＲＥＥ") == canonical("free") == "free"
    assert canonical("代開發票") == canonical("代开发票") == "代开发票"
    assert canonical("Straße") == "strasse"


def test_t2s_table_is_single_characters_and_idempotent() -> None:
    assert len(T2S) > 4000
    assert all(len(k) == 1 and len(v) == 1 for k, v in T2S.items())
    assert all(T2S.get(v, v) == v for v in T2S.values())


def test_invisible_characters_leave_no_gap_but_spaces_do() -> None:
    view = normalize("a\u200bb c")
    assert view.text == "abc"
    assert list(view.gaps) == [0, 0, GAP | GAP_SPACE]


def test_sentence_end_with_space_is_recorded_in_gap() -> None:
    view = normalize("ok. next")
    assert view.gaps[2] == GAP | GAP_SPACE | GAP_STOP


def test_apostrophe_joins_words() -> None:
    assert canonical("it's") == "its"


def test_digits_of_other_scripts_become_ascii() -> None:
    assert canonical("٣٤٥") == "345"
    assert canonical("①②") == "12"


def test_leet_applies_only_inside_words_with_letters() -> None:
    assert canonical("h3ll0") == "hello"
    assert canonical("455") == "455"
    assert canonical("3rd 10am") == "3rd10am"
    assert canonical("vx123456") == "vx123456"  # a long number is a number


def test_wild_stands_for_i_or_l() -> None:
    assert canonical("k1ll") == f"k{WILD}ll"


def test_ambiguous_symbols_get_two_views() -> None:
    views = normalize_views("b!tcoin")
    assert [v.text for v in views] == [f"b{WILD}tcoin", "btcoin"]
    assert len(normalize_views("hello!")) == 1


def test_private_use_input_cannot_forge_wild() -> None:
    assert WILD not in canonical(f"k{WILD}ll")


def test_origin_maps_back_to_source() -> None:
    text = "ｘ ß 代開"
    view = normalize(text)
    assert view.text == "xss代开"
    assert [text[i] for i in view.origin] == ["ｘ", "ß", "ß", "代", "開"]
    assert view.span(1, 3) == (2, 3)


def test_word_boundaries() -> None:
    view = normalize("a class act")
    assert view.boundary(1) and view.boundary(6)
    assert not view.boundary(3)  # c|l inside "class"
    spaced = normalize("c l a s s")
    assert not spaced.boundary(2)  # one-character words form one word
    mixed = normalize("刷单abc")
    assert mixed.boundary(2)


@given(st.text(max_size=80))
def test_normalize_never_fails_and_origin_is_monotonic(text: str) -> None:
    for view in normalize_views(text):
        assert len(view.origin) == len(view.text) == len(view.gaps)
        assert list(view.origin) == sorted(view.origin)
        assert all(0 <= i < len(text) for i in view.origin)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_normalizing_is_idempotent_on_letters(text: str) -> None:
    once = canonical(text)
    if once.isalpha() and WILD not in once:
        assert canonical(once) == once
