"""erasure: when a person's participant and invitation rows were erased (their links stop working)

A participant's token is stateless (derived from the session and participant ids with the server key),
so an erased participant needs a mark the token check reads: the live roster and every link drop a
participant whose `erased_at` is set.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("erased_at")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("erased_at")
