"""Durable tables. Hot state (positions) never comes here; durable state is written before it is acked."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "User", "RoomRecord", "Report", "new_id", "now_ms"]


def new_id() -> str:
    return uuid.uuid4().hex


def now_ms() -> int:
    return int(time.time() * 1000)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    """Lower-cased login name; NULL for guests."""
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    display_name: Mapped[str] = mapped_column(String(64))
    roles: Mapped[str] = mapped_column(String(200), default="citizen")
    """Comma-separated role names."""
    is_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped to revoke every token issued before (logout everywhere, password change, ban)."""
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]


class RoomRecord(Base):
    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reporter_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    room_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    user_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
