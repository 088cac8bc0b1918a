"""Durable tables of social spaces (migration 0005_social). Millisecond timestamps are BigInteger.

Kept beside ``server/db/models.py`` on the same ``Base``, so privacy export and erasure (which
walk every table with a ``user_id`` column) see them too. Host mutes and kicks are moderation
actions and live in ``mod_actions`` (``space_mute``, ``space_unmute``, ``space_kick``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models import Base, now_ms

__all__ = ["SocialSpaceRow", "SocialMemberRow", "SocialInviteRow", "SocialFriendRow",
           "SocialProfileRow"]


class SocialSpaceRow(Base):
    """A user-created space; its room (id, names, capacity, public flag) is in ``rooms``."""

    __tablename__ = "social_spaces"

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"),
                                         primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int] = mapped_column(Integer)
    privacy: Mapped[str] = mapped_column(String(8), default="public")
    overflow: Mapped[str] = mapped_column(String(8), default="instance")
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class SocialMemberRow(Base):
    """A co-host, or someone admitted to a private space (allow list or invite)."""

    __tablename__ = "social_members"
    __table_args__ = (Index("ix_social_members_user", "user_id"),)

    room_id: Mapped[str] = mapped_column(
        ForeignKey("social_spaces.room_id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(8), default="member")
    via: Mapped[str] = mapped_column(String(8), default="allow")
    invite_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    added_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    added_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class SocialInviteRow(Base):
    """An invite link. The token itself is never stored, only its SHA-256."""

    __tablename__ = "social_invites"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    room_id: Mapped[str] = mapped_column(
        ForeignKey("social_spaces.room_id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(32), nullable=True)


class SocialFriendRow(Base):
    """One direction of a friendship: each pair has two rows (``user_id`` sees ``friend_id``)."""

    __tablename__ = "social_friends"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    friend_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    """accepted | outgoing | incoming"""
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class SocialProfileRow(Base):
    """A user's social presence settings."""

    __tablename__ = "social_profiles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default="available")
    share_location: Mapped[bool] = mapped_column(Boolean, default=True)
    """Friends may see where I am and join me there."""
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
