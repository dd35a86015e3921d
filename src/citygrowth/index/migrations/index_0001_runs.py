"""index: runs of the composite index

Revision ID: index_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "index_0001"
down_revision = None
branch_labels = ("index",)
depends_on = ("auth_0001",)


def upgrade() -> None:
    op.create_table(
        "index_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_code", sa.String(40), nullable=False),
        sa.Column("framework_version", sa.String(40), nullable=False),
        sa.Column("vintage", sa.String(40), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("levels", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("results_path", sa.String(500), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_index_runs"),
    )
    op.create_index("ix_index_runs_framework_code_vintage", "index_runs",
                    ["framework_code", "vintage"])


def downgrade() -> None:
    op.drop_table("index_runs")
