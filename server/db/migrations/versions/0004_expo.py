"""expo: booths, uploads, leads, meetings, talks (placeholder: filled in by the expo work)

Revision ID: 0004_expo
Revises: 0003_moderation
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0004_expo"
down_revision = "0003_moderation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
