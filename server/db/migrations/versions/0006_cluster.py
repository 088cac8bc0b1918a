"""cluster: whatever scale-out needs in the database (placeholder)

Revision ID: 0006_cluster
Revises: 0005_social
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0006_cluster"
down_revision = "0005_social"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
