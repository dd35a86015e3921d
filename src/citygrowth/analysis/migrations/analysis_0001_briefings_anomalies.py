"""analysis: briefing archive and anomaly warnings with their decisions

Revision ID: analysis_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "analysis_0001"
down_revision = None
branch_labels = ("analysis",)
depends_on = ("auth_0001",)


def upgrade() -> None:
    op.create_table(
        "analysis_briefings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("folder", sa.String(400), nullable=False),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column("vintage", sa.String(60), nullable=False),
        sa.Column("figure_count", sa.Integer(), nullable=False),
        sa.Column("sentence_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["area_code"], ["areas.code"],
                                name="fk_analysis_briefings_area_code_areas"),
        sa.PrimaryKeyConstraint("id", name="pk_analysis_briefings"),
        sa.UniqueConstraint("area_code", "month", "locale",
                            name="uq_analysis_briefings_area_code"),
    )
    op.create_index("ix_analysis_briefings_area_code", "analysis_briefings", ["area_code"])
    op.create_table(
        "analysis_anomalies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("load_id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("indicator", sa.String(60), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("period", sa.String(12), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=True),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analysis_anomalies"),
        sa.UniqueConstraint("load_id", "key", name="uq_analysis_anomalies_load_id"),
    )
    op.create_index("ix_analysis_anomalies_load_id", "analysis_anomalies", ["load_id"])
    op.create_index("ix_analysis_anomalies_area_code", "analysis_anomalies", ["area_code"])


def downgrade() -> None:
    op.drop_table("analysis_anomalies")
    op.drop_table("analysis_briefings")
