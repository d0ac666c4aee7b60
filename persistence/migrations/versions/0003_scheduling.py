"""scheduling: series, time zones, platform needs, cancellation, booked meetings; staff ids; the audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 16:40:00
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("instructor_key", sa.String(length=320), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("series_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=False, server_default="UTC"))
        batch_op.add_column(sa.Column("required_features", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("expected_participants", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("override_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("invitations_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("short_notice_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("meeting_provider", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("meeting_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("meeting_occurrence_id", sa.String(length=100), nullable=True))
        batch_op.create_index("ix_sessions_series_id", ["series_id"], unique=False)
        batch_op.create_index("ix_sessions_instructor_start", ["instructor_key", "starts_at"], unique=False)
        batch_op.create_index("ix_sessions_starts_at", ["starts_at"], unique=False)
    op.execute("UPDATE sessions SET instructor_key = lower(instructor_email)")

    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_participants_email_key", ["email_key"], unique=False)

    # Every staff member gets an internal id, which the audit log names them by.
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    staff = sa.table("staff", sa.column("email", sa.String), sa.column("id", sa.String))
    for (email,) in conn.execute(sa.select(staff.c.email)).all():
        conn.execute(sa.update(staff).where(staff.c.email == email).values(id=uuid.uuid4().hex))
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.alter_column("id", existing_type=sa.String(length=40), nullable=False)
        batch_op.create_unique_constraint("uq_staff_id", ["id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_log_actor", ["actor"], unique=False)
        batch_op.create_index("ix_audit_log_action", ["action"], unique=False)
        batch_op.create_index("ix_audit_log_session_id", ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_table("audit_log")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_constraint("uq_staff_id", type_="unique")
        batch_op.drop_column("timezone")
        batch_op.drop_column("id")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index("ix_participants_email_key")
        batch_op.drop_column("timezone")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_starts_at")
        batch_op.drop_index("ix_sessions_instructor_start")
        batch_op.drop_index("ix_sessions_series_id")
        for column in (
            "meeting_occurrence_id",
            "meeting_id",
            "meeting_provider",
            "short_notice_reason",
            "invitations_sent_at",
            "cancel_reason",
            "cancelled_at",
            "override_reason",
            "expected_participants",
            "required_features",
            "timezone",
            "series_id",
            "instructor_key",
        ):
            batch_op.drop_column(column)
