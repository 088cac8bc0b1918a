"""The SQLAlchemy implementation of ``rooms.stage.store.StageStore`` (SQLite and PostgreSQL).

Races are settled by the database: a vote is a row keyed by (question, user), so a second vote
of one user fails on the primary key whatever the timing, and the count moves with
``votes = votes ± 1`` in the same transaction. Writes that check before they insert (talk
overlaps, question limits) first touch a row (the room's, the talk's) with an ``UPDATE``, which
takes the row lock on PostgreSQL and the write lock on SQLite, so two of them never interleave.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.stage.errors import (
    AlreadyVoted,
    NotVoted,
    TalkOverlaps,
    TooManyQuestions,
    UnknownQuestion,
    UnknownTalk,
)
from rooms.stage.models import Question, QuestionStatus, Talk, TalkMode
from server.db.engine import Database
from server.db.models import RoomRecord, User
from server.stage_models import StageQuestionRow, StageTalkRow, StageVoteRow

__all__ = ["SqlStageStore"]


def _talk(row: StageTalkRow, speaker_name: str = "") -> Talk:
    return Talk(id=row.id, room_id=row.room_id, title={"zh-CN": row.title_zh, "en": row.title_en},
                speaker_id=row.speaker_id, start=row.start_at, end=row.end_at,
                mode=TalkMode(row.mode), embed_url=row.embed_url, slides=row.slides,
                slide=row.slide, speaker_name=speaker_name, created_by=row.created_by,
                created_at=row.created_at, updated_at=row.updated_at)


def _question(row: StageQuestionRow) -> Question:
    return Question(id=row.id, talk_id=row.talk_id, user_id=row.user_id,
                    display_name=row.display_name, text=row.text,
                    status=QuestionStatus(row.status), votes=row.votes,
                    created_at=row.created_at, updated_at=row.updated_at)


def _values(talk: Talk) -> dict[str, Any]:
    return {"room_id": talk.room_id, "title_zh": talk.title["zh-CN"], "title_en": talk.title["en"],
            "speaker_id": talk.speaker_id, "start_at": talk.start, "end_at": talk.end,
            "mode": talk.mode.value, "embed_url": talk.embed_url, "updated_at": talk.updated_at}


class SqlStageStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _named(self, s: AsyncSession, talk_id: str) -> Talk | None:
        row = (await s.execute(select(StageTalkRow, User.display_name)
                               .join(User, User.id == StageTalkRow.speaker_id)
                               .where(StageTalkRow.id == talk_id))).first()
        return _talk(row[0], row[1]) if row else None

    async def list_talks(self, room_id: str | None = None) -> list[Talk]:
        q = (select(StageTalkRow, User.display_name)
             .join(User, User.id == StageTalkRow.speaker_id)
             .order_by(StageTalkRow.start_at, StageTalkRow.id))
        if room_id is not None:
            q = q.where(StageTalkRow.room_id == room_id)
        async with self.db.session() as s:
            return [_talk(row, name) for row, name in (await s.execute(q)).all()]

    async def get_talk(self, talk_id: str) -> Talk | None:
        async with self.db.session() as s:
            return await self._named(s, talk_id)

    async def _lock_room_and_check(self, s: AsyncSession, talk: Talk) -> None:
        await s.execute(update(RoomRecord).where(RoomRecord.id == talk.room_id)
                        .values(kind=RoomRecord.kind))
        other = (await s.execute(select(StageTalkRow.id).where(
            StageTalkRow.room_id == talk.room_id, StageTalkRow.id != talk.id,
            StageTalkRow.start_at < talk.end, StageTalkRow.end_at > talk.start).limit(1))
        ).scalar_one_or_none()
        if other is not None:
            raise TalkOverlaps("Another talk is on this stage at that time.", talk_id=other)

    async def insert_talk(self, talk: Talk) -> Talk:
        async with self.db.session() as s, s.begin():
            await self._lock_room_and_check(s, talk)
            s.add(StageTalkRow(id=talk.id, slides=0, slide=0, created_by=talk.created_by,
                               created_at=talk.created_at, **_values(talk)))
        return talk

    async def update_talk(self, talk: Talk) -> Talk:
        async with self.db.session() as s, s.begin():
            await self._lock_room_and_check(s, talk)
            res = await s.execute(update(StageTalkRow).where(StageTalkRow.id == talk.id)
                                  .values(**_values(talk)))
            if res.rowcount == 0:  # type: ignore[attr-defined]
                raise UnknownTalk("No such talk.")
            found = await self._named(s, talk.id)
        assert found is not None
        return found

    async def delete_talk(self, talk_id: str) -> bool:
        async with self.db.session() as s, s.begin():
            ids = select(StageQuestionRow.id).where(StageQuestionRow.talk_id == talk_id)
            await s.execute(delete(StageVoteRow).where(StageVoteRow.question_id.in_(ids)))
            await s.execute(delete(StageQuestionRow).where(StageQuestionRow.talk_id == talk_id))
            res = await s.execute(delete(StageTalkRow).where(StageTalkRow.id == talk_id))
            return bool(res.rowcount)  # type: ignore[attr-defined]

    async def set_slides(self, talk_id: str, count: int, index: int, now: int) -> Talk:
        async with self.db.session() as s, s.begin():
            res = await s.execute(update(StageTalkRow).where(StageTalkRow.id == talk_id)
                                  .values(slides=count, slide=index, updated_at=now))
            if res.rowcount == 0:  # type: ignore[attr-defined]
                raise UnknownTalk("No such talk.")
            found = await self._named(s, talk_id)
        assert found is not None
        return found

    async def add_question(self, q: Question, max_open_per_user: int, max_per_talk: int
                           ) -> Question:
        async with self.db.session() as s, s.begin():
            res = await s.execute(update(StageTalkRow).where(StageTalkRow.id == q.talk_id)
                                  .values(updated_at=StageTalkRow.updated_at))
            if res.rowcount == 0:  # type: ignore[attr-defined]
                raise UnknownTalk("No such talk.")
            total, mine = (await s.execute(select(
                func.count(),
                func.count().filter(StageQuestionRow.user_id == q.user_id,
                                    StageQuestionRow.status == "open"),
            ).where(StageQuestionRow.talk_id == q.talk_id))).one()
            if total >= max_per_talk:
                raise TooManyQuestions("This talk has as many questions as it can take.")
            if mine >= max_open_per_user:
                raise TooManyQuestions(
                    f"You have {mine} open questions; wait until some are answered.")
            s.add(StageQuestionRow(id=q.id, talk_id=q.talk_id, user_id=q.user_id,
                                   display_name=q.display_name, text=q.text,
                                   status=q.status.value, votes=0, created_at=q.created_at,
                                   updated_at=q.updated_at))
        return q

    async def get_question(self, question_id: str) -> Question | None:
        async with self.db.session() as s:
            row = await s.get(StageQuestionRow, question_id)
            return _question(row) if row else None

    async def questions(self, talk_id: str) -> list[Question]:
        async with self.db.session() as s:
            rows = (await s.execute(select(StageQuestionRow)
                                    .where(StageQuestionRow.talk_id == talk_id))).scalars().all()
            return [_question(r) for r in rows]

    async def vote(self, question_id: str, user_id: str, up: bool, now: int) -> Question:
        try:
            async with self.db.session() as s, s.begin():
                if up:
                    s.add(StageVoteRow(question_id=question_id, user_id=user_id, created_at=now))
                    await s.flush()
                else:
                    res = await s.execute(delete(StageVoteRow).where(
                        StageVoteRow.question_id == question_id, StageVoteRow.user_id == user_id))
                    if res.rowcount == 0:  # type: ignore[attr-defined]
                        raise NotVoted("You have not upvoted this question.")
                row = (await s.execute(
                    update(StageQuestionRow).where(StageQuestionRow.id == question_id)
                    .values(votes=StageQuestionRow.votes + (1 if up else -1), updated_at=now)
                    .returning(StageQuestionRow))).scalar_one_or_none()
                if row is None:
                    raise UnknownQuestion("No such question.")
                return _question(row)
        except IntegrityError as exc:
            # The primary key (question, user) or the question's foreign key.
            async with self.db.session() as s:
                exists = await s.get(StageQuestionRow, question_id)
            if exists is None:
                raise UnknownQuestion("No such question.") from exc
            raise AlreadyVoted("You already upvoted this question.") from exc

    async def voted(self, talk_id: str, user_id: str) -> set[str]:
        async with self.db.session() as s:
            rows = await s.execute(select(StageVoteRow.question_id)
                                   .join(StageQuestionRow,
                                         StageQuestionRow.id == StageVoteRow.question_id)
                                   .where(StageQuestionRow.talk_id == talk_id,
                                          StageVoteRow.user_id == user_id))
            return set(rows.scalars().all())

    async def set_status(self, question_id: str, status: QuestionStatus, now: int) -> Question:
        async with self.db.session() as s, s.begin():
            row = (await s.execute(
                update(StageQuestionRow).where(StageQuestionRow.id == question_id)
                .values(status=status.value, updated_at=now)
                .returning(StageQuestionRow))).scalar_one_or_none()
            if row is None:
                raise UnknownQuestion("No such question.")
            return _question(row)
