"""Pure checks: embed URLs, the stage area of the expo floor plan, question order."""

from __future__ import annotations

import pytest

from rooms.layouts import EXPO_LAYOUT, HALL_LAYOUT
from rooms.stage import Question, QuestionStatus, check_embed_url, stage_area
from rooms.stage.errors import BadEmbedUrl


@pytest.mark.parametrize("url", [
    "https://live.example.com/stage/index.m3u8",
    "https://player.example.org:8443/watch?v=abc&t=10",
    "https://直播.例子.中国/台",
])
def test_acceptable_embed_urls(url: str) -> None:
    assert check_embed_url(url) == url


@pytest.mark.parametrize("url", [
    "http://live.example.com/a", "HTTPS://", "https:///path", "//example.com/x",
    "javascript:alert(1)", "data:text/html,hi", "https://user@example.com/",
    "https://10.0.0.5/a", "https://[::1]/a", "https://localhost/a", "https://printer.local/a",
    "https://intranet/a", "https://example.com:22/a", "https://exa mple.com/",
    "https://example.com/\x00", "https://example.com/" + "a" * 500, 5, None, "",
    'https://example.com/"><script>',
])
def test_refused_embed_urls(url: object) -> None:
    with pytest.raises(BadEmbedUrl):
        check_embed_url(url)


def test_the_stage_area_covers_the_stage_and_the_audience_but_not_the_booths() -> None:
    area = stage_area(EXPO_LAYOUT)
    assert area is not None
    assert area.contains(0, -40) and area.contains(0, -26) and area.contains(-20, -30)
    assert not area.contains(0, 43)  # the entrance
    booth_row = min(f["z"] - f["d"] / 2 for f in EXPO_LAYOUT.features if f["type"] == "booth")
    assert area.z1 <= booth_row  # the first row of booths is outside
    assert area.contains(0, area.z1 + 5, slack=6) and not area.contains(0, area.z1 + 7, slack=6)
    assert stage_area(HALL_LAYOUT) is None


def test_questions_order_open_by_votes_then_age() -> None:
    def q(i: str, votes: int, at: int, status: QuestionStatus = QuestionStatus.OPEN) -> Question:
        return Question(i, "t", "u", "n", "x", status, votes, at, at)
    qs = [q("a", 1, 5), q("b", 3, 9), q("c", 3, 2), q("d", 9, 1, QuestionStatus.ANSWERED),
          q("e", 0, 0)]
    assert [x.id for x in sorted(qs, key=Question.sort_key)] == ["c", "b", "a", "e", "d"]
