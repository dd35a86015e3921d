"""accountability: the kind of a target (reach, hold_above, hold_below)

Revision ID: accountability_0002_acc
Revises: accountability_0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "accountability_0002_acc"
down_revision = "accountability_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("acc_targets") as batch:
        batch.add_column(sa.Column("kind", sa.String(12), nullable=False,
                                   server_default="reach"))


def downgrade() -> None:
    with op.batch_alter_table("acc_targets") as batch:
        batch.drop_column("kind")
