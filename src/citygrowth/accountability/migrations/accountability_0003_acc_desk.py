"""accountability: the desk — recent changes, moved milestones, approval outcome, lead
hand-overs waiting for acceptance, service-request deadlines

Revision ID: accountability_0003_acc
Revises: accountability_0002_acc
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "accountability_0003_acc"
down_revision = "accountability_0002_acc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acc_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("actor_department", sa.String(40), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_department"], ["departments.code"],
                                name="fk_acc_changes_actor_department_departments"),
        sa.ForeignKeyConstraint(["department_code"], ["departments.code"],
                                name="fk_acc_changes_department_code_departments"),
        sa.PrimaryKeyConstraint("id", name="pk_acc_changes"),
    )
    op.create_index("ix_acc_changes_at", "acc_changes", ["at"])
    op.create_index("ix_acc_changes_area_code", "acc_changes", ["area_code"])
    with op.batch_alter_table("acc_project_milestones") as batch:
        batch.add_column(sa.Column("original_due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("acc_approvals") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("recorded_by", sa.String(80), nullable=False,
                                   server_default=""))
    with op.batch_alter_table("acc_leads") as batch:
        batch.add_column(sa.Column("handover_to", sa.String(40), nullable=True))
        batch.add_column(sa.Column("handover_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("handover_by", sa.String(80), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("handover_note", sa.Text(), nullable=False,
                                   server_default=""))
        batch.create_foreign_key("fk_acc_leads_handover_to_departments", "departments",
                                 ["handover_to"], ["code"])
        batch.create_index("ix_acc_leads_handover_to", ["handover_to"])
    with op.batch_alter_table("acc_service_requests") as batch:
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("acc_service_requests") as batch:
        batch.drop_column("due_on")
    with op.batch_alter_table("acc_leads") as batch:
        batch.drop_index("ix_acc_leads_handover_to")
        batch.drop_constraint("fk_acc_leads_handover_to_departments", type_="foreignkey")
        for col in ("handover_note", "handover_by", "handover_at", "handover_to"):
            batch.drop_column(col)
    with op.batch_alter_table("acc_approvals") as batch:
        batch.drop_column("recorded_by")
        batch.drop_column("note")
    with op.batch_alter_table("acc_project_milestones") as batch:
        batch.drop_column("note")
        batch.drop_column("original_due_date")
    op.drop_index("ix_acc_changes_area_code", "acc_changes")
    op.drop_index("ix_acc_changes_at", "acc_changes")
    op.drop_table("acc_changes")
