"""platform_attendance: Zoom's webhook events and the Zoom and Teams reports imported

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_imports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "platform", name="uq_platform_imports_platform"),
    )
    op.create_index("ix_platform_imports_session_id", "platform_imports", ["session_id"])
    op.create_table(
        "platform_rows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.String(length=40), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("participant_id", sa.String(length=40), nullable=True),
        sa.Column("matched_by", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(["import_id"], ["platform_imports.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("import_id", "row", name="uq_platform_rows_row"),
    )
    op.create_index("ix_platform_rows_import_id", "platform_rows", ["import_id"])
    op.create_table(
        "zoom_events",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("meeting_id", sa.String(length=40), nullable=False),
        sa.Column("meeting_uuid", sa.String(length=300), nullable=False),
        sa.Column("who", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_zoom_events_session_id", "zoom_events", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_zoom_events_session_id", table_name="zoom_events")
    op.drop_table("zoom_events")
    op.drop_index("ix_platform_rows_import_id", table_name="platform_rows")
    op.drop_table("platform_rows")
    op.drop_index("ix_platform_imports_session_id", table_name="platform_imports")
    op.drop_table("platform_imports")
