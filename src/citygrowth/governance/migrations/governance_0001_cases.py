"""governance: case taxonomy, components, dispatch rules, cases, case events, helpers

Revision ID: governance_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "governance_0001"
down_revision = None
branch_labels = ("governance",)
depends_on = ("auth_0001",)


def _fk(table: str, col: str, ref: str, refcol: str = "code",
        ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f"{ref}.{refcol}"], name=f"fk_{table}_{col}_{ref}",
                                   ondelete=ondelete)


def _categories() -> None:
    t = "case_categories"
    op.create_table(
        t,
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("parent_code", sa.String(20), nullable=True),
        sa.Column("name_zh", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(160), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=True),
        sa.Column("time_limit_hours", sa.Float(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _fk(t, "parent_code", "case_categories"),
        _fk(t, "department_code", "departments"),
        sa.PrimaryKeyConstraint("code", name=f"pk_{t}"),
    )
    op.create_index("ix_case_categories_parent_code", t, ["parent_code"])
    t = "case_components"
    op.create_table(
        t,
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("category_code", sa.String(20), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("owner_department_code", sa.String(40), nullable=True),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        _fk(t, "category_code", "case_categories"),
        _fk(t, "area_code", "areas"),
        _fk(t, "owner_department_code", "departments"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index("ix_case_components_category_code", t, ["category_code"])
    op.create_index("ix_case_components_area_code", t, ["area_code"])
    t = "case_dispatch_rules"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(20), nullable=True),
        sa.Column("area_prefix", sa.String(15), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
        _fk(t, "category_code", "case_categories"),
        _fk(t, "department_code", "departments"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )


def _cases() -> None:
    t = "cases"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("category_code", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("component_id", sa.String(16), nullable=True),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("pending", sa.String(20), nullable=True),
        sa.Column("pending_hours", sa.Float(), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("reporter_user_id", sa.Integer(), nullable=True),
        sa.Column("reporter_contact", sa.String(200), nullable=False),
        sa.Column("device_id", sa.String(100), nullable=False),
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("warn_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("limit_hours", sa.Float(), nullable=True),
        sa.Column("supervised", sa.Boolean(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("rework_count", sa.Integer(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        _fk(t, "category_code", "case_categories"),
        _fk(t, "area_code", "areas"),
        _fk(t, "department_code", "departments"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("token", name="uq_cases_token"),
        sa.UniqueConstraint("idempotency_key", name="uq_cases_idempotency_key"),
    )
    for col in ("fingerprint", "category_code", "area_code", "department_code", "status",
                "reported_at", "due_at"):
        op.create_index(f"ix_cases_{col}", t, [col])
    t = "case_events"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        _fk(t, "case_id", "cases", "id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("case_id", "seq", name="uq_case_events_case_id"),
    )
    op.create_index("ix_case_events_case_id", t, ["case_id"])
    op.create_index("ix_case_events_at", t, ["at"])


def _helpers() -> None:
    t = "case_helpers"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        _fk(t, "user_id", "users", "id"),
        _fk(t, "area_code", "areas"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index("ix_case_helpers_user_id", t, ["user_id"])
    op.create_index("ix_case_helpers_area_code", t, ["area_code"])
    t = "case_help_tasks"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("taken_at", UTCDateTime(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        _fk(t, "area_code", "areas"),
        _fk(t, "helper_id", "case_helpers", "id"),
        _fk(t, "case_id", "cases", "id"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index("ix_case_help_tasks_area_code", t, ["area_code"])
    op.create_index("ix_case_help_tasks_helper_id", t, ["helper_id"])
    op.create_index("ix_case_help_tasks_done_at", t, ["done_at"])


def upgrade() -> None:
    _categories()
    _cases()
    _helpers()


def downgrade() -> None:
    for t in ("case_help_tasks", "case_helpers", "case_events", "cases", "case_dispatch_rules",
              "case_components", "case_categories"):
        op.drop_table(t)
