"""ingest: observation loads (accepted and rejected) with their metadata

Revision ID: ingest_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "ingest_0001"
down_revision = None
branch_labels = ("ingest",)
depends_on = ("auth_0001",)


def upgrade() -> None:
    op.create_table(
        "observation_loads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("load_id", sa.String(40), nullable=False),
        sa.Column("dataset", sa.String(40), nullable=True),
        sa.Column("department_code", sa.String(40), nullable=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("file_name", sa.String(300), nullable=True),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("vintage", UTCDateTime(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("problem_count", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("period_min", sa.String(12), nullable=True),
        sa.Column("period_max", sa.String(12), nullable=True),
        sa.Column("batch_path", sa.String(300), nullable=True),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_observation_loads"),
        sa.UniqueConstraint("load_id", name="uq_observation_loads_load_id"),
    )
    op.create_index("ix_observation_loads_dataset", "observation_loads", ["dataset"])
    op.create_index("ix_observation_loads_created_at", "observation_loads", ["created_at"])
    op.create_index("ix_observation_loads_status", "observation_loads", ["status"])


def downgrade() -> None:
    op.drop_table("observation_loads")
