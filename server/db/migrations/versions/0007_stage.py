"""stage: talks, questions, votes (placeholder: filled in by the stage work)

Revision ID: 0007_stage
Revises: 0006_cluster
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0007_stage"
down_revision = "0006_cluster"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
