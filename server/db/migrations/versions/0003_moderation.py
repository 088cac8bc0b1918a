"""moderation: cases, evidence, verdicts, actions, appeals, audit log, terms, meta; reports context

Revision ID: 0003_moderation
Revises: 0002_hall
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_moderation"
down_revision = "0002_hall"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("case_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("context", sa.Text(), nullable=False, server_default="{}"))
    op.create_index("ix_reports_reporter", "reports", ["reporter_id", "created_at"])
    op.create_index("ix_reports_case", "reports", ["case_id"])
    op.create_table(
        "mod_cases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("room_id", sa.String(80), nullable=False),
        sa.Column("instance", sa.String(96), nullable=True),
        sa.Column("status", sa.String(12), nullable=False, server_default="open"),
        sa.Column("severity", sa.Integer(), nullable=False, server_default="2"),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("source", sa.String(16), nullable=False, server_default="flag"),
        sa.Column("subjects", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("closed_by", sa.String(32), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
    )
    op.create_index("ix_mod_cases_status", "mod_cases", ["status", "severity", "opened_at"])
    op.create_table(
        "mod_evidence",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("mod_cases.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False, server_default="{}"),
    )
    op.create_index("ix_mod_evidence_case_id", "mod_evidence", ["case_id"])
    op.create_index("ix_mod_evidence_created_at", "mod_evidence", ["created_at"])
    op.create_table(
        "mod_verdicts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("hook", sa.String(24), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("code", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("severity", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("room_id", sa.String(80), nullable=True),
        sa.Column("channel", sa.String(80), nullable=True),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("case_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_mod_verdicts_ts", "mod_verdicts", ["ts"])
    op.create_index("ix_mod_verdicts_user_id", "mod_verdicts", ["user_id"])
    op.create_index("ix_mod_verdicts_case_id", "mod_verdicts", ["case_id"])
    op.create_table(
        "mod_actions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(12), nullable=False),
        sa.Column("target_user_id", sa.String(32), nullable=True),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("room_id", sa.String(80), nullable=True),
        sa.Column("case_id", sa.String(32), nullable=True),
        sa.Column("reason_code", sa.String(24), nullable=False, server_default="other"),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("until", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_by", sa.String(32), nullable=True),
        sa.Column("audit_seq", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False, server_default=""),
    )
    op.create_index("ix_mod_actions_updated_at", "mod_actions", ["updated_at"])
    op.create_index("ix_mod_actions_target_user_id", "mod_actions", ["target_user_id"])
    op.create_table(
        "mod_appeals",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("action_id", sa.String(32), sa.ForeignKey("mod_actions.id"), nullable=False,
                  unique=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.Column("status", sa.String(12), nullable=False, server_default="open"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(32), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
    )
    op.create_index("ix_mod_appeals_user_id", "mod_appeals", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("target", sa.String(96), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("data", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "mod_terms",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("text", sa.String(200), nullable=False),
        sa.Column("action", sa.String(8), nullable=False, server_default="block"),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_mod_terms_updated_at", "mod_terms", ["updated_at"])
    op.create_table(
        "mod_meta",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mod_meta")
    op.drop_index("ix_mod_terms_updated_at", "mod_terms")
    op.drop_table("mod_terms")
    op.drop_table("audit_log")
    op.drop_index("ix_mod_appeals_user_id", "mod_appeals")
    op.drop_table("mod_appeals")
    op.drop_index("ix_mod_actions_target_user_id", "mod_actions")
    op.drop_index("ix_mod_actions_updated_at", "mod_actions")
    op.drop_table("mod_actions")
    for ix in ("ix_mod_verdicts_case_id", "ix_mod_verdicts_user_id", "ix_mod_verdicts_ts"):
        op.drop_index(ix, "mod_verdicts")
    op.drop_table("mod_verdicts")
    op.drop_index("ix_mod_evidence_created_at", "mod_evidence")
    op.drop_index("ix_mod_evidence_case_id", "mod_evidence")
    op.drop_table("mod_evidence")
    op.drop_index("ix_mod_cases_status", "mod_cases")
    op.drop_table("mod_cases")
    op.drop_index("ix_reports_case", "reports")
    op.drop_index("ix_reports_reporter", "reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("context")
        batch.drop_column("case_id")
