"""holidays: State Council holiday notices loaded by an administrator

Revision ID: holidays_0001_ops
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "holidays_0001_ops"
down_revision = None
branch_labels = ("holidays",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holiday_notices",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("document", sa.String(100), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("loaded_by", sa.String(80), nullable=False),
        sa.Column("loaded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_holiday_notices"),
    )
    op.create_table(
        "holiday_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.ForeignKeyConstraint(["year"], ["holiday_notices.year"], ondelete="CASCADE",
                                name="fk_holiday_days_year_holiday_notices"),
        sa.PrimaryKeyConstraint("day", name="pk_holiday_days"),
    )
    op.create_index("ix_holiday_days_year", "holiday_days", ["year"])


def downgrade() -> None:
    op.drop_index("ix_holiday_days_year", table_name="holiday_days")
    op.drop_table("holiday_days")
    op.drop_table("holiday_notices")
