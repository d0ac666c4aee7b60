"""audit_append_only: the audit log refuses UPDATE, and DELETE of entries younger than the audit retention

Both databases get triggers (SQLite's RAISE(ABORT), PostgreSQL's plpgsql, and TRUNCATE refused there
too); `audit_policy` holds the retention the DELETE trigger reads (seven years until "Records over time"
sets it from COMPANION_RETENTION), so the purge can delete what is past it and nothing else can.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 04:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SEVEN_YEARS_S = 7 * 365 * 24 * 3600

_PG_FUNCTION = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit_log is append-only: an entry is never changed';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'audit_log is append-only: it is never truncated';
    END IF;
    IF OLD.at > now() - make_interval(secs => (SELECT keep_seconds FROM audit_policy WHERE id = 1)) THEN
        RAISE EXCEPTION 'audit_log entry % is younger than the audit retention', OLD.id;
    END IF;
    RETURN OLD;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "audit_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("keep_seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(f"INSERT INTO audit_policy (id, keep_seconds) VALUES (1, {SEVEN_YEARS_S})")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: an entry is never changed'); END"
        )
        # Times are kept as 'YYYY-MM-DD HH:MM:SS[.ffffff]' UTC text: compared as text with SQLite's own.
        op.execute(
            "CREATE TRIGGER audit_log_keep BEFORE DELETE ON audit_log "
            "WHEN OLD.at > datetime('now', '-' || (SELECT keep_seconds FROM audit_policy WHERE id = 1) || ' seconds') "
            "BEGIN SELECT RAISE(ABORT, 'audit_log entry is younger than the audit retention'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER audit_log_keep")
        op.execute("DROP TRIGGER audit_log_no_update")
    op.drop_table("audit_policy")
