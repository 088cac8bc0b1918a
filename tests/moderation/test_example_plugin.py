"""The example plug-in: shouting is blocked, phone numbers are flagged."""

from __future__ import annotations

import pytest

from moderation import ALLOW, Block, ChatContext, Flag, ModerationCallbacks
from moderation.plugins.example import ExampleConfig, ExamplePlugin


def chat(text: str) -> ChatContext:
    return ChatContext("u1", "Ann", frozenset(), "hall:main", "room", text)


@pytest.fixture
def plugin() -> ExamplePlugin:
    return ExamplePlugin(ExampleConfig(max_caps_len=10), ModerationCallbacks())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("WHERE IS COUNTER NUMBER FIVE", Block),
        ("ＷＨＥＲＥ ＩＳ ＣＯＵＮＴＥＲ ＦＩＶＥ", Block),
        ("OK THANKS", type(ALLOW)),  # short
        ("NASA and ESA booths are in hall B", type(ALLOW)),  # mixed case
        ("大家好 HELLO", type(ALLOW)),
        ("call me on 138 0013 8000", Flag),
        ("我的电话13800138000", Flag),
        ("office: 010-12345678", Flag),
        ("+86 13800138000", Flag),
        ("ticket A012, counter 5, wait 12 minutes", type(ALLOW)),
        ("the year 2024 had 365 days", type(ALLOW)),
    ],
)
async def test_example_plugin(plugin: ExamplePlugin, text: str, kind: type) -> None:
    assert isinstance(await plugin.check_chat(chat(text)), kind)


def test_parse_config_validates() -> None:
    assert ExamplePlugin.parse_config({}) == ExampleConfig()
    with pytest.raises(ValueError, match="positive integer"):
        ExamplePlugin.parse_config({"max_caps_len": 0})
