"""initial: users, rooms, reports

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("username", sa.String(64), nullable=True, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False, server_default="citizen"),
        sa.Column("is_guest", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "rooms",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.String(32), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("reporter_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("room_id", sa.String(80), nullable=True),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False, server_default="1.0"),
    )
    op.create_index("ix_reports_status", "reports", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_reports_status", "reports")
    op.drop_table("reports")
    op.drop_table("rooms")
    op.drop_table("users")
