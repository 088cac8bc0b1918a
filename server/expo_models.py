"""Durable tables of the expo (migration 0004_expo). JSON-valued columns are Text holding JSON,
the same on SQLite and PostgreSQL; times are ms. Kept beside ``server/db/models.py`` (same
``Base``) so the feature's schema lives in one file of its own."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models import Base

__all__ = ["ExpoRow", "BoothRow", "ExhibitorRow", "FileRow", "LeadRow", "FavouriteRow",
           "SlotRow", "MeetingRow", "VisitRow", "HeatRow", "BOOKED", "OPEN"]

BOOKED = "status = 'booked'"
OPEN = "status = 'open'"


class ExpoRow(Base):
    __tablename__ = "expo_expos"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ends_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    halls: Mapped[str] = mapped_column(Text, default="[]")
    created_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class BoothRow(Base):
    __tablename__ = "expo_booths"
    __table_args__ = (UniqueConstraint("room_id", "slot", name="uq_expo_booths_slot"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    expo_id: Mapped[str] = mapped_column(ForeignKey("expo_expos.id"))
    room_id: Mapped[str] = mapped_column(String(80))
    slot: Mapped[str] = mapped_column(String(16))
    company: Mapped[str] = mapped_column(String(100))
    name_zh: Mapped[str] = mapped_column(String(100), default="")
    name_en: Mapped[str] = mapped_column(String(100), default="")
    desc_zh: Mapped[str] = mapped_column(Text, default="")
    desc_en: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32), default="other")
    keywords: Mapped[str] = mapped_column(Text, default="[]")
    color: Mapped[str] = mapped_column(String(7), default="#5bc0de")
    banner_zh: Mapped[str] = mapped_column(String(100), default="")
    banner_en: Mapped[str] = mapped_column(String(100), default="")
    logo_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    products: Mapped[str] = mapped_column(Text, default="[]")
    videos: Mapped[str] = mapped_column(Text, default="[]")
    brochures: Mapped[str] = mapped_column(Text, default="[]")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ExhibitorRow(Base):
    __tablename__ = "expo_exhibitors"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    """One booth per account: the primary key."""
    booth_id: Mapped[str] = mapped_column(ForeignKey("expo_booths.id"), index=True)
    expo_id: Mapped[str] = mapped_column(String(32))
    invited_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class FileRow(Base):
    __tablename__ = "expo_files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    booth_id: Mapped[str] = mapped_column(ForeignKey("expo_booths.id"), index=True)
    owner_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    kind: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(160))
    path: Mapped[str] = mapped_column(String(200))
    """Relative to the uploads directory; generated, never from the client."""
    thumb_path: Mapped[str | None] = mapped_column(String(200), nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class LeadRow(Base):
    __tablename__ = "expo_leads"
    __table_args__ = (UniqueConstraint("booth_id", "user_id", name="uq_expo_leads_visitor"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    booth_id: Mapped[str] = mapped_column(ForeignKey("expo_booths.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(64))
    contact: Mapped[str] = mapped_column(Text)
    consent_text: Mapped[str] = mapped_column(Text)
    consent_lang: Mapped[str] = mapped_column(String(8))
    consent_at: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)


class FavouriteRow(Base):
    __tablename__ = "expo_favourites"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    booth_id: Mapped[str] = mapped_column(ForeignKey("expo_booths.id"), primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class SlotRow(Base):
    __tablename__ = "expo_slots"
    __table_args__ = (
        Index("ux_expo_slots_open_start", "booth_id", "start", unique=True,
              sqlite_where=text(OPEN), postgresql_where=text(OPEN)),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    booth_id: Mapped[str] = mapped_column(ForeignKey("expo_booths.id"))
    staff_id: Mapped[str] = mapped_column(String(32))
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[int] = mapped_column(BigInteger)


class MeetingRow(Base):
    __tablename__ = "expo_meetings"
    __table_args__ = (
        Index("ux_expo_meetings_slot", "slot_id", unique=True,
              sqlite_where=text(BOOKED), postgresql_where=text(BOOKED)),
        Index("ux_expo_meetings_visitor", "booth_id", "visitor_id", unique=True,
              sqlite_where=text(BOOKED), postgresql_where=text(BOOKED)),
        Index("ix_expo_meetings_start", "status", "start"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot_id: Mapped[str] = mapped_column(ForeignKey("expo_slots.id"))
    booth_id: Mapped[str] = mapped_column(String(32))
    visitor_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    visitor_name: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[str] = mapped_column(String(32))
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[int] = mapped_column(BigInteger)
    cancelled_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reminded_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    opened_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class VisitRow(Base):
    __tablename__ = "expo_visits"
    __table_args__ = (Index("ix_expo_visits_booth", "booth_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booth_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[int] = mapped_column(BigInteger)
    ended_at: Mapped[int] = mapped_column(BigInteger)
    dwell_ms: Mapped[int] = mapped_column(BigInteger)


class HeatRow(Base):
    __tablename__ = "expo_heat"

    room_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    cell: Mapped[float] = mapped_column(Float)
    min_x: Mapped[float] = mapped_column(Float)
    min_z: Mapped[float] = mapped_column(Float)
    nx: Mapped[int] = mapped_column(Integer)
    nz: Mapped[int] = mapped_column(Integer)
    counts: Mapped[bytes] = mapped_column(LargeBinary)
    """zlib-compressed little-endian int64 counts, row-major (nz, nx)."""
    samples: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[int] = mapped_column(BigInteger)
