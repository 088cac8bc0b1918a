"""social: spaces, members (co-hosts, allow list), invites, friends, profiles

Revision ID: 0005_social
Revises: 0004_expo
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_social"
down_revision = "0004_expo"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "social_spaces",
        sa.Column("room_id", sa.String(80), sa.ForeignKey("rooms.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("owner_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("privacy", sa.String(8), nullable=False, server_default="public"),
        sa.Column("overflow", sa.String(8), nullable=False, server_default="instance"),
        sa.Column("locked", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_social_spaces_owner_id", "social_spaces", ["owner_id"])
    op.create_table(
        "social_members",
        sa.Column("room_id", sa.String(80),
                  sa.ForeignKey("social_spaces.room_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("role", sa.String(8), nullable=False, server_default="member"),
        sa.Column("via", sa.String(8), nullable=False, server_default="allow"),
        sa.Column("invite_id", sa.String(32), nullable=True),
        sa.Column("added_by", sa.String(32), nullable=True),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_social_members_user", "social_members", ["user_id"])
    op.create_table(
        "social_invites",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("room_id", sa.String(80),
                  sa.ForeignKey("social_spaces.room_id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_by", sa.String(32), nullable=True),
    )
    op.create_index("ix_social_invites_room_id", "social_invites", ["room_id"])
    op.create_table(
        "social_friends",
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("friend_id", sa.String(32), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "social_profiles",
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("status", sa.String(12), nullable=False, server_default="available"),
        sa.Column("share_location", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("social_profiles")
    op.drop_table("social_friends")
    op.drop_index("ix_social_invites_room_id", table_name="social_invites")
    op.drop_table("social_invites")
    op.drop_index("ix_social_members_user", table_name="social_members")
    op.drop_table("social_members")
    op.drop_index("ix_social_spaces_owner_id", table_name="social_spaces")
    op.drop_table("social_spaces")
