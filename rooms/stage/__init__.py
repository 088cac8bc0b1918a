"""The stage of an expo room: a schedule of talks, live or embedded, and a moderated Q&A.

Domain code only: storage is the ``StageStore`` protocol (``server/stage_store.py``), people
are reached through ``StageNotifier``; the media relay lives in ``server/stage_media.py``.
"""

from __future__ import annotations

from rooms.stage.models import LEAD_MS, Question, QuestionStatus, Talk, TalkMode
from rooms.stage.service import MAX_QUESTION_LEN, MAX_SLIDES, StageNotifier, StageService
from rooms.stage.store import StageStore
from rooms.stage.validate import StageArea, check_embed_url, stage_area

__all__ = ["Talk", "TalkMode", "Question", "QuestionStatus", "StageService", "StageStore",
           "StageNotifier", "StageArea", "stage_area", "check_embed_url", "LEAD_MS",
           "MAX_QUESTION_LEN", "MAX_SLIDES"]
