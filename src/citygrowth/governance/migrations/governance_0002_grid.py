"""governance: delivery to departments (channels, send records, inbox); helpers' skills, help
tasks' skill, note and author

Revision ID: governance_0002_grid
Revises: governance_0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "governance_0002_grid"
down_revision = "governance_0001"
branch_labels = None
depends_on = None


def _fk(table: str, col: str, ref: str, refcol: str = "code",
        ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f"{ref}.{refcol}"], name=f"fk_{table}_{col}_{ref}",
                                   ondelete=ondelete)


def _channels() -> None:
    t = "case_department_channels"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _fk(t, "department_code", "departments"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("department_code", "channel", name=f"uq_{t}_department_code"),
    )
    op.create_index(f"ix_{t}_department_code", t, ["department_code"])


def _deliveries() -> None:
    t = "case_deliveries"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("receipt", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        _fk(t, "case_id", "cases", "id", ondelete="CASCADE"),
        _fk(t, "event_id", "case_events", "id", ondelete="CASCADE"),
        _fk(t, "department_code", "departments"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("event_id", "channel", name=f"uq_{t}_event_id"),
    )
    for col in ("case_id", "department_code", "state", "next_attempt_at"):
        op.create_index(f"ix_{t}_{col}", t, [col])
    t = "case_inbox"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("read_by", sa.String(80), nullable=False),
        _fk(t, "department_code", "departments"),
        _fk(t, "case_id", "cases", "id", ondelete="CASCADE"),
        _fk(t, "delivery_id", "case_deliveries", "id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("delivery_id", name=f"uq_{t}_delivery_id"),
    )
    for col in ("department_code", "case_id", "created_at"):
        op.create_index(f"ix_{t}_{col}", t, [col])


def _helpers() -> None:
    with op.batch_alter_table("case_helpers") as b:
        b.add_column(sa.Column("skills", sa.JSON(), nullable=False, server_default="[]"))
        b.add_column(sa.Column("registered_by", sa.String(80), nullable=False,
                               server_default=""))
    with op.batch_alter_table("case_help_tasks") as b:
        b.add_column(sa.Column("skill", sa.String(40), nullable=True))
        b.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
        b.add_column(sa.Column("created_by", sa.String(80), nullable=False, server_default=""))


def upgrade() -> None:
    _channels()
    _deliveries()
    _helpers()


def downgrade() -> None:
    with op.batch_alter_table("case_help_tasks") as b:
        for col in ("created_by", "note", "skill"):
            b.drop_column(col)
    with op.batch_alter_table("case_helpers") as b:
        for col in ("registered_by", "skills"):
            b.drop_column(col)
    for t in ("case_inbox", "case_deliveries", "case_department_channels"):
        op.drop_table(t)
