"""purge: the counts that survive a session's purge, the purge's progress, and the indexes its deletes need

`session_counts` (one row per purged session): the aggregates a report needs (docs/records.md), written
just before the first of the session's kinds is deleted, with which kinds went when (`purged`) and when
the last went (`done_at`, the roster with it). `purge_progress`: what the batches of a purge deleted that
no `purge` audit entry names yet (a run killed mid-way leaves them; the next run folds them into its entry).

Deleting a roster's participants makes the database find each row that refers to them (ON DELETE CASCADE
and SET NULL): without an index on each referring column that is a scan of the whole table per participant.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# (index, table, column): the columns that refer to participants.id without an index leading with them.
_BY_PARTICIPANT = [
    ("ix_connections_participant", "connections", "participant_id"),
    ("ix_help_tickets_participant", "help_tickets", "participant_id"),
    ("ix_attendance_records_participant", "attendance_records", "participant_id"),
    ("ix_ping_answers_participant", "ping_answers", "participant_id"),
    ("ix_consent_answers_participant", "consent_answers", "participant_id"),
    ("ix_platform_rows_participant", "platform_rows", "participant_id"),
]


def upgrade() -> None:
    op.create_table(
        "session_counts",
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("purged", sa.JSON(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_table(
        "purge_progress",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for name, table, column in _BY_PARTICIPANT:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in reversed(_BY_PARTICIPANT):
        op.drop_index(name, table_name=table)
    op.drop_table("purge_progress")
    op.drop_table("session_counts")
