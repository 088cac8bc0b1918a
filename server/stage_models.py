"""Durable tables of the stage (migration 0007_stage): talks, their questions and the votes.

They share ``Base`` with the rest of the schema, so privacy export/erase finds the questions
(they have ``user_id``, ``display_name`` and ``text`` columns) like any other user table.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models import Base

__all__ = ["StageTalkRow", "StageQuestionRow", "StageVoteRow"]


class StageTalkRow(Base):
    __tablename__ = "stage_talks"
    __table_args__ = (Index("ix_stage_talks_room_start", "room_id", "start_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(80))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    speaker_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    start_at: Mapped[int] = mapped_column(BigInteger)
    end_at: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(8))
    embed_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    slides: Mapped[int] = mapped_column(Integer, default=0)
    slide: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class StageQuestionRow(Base):
    __tablename__ = "stage_questions"
    __table_args__ = (Index("ix_stage_questions_talk", "talk_id", "status"),
                      Index("ix_stage_questions_user", "user_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    talk_id: Mapped[str] = mapped_column(String(32),
                                         ForeignKey("stage_talks.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")
    votes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class StageVoteRow(Base):
    __tablename__ = "stage_votes"

    question_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("stage_questions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
