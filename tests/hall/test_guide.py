"""The guide desk matches plain words, Chinese and English, to the seeded catalogue."""

from __future__ import annotations

import pytest

from rooms.hall.guide import Guide, bigrams, en_tokens, normalize
from server.hall_setup import SEED_FILE, load_catalogue_file

CAT = load_catalogue_file(SEED_FILE)
GUIDE = Guide(CAT.services, CAT.synonyms)


@pytest.mark.parametrize("text,expected", [
    ("register a business", "business_licence"),
    ("I want to start a company", "business_licence"),
    ("我想开公司", "business_licence"),
    ("办营业执照", "business_licence"),
    ("社保转移", "social_insurance"),
    ("transfer my pension to another city", "social_insurance"),
    ("公积金提取", "housing_fund"),
    ("How do I withdraw my housing fund?", "housing_fund"),
    ("身份证丢了怎么办", "id_card"),
    ("I lost my passport", "entry_exit"),
    ("换驾照", "vehicle"),
    ("driving licence renewal", "vehicle"),
    ("结婚登记需要什么材料", "marriage"),
    ("无犯罪记录证明", "certificates"),
    ("unemployment benefit", "employment"),
    ("医保报销", "medical_insurance"),
    ("报税", "tax"),
    ("房子过户", "property"),
    ("senior card for my father", "elderly"),
    ("办居住证", "residence_permit"),
    ("新生儿上户口", "hukou"),
    ("ＳＯＣＩＡＬ  Insurance!!", "social_insurance"),  # full-width, case, punctuation
])
def test_plain_words_find_the_right_service(text: str, expected: str) -> None:
    matches = GUIDE.ask(text)
    assert matches, text
    assert matches[0].service_id == expected, (text, matches)


@pytest.mark.parametrize("text", ["hello", "今天天气不错", "?!", "the of and"])
def test_unrelated_words_recommend_nothing(text: str) -> None:
    assert GUIDE.ask(text) == []


def test_an_ambiguous_question_offers_several_services() -> None:
    ids = [m.service_id for m in GUIDE.ask("医保和社保转移")]
    assert {"social_insurance", "medical_insurance"} <= set(ids)
    assert len(ids) <= 3


def test_text_helpers() -> None:
    assert normalize("  Hello，World！ ") == "hello world"
    assert en_tokens("registering businesses") == {"register", "business"}
    assert bigrams("我想办社保") == {"社保"}  # stop words split the run
