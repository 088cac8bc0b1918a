"""The term filter sees through common evasion tricks and stays quiet on look-alike words."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation import ALLOW, Block, Flag, Redact, TermFilter

EXAMPLE_TERMS = Path(__file__).resolve().parents[2] / "moderation" / "data" / "terms-example.txt"


@pytest.fixture(scope="module")
def example_filter() -> TermFilter:
    return TermFilter.load(EXAMPLE_TERMS)


MUST_MATCH: list[tuple[str, str | None]] = [
    # plain and mixed case
    ("get free bitcoin now", "free bitcoin"),
    ("FREE BITCOIN", "free bitcoin"),
    ("FrEe BiTcOiN!!!", "free bitcoin"),
    ("freebitcoin", "free bitcoin"),
    # full width and other compatibility forms
    ("ｆｒｅｅ　ｂｉｔｃｏｉｎ", "free bitcoin"),
    ("ｆree ｂitcoin", "free bitcoin"),
    ("𝐟𝐫𝐞𝐞 𝐛𝐢𝐭𝐜𝐨𝐢𝐧", "free bitcoin"),
    ("𝓯𝓻𝓮𝓮 𝓫𝓲𝓽𝓬𝓸𝓲𝓷", "free bitcoin"),
    ("ⓕⓡⓔⓔ ⓑⓘⓣⓒⓞⓘⓝ", "free bitcoin"),
    ("🅵🆁🅴🅴 🅱🅸🆃🅲🅾🅸🅽", "free bitcoin"),
    ("⒡⒭⒠⒠ ⒝⒤⒯⒞⒪⒤⒩", "free bitcoin"),
    ("ꜰʀᴇᴇ ʙɪᴛᴄᴏɪɴ", "free bitcoin"),
    # spacing, punctuation and symbols between characters
    ("f r e e b i t c o i n", "free bitcoin"),
    ("F R E E   B I T C O I N", "free bitcoin"),
    ("f.r.e.e b.i.t.c.o.i.n", "free bitcoin"),
    ("f-r-e-e-b-i-t-c-o-i-n", "free bitcoin"),
    ("free_bitcoin", "free bitcoin"),
    ("free...bitcoin", "free bitcoin"),
    ("free🚀bitcoin", "free bitcoin"),
    ("free\nbitcoin", "free bitcoin"),
    ("free\u00a0bitcoin", "free bitcoin"),
    ("free*bit*coin", "free bitcoin"),
    ("free bit-coin", "free bitcoin"),
    ("free bit coin", None),  # a space between real words is a word break ("the pen is")
    ("f. r. e. e. b. i. t. c. o. i. n.", "free bitcoin"),
    # invisible characters
    ("fr\u200bee bit\u200dcoin", "free bitcoin"),
    ("free\u2060bitcoin", "free bitcoin"),
    ("free bit\u00adcoin", "free bitcoin"),
    ("\u202efree bitcoin", "free bitcoin"),
    ("f\ufe0free bitcoin", "free bitcoin"),
    ("free\u3164bitcoin", "free bitcoin"),
    # diacritics
    ("fŕéé bítcóín", "free bitcoin"),
    ("fre\u0301e bitcoin", "free bitcoin"),
    # homoglyphs (Cyrillic е о і с, Greek ο ε, upper-case Greek/Cyrillic)
    ("frее bitcoin", "free bitcoin"),
    ("free bіtсоin", "free bitcoin"),
    ("frεε bitcοin", "free bitcoin"),
    ("FRΕΕ ΒΙΤCΟΙΝ", "free bitcoin"),
    ("FRЕЕ ВITСОIN", "free bitcoin"),
    # leetspeak
    ("fr33 b1tc01n", "free bitcoin"),
    ("fr33 b1tc01n!", "free bitcoin"),
    ("fr€€ b!tco!n", "free bitcoin"),
    ("fr3e b|tc0in", "free bitcoin"),
    ("f r 3 3 b 1 t c 0 1 n", "free bitcoin"),
    ("crypt0 g1veaway", "crypto giveaway"),
    ("CRYPTO-GIVEAWAY", "crypto giveaway"),
    ("d0uble y0ur m0ney", "double your money"),
    ("CLICK HERE", "click here"),
    ("cl1ck h3re", "click here"),
    ("1d10t", "idiot"),
    ("you 1d1ot", "idiot"),
    ("IDIOT!!", "idiot"),
    ("a55", "ass"),
    ("@ss", "ass"),
    ("a$$", "ass"),
    ("a.s.s", "ass"),
    ("a s s", "ass"),
    ("what an ASS", "ass"),
    ("а$$", "ass"),
    # Chinese: spacing, punctuation, full-width punctuation, emoji, zero-width, traditional
    ("代开发票", "代开发票"),
    ("专业代开发票，联系我", "代开发票"),
    ("代 开 发 票", "代开发票"),
    ("代.开.发.票", "代开发票"),
    ("代，开，发，票", "代开发票"),
    ("代～开～发～票", "代开发票"),
    ("代🧾开发票", "代开发票"),
    ("代\u200b开\u200b发\u200b票", "代开发票"),
    ("代開發票", "代开发票"),
    ("代 開 發 票", "代开发票"),
    ("【代】【开】【发】【票】", "代开发票"),
    ("代。开。发。票", "代开发票"),
    ("刷单", "刷单"),
    ("刷單兼職", "刷单"),
    ("刷  单", "刷单"),
    ("刷-单", "刷单"),
    ("招人刷单，日赚三百", "刷单"),
    ("網賭", "网赌"),
    ("网 赌", "网赌"),
    ("博-彩", "博彩"),
    ("兼職日結", "兼职日结"),
    ("加 微 信", "加微信"),
    ("加薇信", None),  # homophone substitution is out of scope (documented)
    ("你这个笨蛋", "笨蛋"),
    ("你这个笨 蛋", "笨蛋"),
    ("傻瓜", "傻瓜"),
    # mixed scripts
    ("快来free bitcoin", "free bitcoin"),
    ("free bitcoin送给你", "free bitcoin"),
    ("freebitcoin2024", "free bitcoin"),
]


@pytest.mark.parametrize(("text", "term"), MUST_MATCH)
def test_evasion_variant_matches(example_filter: TermFilter, text: str, term: str | None) -> None:
    found = {m.term for m in example_filter.check(text)}
    if term is None:
        assert found == set()
    else:
        assert term in found, f"{text!r} should match {term!r}, got {found}"


MUST_NOT_MATCH: list[str] = [
    "class",
    "I'm in class",
    "c l a s s",
    "assessment",
    "the self-assessment form",
    "passenger",
    "bass guitar",
    "b a s s",
    "Massachusetts",
    "harassment policy",
    "embassy",
    "I paid 455 yuan",
    "room 455",
    "4 5 5",
    "an idiotic question",
    "Is it free? Bitcoin is not accepted.",
    "Entry is free. Bitcoin talk is on stage 2.",
    "carefree bitcoin",
    "free bitcoins",
    "click the button here",
    "牙刷单价多少",
    "这款电动牙刷单价",
    "我的傻瓜相机",
    "能开发票吗",
    "刷卡",
    "刷新单据",
    "我去刷。单位在哪",
    "hello! world",
]


@pytest.mark.parametrize("text", MUST_NOT_MATCH)
def test_lookalike_sentence_does_not_match(example_filter: TermFilter, text: str) -> None:
    assert example_filter.check(text) == []


def test_evasion_table_is_large_enough() -> None:
    assert len([t for t in MUST_MATCH if t[1] is not None]) >= 60


def test_match_span_points_at_original_characters(example_filter: TermFilter) -> None:
    text = "hey 你好 fr33 b1tc01n!! ok"
    (match,) = example_filter.check(text)
    assert text[match.start : match.end] == "fr33 b1tc01n"
    text = "请联系代 開，發 票哦"
    (match,) = example_filter.check(text)
    assert text[match.start : match.end] == "代 開，發 票"


def test_redact_masks_original_span(example_filter: TermFilter) -> None:
    assert example_filter.verdict("you are an 1d10t, ok?") == Redact(
        "you are an *****, ok?", "term filter (redact): idiot"
    )
    verdict = example_filter.verdict("你这个笨 蛋！")
    assert isinstance(verdict, Redact)
    assert verdict.text == "你这个* *！"
    assert example_filter.redact("an id\u200biot here") == "an ***** here"
    assert example_filter.redact("a s s and class") == "* * * and class"
    assert example_filter.redact("傻瓜相机和傻瓜") == "傻瓜相机和**"


def test_strongest_action_wins(example_filter: TermFilter) -> None:
    assert isinstance(example_filter.verdict("idiot, free bitcoin"), Block)
    assert isinstance(example_filter.verdict("idiot, click here"), Flag)
    assert example_filter.verdict("nothing to see") is ALLOW
