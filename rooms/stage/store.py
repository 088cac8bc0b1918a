"""What the stage needs from storage (implemented with SQLAlchemy in ``server/stage_store.py``)."""

from __future__ import annotations

from typing import Protocol

from rooms.stage.models import Question, QuestionStatus, Talk

__all__ = ["StageStore"]


class StageStore(Protocol):
    async def list_talks(self, room_id: str | None = None) -> list[Talk]:
        """Talks ordered by start (all rooms when ``room_id`` is None), speaker names filled."""

    async def get_talk(self, talk_id: str) -> Talk | None: ...

    async def insert_talk(self, talk: Talk) -> Talk:
        """Store a new talk; raise ``TalkOverlaps`` if another talk of the room overlaps it."""

    async def update_talk(self, talk: Talk) -> Talk:
        """Store changed fields; raise ``TalkOverlaps`` / ``UnknownTalk``."""

    async def delete_talk(self, talk_id: str) -> bool:
        """Delete a talk with its questions and votes; False if there was none."""

    async def set_slides(self, talk_id: str, count: int, index: int, now: int) -> Talk: ...

    async def add_question(self, q: Question, max_open_per_user: int, max_per_talk: int
                           ) -> Question:
        """Store a question; raise ``TooManyQuestions`` beyond the limits."""

    async def get_question(self, question_id: str) -> Question | None: ...

    async def questions(self, talk_id: str) -> list[Question]: ...

    async def vote(self, question_id: str, user_id: str, up: bool, now: int) -> Question:
        """Add (``up``) or withdraw one user's vote, atomically; ``AlreadyVoted`` /
        ``NotVoted`` when that user's vote is already there / not there."""

    async def voted(self, talk_id: str, user_id: str) -> set[str]:
        """Ids of the questions of a talk this user upvoted."""

    async def set_status(self, question_id: str, status: QuestionStatus, now: int) -> Question: ...
