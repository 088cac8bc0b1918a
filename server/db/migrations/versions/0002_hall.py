"""service hall: services, counters, tickets, sequences, appointments, slots, ratings

Revision ID: 0002_hall
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_hall"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIVE = "status IN ('waiting', 'called', 'serving')"
AT_COUNTER = "status IN ('called', 'serving')"
BOOKED = "status = 'booked'"


def upgrade() -> None:
    op.create_table(
        "hall_services",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("prefix", sa.String(2), nullable=False),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(64), nullable=False),
        sa.Column("desc_zh", sa.Text(), nullable=False, server_default=""),
        sa.Column("desc_en", sa.Text(), nullable=False, server_default=""),
        sa.Column("keywords", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("documents", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("online", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("online_url", sa.String(300), nullable=True),
        sa.Column("avg_service_s", sa.Integer(), nullable=False, server_default="300"),
        sa.Column("slot_minutes", sa.Integer(), nullable=False, server_default="30"),
        sa.Column("appointable", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("sort", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "hall_counters",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(64), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("z", sa.Float(), nullable=False),
        sa.Column("services", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("appointments_per_slot", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("is_open", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("staff_id", sa.String(32), nullable=True),
        sa.Column("open_services", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("opened_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "hall_meta",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "hall_sequences",
        sa.Column("service_id", sa.String(32), primary_key=True),
        sa.Column("day", sa.String(8), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "hall_tickets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("number", sa.String(8), nullable=False),
        sa.Column("service_id", sa.String(32), sa.ForeignKey("hall_services.id"), nullable=False),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("sort_key", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(8), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("counter_id", sa.String(32), nullable=True),
        sa.Column("staff_id", sa.String(32), nullable=True),
        sa.Column("called_at", sa.BigInteger(), nullable=True),
        sa.Column("recalls", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("recalled_at", sa.BigInteger(), nullable=True),
        sa.Column("arrived_at", sa.BigInteger(), nullable=True),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("appointment_id", sa.String(32), nullable=True),
        sa.Column("transferred_from", sa.String(32), nullable=True),
        sa.Column("docs_checked", sa.Text(), nullable=False, server_default="[]"),
        sa.UniqueConstraint("service_id", "day", "seq", name="uq_hall_tickets_number"),
    )
    # One active ticket per user and service, and one ticket at a counter at a time: enforced by
    # the database, so concurrent requests (even from several server processes) cannot break it.
    op.create_index("ux_hall_tickets_active_user", "hall_tickets", ["user_id", "service_id"],
                    unique=True, sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
    op.create_index("ux_hall_tickets_counter_current", "hall_tickets", ["counter_id"],
                    unique=True, sqlite_where=sa.text(AT_COUNTER),
                    postgresql_where=sa.text(AT_COUNTER))
    op.create_index("ix_hall_tickets_queue", "hall_tickets",
                    ["status", "service_id", "priority", "sort_key"])
    op.create_index("ix_hall_tickets_created", "hall_tickets", ["created_at"])
    op.create_index("ix_hall_tickets_user", "hall_tickets", ["user_id"])
    op.create_table(
        "hall_appointments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("service_id", sa.String(32), sa.ForeignKey("hall_services.id"), nullable=False),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.String(32), nullable=True),
    )
    op.create_index("ux_hall_appointments_booked", "hall_appointments", ["user_id", "service_id"],
                    unique=True, sqlite_where=sa.text(BOOKED), postgresql_where=sa.text(BOOKED))
    op.create_index("ix_hall_appointments_due", "hall_appointments", ["status", "start"])
    op.create_table(
        "hall_slots",
        sa.Column("service_id", sa.String(32), primary_key=True),
        sa.Column("start", sa.BigInteger(), primary_key=True),
        sa.Column("booked", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "hall_ratings",
        sa.Column("ticket_id", sa.String(32), sa.ForeignKey("hall_tickets.id"), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("service_id", sa.String(32), nullable=False),
        sa.Column("counter_id", sa.String(32), nullable=True),
        sa.Column("staff_id", sa.String(32), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_hall_ratings_created", "hall_ratings", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_hall_ratings_created", "hall_ratings")
    op.drop_table("hall_ratings")
    op.drop_table("hall_slots")
    op.drop_index("ix_hall_appointments_due", "hall_appointments")
    op.drop_index("ux_hall_appointments_booked", "hall_appointments")
    op.drop_table("hall_appointments")
    for ix in ("ix_hall_tickets_user", "ix_hall_tickets_created", "ix_hall_tickets_queue",
               "ux_hall_tickets_counter_current", "ux_hall_tickets_active_user"):
        op.drop_index(ix, "hall_tickets")
    op.drop_table("hall_tickets")
    op.drop_table("hall_sequences")
    op.drop_table("hall_meta")
    op.drop_table("hall_counters")
    op.drop_table("hall_services")
