"""areas: the area tree

Revision ID: areas_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "areas_0001"
down_revision = None
branch_labels = ("areas",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "areas",
        sa.Column("code", sa.String(15), primary_key=True),
        sa.Column("level", sa.String(12), nullable=False),
        sa.Column("parent_code", sa.String(15), sa.ForeignKey("areas.code", ondelete="RESTRICT",
                  name="fk_areas_parent_code_areas"), nullable=True),
        sa.Column("name_zh", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(160), nullable=False),
        sa.Column("geometry", sa.Text(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("area_km2", sa.Float(), nullable=True),
        sa.Column("centroid_lon", sa.Float(), nullable=True),
        sa.Column("centroid_lat", sa.Float(), nullable=True),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_areas"),
    )
    op.create_index("ix_areas_level", "areas", ["level"])
    op.create_index("ix_areas_parent_code", "areas", ["parent_code"])


def downgrade() -> None:
    op.drop_table("areas")
