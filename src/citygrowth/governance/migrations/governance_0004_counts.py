"""governance: case counts kept by triggers, and a partial index of the open cases

Revision ID: governance_0004_counts
Revises: governance_0003_media
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.governance import counts
from citygrowth.governance.models import OPEN_SQL

OPEN_COLUMNS = ["reported_at", "id", "status", "area_code", "department_code", "due_at",
                "warn_at", "supervised", "category_code", "lat", "lon"]

revision = "governance_0004_counts"
down_revision = "governance_0003_media"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_counts",
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("own", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket", sa.String(20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("area_code", "own", "bucket", name="pk_case_counts"),
    )
    op.create_table(
        "case_department_counts",
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("bucket", sa.String(20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("department_code", "area_code", "bucket",
                                name="pk_case_department_counts"),
    )
    op.drop_index("ix_cases_status", table_name="cases")
    op.drop_index("ix_cases_due_at", table_name="cases")
    where = sa.text(f"status IN ({OPEN_SQL})")
    op.create_index("ix_cases_open", "cases", OPEN_COLUMNS, sqlite_where=where,
                    postgresql_where=where)
    conn = op.get_bind()
    counts.rebuild(conn)
    counts.install(conn)


def downgrade() -> None:
    conn = op.get_bind()
    for stmt in counts.drop_ddl(conn.dialect.name):
        op.execute(stmt)
    op.drop_index("ix_cases_open", table_name="cases")
    op.create_index("ix_cases_status", "cases", ["status"])
    op.create_index("ix_cases_due_at", "cases", ["due_at"])
    op.drop_table("case_department_counts")
    op.drop_table("case_counts")
