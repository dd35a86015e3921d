"""governance: case photos (case_media) and the categories' after-photo requirement

Revision ID: governance_0002_resident
Revises: governance_0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "governance_0003_media"
down_revision = "governance_0002_grid"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (SQLite too): a batch copy of the table would have to drop a table
    # that cases and components refer to
    op.add_column("case_categories", sa.Column("after_photo_required", sa.Boolean(),
                                               nullable=False, server_default=sa.false()))
    t = "case_media"
    op.create_table(
        t,
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(30), nullable=False),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_media_case_id_cases",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index("ix_case_media_case_id", t, ["case_id"])
    op.create_index("ix_case_media_uploaded_at", t, ["uploaded_at"])


def downgrade() -> None:
    op.drop_table("case_media")
    op.drop_column("case_categories", "after_photo_required")
