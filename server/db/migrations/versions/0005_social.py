"""social: spaces, invites, members, friends (placeholder: filled in by the social work)

Revision ID: 0005_social
Revises: 0004_expo
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005_social"
down_revision = "0004_expo"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
