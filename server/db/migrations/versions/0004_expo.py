"""expo: expos and halls, booths, exhibitors, files, leads, favourites, meetings, visits, heat

Revision ID: 0004_expo
Revises: 0003_moderation
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0004_expo"
down_revision = "0003_moderation"
branch_labels = None
depends_on = None

BOOKED = "status = 'booked'"
OPEN = "status = 'open'"


def upgrade() -> None:
    op.create_table(
        "expo_expos",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("starts_at", sa.BigInteger(), nullable=True),
        sa.Column("ends_at", sa.BigInteger(), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("halls", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("created_by", sa.String(32), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "expo_booths",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("expo_id", sa.String(32), sa.ForeignKey("expo_expos.id"), nullable=False),
        sa.Column("room_id", sa.String(80), nullable=False),
        sa.Column("slot", sa.String(16), nullable=False),
        sa.Column("company", sa.String(100), nullable=False),
        sa.Column("name_zh", sa.String(100), nullable=False, server_default=""),
        sa.Column("name_en", sa.String(100), nullable=False, server_default=""),
        sa.Column("desc_zh", sa.Text(), nullable=False, server_default=""),
        sa.Column("desc_en", sa.Text(), nullable=False, server_default=""),
        sa.Column("category", sa.String(32), nullable=False, server_default="other"),
        sa.Column("keywords", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("color", sa.String(7), nullable=False, server_default="#5bc0de"),
        sa.Column("banner_zh", sa.String(100), nullable=False, server_default=""),
        sa.Column("banner_en", sa.String(100), nullable=False, server_default=""),
        sa.Column("logo_id", sa.String(32), nullable=True),
        sa.Column("products", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("videos", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("brochures", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("room_id", "slot", name="uq_expo_booths_slot"),
    )
    op.create_table(
        "expo_exhibitors",
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("booth_id", sa.String(32), sa.ForeignKey("expo_booths.id"), nullable=False),
        sa.Column("expo_id", sa.String(32), nullable=False),
        sa.Column("invited_by", sa.String(32), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_expo_exhibitors_booth_id", "expo_exhibitors", ["booth_id"])
    op.create_table(
        "expo_files",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("booth_id", sa.String(32), sa.ForeignKey("expo_booths.id"), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.String(160), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("thumb_path", sa.String(200), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_expo_files_booth_id", "expo_files", ["booth_id"])
    op.create_table(
        "expo_leads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("booth_id", sa.String(32), sa.ForeignKey("expo_booths.id"), nullable=False),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consent_lang", sa.String(8), nullable=False),
        sa.Column("consent_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("booth_id", "user_id", name="uq_expo_leads_visitor"),
    )
    op.create_index("ix_expo_leads_user_id", "expo_leads", ["user_id"])
    op.create_table(
        "expo_favourites",
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("booth_id", sa.String(32), sa.ForeignKey("expo_booths.id"), primary_key=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "expo_slots",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("booth_id", sa.String(32), sa.ForeignKey("expo_booths.id"), nullable=False),
        sa.Column("staff_id", sa.String(32), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="open"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ux_expo_slots_open_start", "expo_slots", ["booth_id", "start"], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_table(
        "expo_meetings",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("slot_id", sa.String(32), sa.ForeignKey("expo_slots.id"), nullable=False),
        sa.Column("booth_id", sa.String(32), nullable=False),
        sa.Column("visitor_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("visitor_name", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.String(32), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("cancelled_at", sa.BigInteger(), nullable=True),
        sa.Column("cancelled_by", sa.String(32), nullable=True),
        sa.Column("reminded_at", sa.BigInteger(), nullable=True),
        sa.Column("opened_at", sa.BigInteger(), nullable=True),
    )
    # No double booking, whatever the number of server processes: one booked meeting per slot,
    # one per visitor and booth.
    op.create_index("ux_expo_meetings_slot", "expo_meetings", ["slot_id"], unique=True,
                    sqlite_where=sa.text(BOOKED), postgresql_where=sa.text(BOOKED))
    op.create_index("ux_expo_meetings_visitor", "expo_meetings", ["booth_id", "visitor_id"],
                    unique=True, sqlite_where=sa.text(BOOKED), postgresql_where=sa.text(BOOKED))
    op.create_index("ix_expo_meetings_start", "expo_meetings", ["status", "start"])
    op.create_table(
        "expo_visits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("booth_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=False),
        sa.Column("dwell_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_expo_visits_booth", "expo_visits", ["booth_id", "started_at"])
    op.create_table(
        "expo_heat",
        sa.Column("room_id", sa.String(80), primary_key=True),
        sa.Column("cell", sa.Float(), nullable=False),
        sa.Column("min_x", sa.Float(), nullable=False),
        sa.Column("min_z", sa.Float(), nullable=False),
        sa.Column("nx", sa.Integer(), nullable=False),
        sa.Column("nz", sa.Integer(), nullable=False),
        sa.Column("counts", sa.LargeBinary(), nullable=False),
        sa.Column("samples", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("expo_heat")
    op.drop_index("ix_expo_visits_booth", "expo_visits")
    op.drop_table("expo_visits")
    for ix in ("ix_expo_meetings_start", "ux_expo_meetings_visitor", "ux_expo_meetings_slot"):
        op.drop_index(ix, "expo_meetings")
    op.drop_table("expo_meetings")
    op.drop_index("ux_expo_slots_open_start", "expo_slots")
    op.drop_table("expo_slots")
    op.drop_table("expo_favourites")
    op.drop_index("ix_expo_leads_user_id", "expo_leads")
    op.drop_table("expo_leads")
    op.drop_index("ix_expo_files_booth_id", "expo_files")
    op.drop_table("expo_files")
    op.drop_index("ix_expo_exhibitors_booth_id", "expo_exhibitors")
    op.drop_table("expo_exhibitors")
    op.drop_table("expo_booths")
    op.drop_table("expo_expos")
