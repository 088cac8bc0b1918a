"""Durable tables. Hot state (positions) never comes here; durable state is written before it is acked."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,  # Index, UniqueConstraint, text: service hall
    text,
)
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
    # moderation (migration 0003_moderation): the case it feeds, the reporter's context (JSON)
    case_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    context: Mapped[str] = mapped_column(Text, default="{}")


# -- service hall (rooms/hall; store in server/hall_store.py; migration 0002_hall) ---------------
# JSON-valued columns are Text holding JSON, the same on SQLite and PostgreSQL.
_ACTIVE_TICKET = "status IN ('waiting', 'called', 'serving')"
_AT_COUNTER = "status IN ('called', 'serving')"


class HallServiceRow(Base):
    __tablename__ = "hall_services"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(2))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    desc_zh: Mapped[str] = mapped_column(Text, default="")
    desc_en: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(Text, default="[]")
    documents: Mapped[str] = mapped_column(Text, default="[]")
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    online_url: Mapped[str | None] = mapped_column(String(300), nullable=True)
    avg_service_s: Mapped[int] = mapped_column(Integer, default=300)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    appointable: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class HallCounterRow(Base):
    __tablename__ = "hall_counters"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    x: Mapped[float] = mapped_column(Float)
    z: Mapped[float] = mapped_column(Float)
    services: Mapped[str] = mapped_column(Text, default="[]")
    appointments_per_slot: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_open: Mapped[bool] = mapped_column(Boolean, default=False)
    staff_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    open_services: Mapped[str] = mapped_column(Text, default="[]")
    opened_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class HallMeta(Base):
    __tablename__ = "hall_meta"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class HallSequence(Base):
    """The last ticket number handed out per service and (hall-local) day."""

    __tablename__ = "hall_sequences"

    service_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class HallTicketRow(Base):
    __tablename__ = "hall_tickets"
    __table_args__ = (
        UniqueConstraint("service_id", "day", "seq", name="uq_hall_tickets_number"),
        Index("ux_hall_tickets_active_user", "user_id", "service_id", unique=True,
              sqlite_where=text(_ACTIVE_TICKET), postgresql_where=text(_ACTIVE_TICKET)),
        Index("ux_hall_tickets_counter_current", "counter_id", unique=True,
              sqlite_where=text(_AT_COUNTER), postgresql_where=text(_AT_COUNTER)),
        Index("ix_hall_tickets_queue", "status", "service_id", "priority", "sort_key"),
        Index("ix_hall_tickets_created", "created_at"),
        Index("ix_hall_tickets_user", "user_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[str] = mapped_column(String(8))
    service_id: Mapped[str] = mapped_column(ForeignKey("hall_services.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    display_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    sort_key: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(Integer)
    day: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    counter_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    staff_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    called_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    recalled_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    arrived_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    finished_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    appointment_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    transferred_from: Mapped[str | None] = mapped_column(String(32), nullable=True)
    docs_checked: Mapped[str] = mapped_column(Text, default="[]")


class HallAppointmentRow(Base):
    __tablename__ = "hall_appointments"
    __table_args__ = (
        Index("ux_hall_appointments_booked", "user_id", "service_id", unique=True,
              sqlite_where=text("status = 'booked'"), postgresql_where=text("status = 'booked'")),
        Index("ix_hall_appointments_due", "status", "start"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("hall_services.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    display_name: Mapped[str] = mapped_column(String(64))
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[int] = mapped_column(BigInteger)
    ticket_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class HallSlotRow(Base):
    """Places taken per appointment slot; bumped with a guarded UPDATE so no slot overbooks."""

    __tablename__ = "hall_slots"

    service_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class HallRatingRow(Base):
    __tablename__ = "hall_ratings"
    __table_args__ = (Index("ix_hall_ratings_created", "created_at"),)

    ticket_id: Mapped[str] = mapped_column(ForeignKey("hall_tickets.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    service_id: Mapped[str] = mapped_column(String(32))
    counter_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    staff_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
# -- end service hall ----------------------------------------------------------------------------


# -- moderation (server/moderation_*.py; migration 0003_moderation) -----------------------------
# JSON-valued columns are Text holding JSON. Millisecond timestamps are BigInteger.
class ModCase(Base):
    """A flagged session: opened by a Flag verdict or a report, holding frozen evidence."""

    __tablename__ = "mod_cases"
    __table_args__ = (Index("ix_mod_cases_status", "status", "severity", "opened_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(String(80))
    instance: Mapped[str | None] = mapped_column(String(96), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="open")
    """open | actioned | dismissed"""
    severity: Mapped[int] = mapped_column(Integer, default=2)
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="flag")
    subjects: Mapped[str] = mapped_column(Text, default="[]")
    opened_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    closed_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)


class ModEvidence(Base):
    """One freeze of a room's recent chat and position trails, attached to a case."""

    __tablename__ = "mod_evidence"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mod_cases.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms, index=True)
    data: Mapped[str] = mapped_column(Text, default="{}")


class ModVerdict(Base):
    """A non-allow verdict of a moderation hook."""

    __tablename__ = "mod_verdicts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    ts: Mapped[int] = mapped_column(BigInteger, default=now_ms, index=True)
    hook: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(8))
    code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    room_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(80), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    case_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)


class ModAction(Base):
    """A moderator's (or the system's) action; mutes and bans are active until ``until``."""

    __tablename__ = "mod_actions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms, index=True)
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(12))
    target_user_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    room_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    case_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason_code: Mapped[str] = mapped_column(String(24), default="other")
    note: Mapped[str] = mapped_column(Text, default="")
    until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    audit_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    origin: Mapped[str] = mapped_column(String(16), default="")
    """The server process that applied it live; the others apply it when they see it."""


class ModAppeal(Base):
    """A user's one appeal against one action."""

    __tablename__ = "mod_appeals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    action_id: Mapped[str] = mapped_column(ForeignKey("mod_actions.id"), unique=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="open")
    """open | upheld | overturned"""
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    decided_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditRow(Base):
    """One entry of the append-only, hash-chained audit log (moderation.audit)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(24))
    target: Mapped[str] = mapped_column(String(96))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ModTerm(Base):
    """A term added by an admin over HTTP (on top of the METAHALL_MODERATION_TERMS file)."""

    __tablename__ = "mod_terms"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    text: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(8), default="block")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms, index=True)
    deleted_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
class ModMeta(Base):
    """Small moderation state shared by server processes (the signed audit head, versions)."""

    __tablename__ = "mod_meta"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# -- end moderation ------------------------------------------------------------------------------
