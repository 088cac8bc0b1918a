"""stage: talks, questions, votes

Revision ID: 0007_stage
Revises: 0006_cluster
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_stage"
down_revision = "0006_cluster"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stage_talks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("room_id", sa.String(80), nullable=False),
        sa.Column("title_zh", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
        sa.Column("speaker_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("start_at", sa.BigInteger(), nullable=False),
        sa.Column("end_at", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("embed_url", sa.String(500), nullable=True),
        sa.Column("slides", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("slide", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_stage_talks_room_start", "stage_talks", ["room_id", "start_at"])
    op.create_table(
        "stage_questions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("talk_id", sa.String(32), sa.ForeignKey("stage_talks.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="open"),
        sa.Column("votes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_stage_questions_talk", "stage_questions", ["talk_id", "status"])
    op.create_index("ix_stage_questions_user", "stage_questions", ["user_id"])
    op.create_table(
        "stage_votes",
        sa.Column("question_id", sa.String(32),
                  sa.ForeignKey("stage_questions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stage_votes")
    op.drop_index("ix_stage_questions_user", table_name="stage_questions")
    op.drop_index("ix_stage_questions_talk", table_name="stage_questions")
    op.drop_table("stage_questions")
    op.drop_index("ix_stage_talks_room_start", table_name="stage_talks")
    op.drop_table("stage_talks")
