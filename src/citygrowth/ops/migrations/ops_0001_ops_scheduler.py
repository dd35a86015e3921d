"""ops: runs of scheduled jobs (one per job and fire time) and the event outbox

Revision ID: ops_0001_ops
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "ops_0001_ops"
down_revision = None
branch_labels = ("ops",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(80), nullable=False),
        sa.Column("fire_time", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("host", sa.String(120), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scheduler_runs"),
        sa.UniqueConstraint("job", "fire_time", name="uq_scheduler_runs_job"),
    )
    op.create_index("ix_scheduler_runs_job", "scheduler_runs", ["job"])
    op.create_table(
        "event_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(80), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("origin", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event_outbox"),
    )
    op.create_index("ix_event_outbox_created_at", "event_outbox", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_event_outbox_created_at", table_name="event_outbox")
    op.drop_table("event_outbox")
    op.drop_index("ix_scheduler_runs_job", table_name="scheduler_runs")
    op.drop_table("scheduler_runs")
