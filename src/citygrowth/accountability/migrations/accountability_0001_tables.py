"""accountability: targets, key projects, approvals, investment desk

Revision ID: accountability_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "accountability_0001"
down_revision = None
branch_labels = ("accountability",)
depends_on = ("auth_0001", "areas_0001")


def upgrade() -> None:
    op.create_table(
        "acc_enterprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("industry", sa.String(30), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("created_by_department", sa.String(40), nullable=True),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"], ["areas.code"], name="fk_acc_enterprises_area_code_areas"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_department"],
            ["departments.code"],
            name="fk_acc_enterprises_created_by_department_departments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_enterprises"),
        sa.UniqueConstraint("credit_code", name="uq_acc_enterprises_credit_code"),
    )
    op.create_table(
        "acc_projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=False),
        sa.Column("industry", sa.String(30), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("total_wan", sa.Integer(), nullable=False),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("end_year", sa.Integer(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"], ["areas.code"], name="fk_acc_projects_area_code_areas"
        ),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name="fk_acc_projects_department_code_departments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_projects"),
        sa.UniqueConstraint("code", name="uq_acc_projects_code"),
    )
    op.create_index("ix_acc_projects_area_code", "acc_projects", ["area_code"])
    op.create_index("ix_acc_projects_department_code", "acc_projects", ["department_code"])
    op.create_index("ix_acc_projects_industry", "acc_projects", ["industry"])
    op.create_index("ix_acc_projects_stage", "acc_projects", ["stage"])
    op.create_table(
        "acc_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("unit_zh", sa.String(40), nullable=False),
        sa.Column("unit_en", sa.String(60), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("target_value", sa.Float(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("plan", sa.String(12), nullable=False),
        sa.Column("indicator_code", sa.String(60), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"], ["areas.code"], name="fk_acc_targets_area_code_areas"
        ),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name="fk_acc_targets_department_code_departments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_targets"),
        sa.UniqueConstraint("code", name="uq_acc_targets_code"),
    )
    op.create_index("ix_acc_targets_department_code", "acc_targets", ["department_code"])
    op.create_table(
        "acc_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("limit_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"], ["areas.code"], name="fk_acc_approvals_area_code_areas"
        ),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name="fk_acc_approvals_department_code_departments",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["acc_projects.id"],
            name="fk_acc_approvals_project_id_acc_projects",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_approvals"),
        sa.UniqueConstraint("code", name="uq_acc_approvals_code"),
    )
    op.create_index("ix_acc_approvals_approved_at", "acc_approvals", ["approved_at"])
    op.create_index("ix_acc_approvals_area_code", "acc_approvals", ["area_code"])
    op.create_index("ix_acc_approvals_department_code", "acc_approvals", ["department_code"])
    op.create_index("ix_acc_approvals_submitted_at", "acc_approvals", ["submitted_at"])
    op.create_table(
        "acc_leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("title_zh", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("industry", sa.String(30), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("source_department_code", sa.String(40), nullable=False),
        sa.Column("owner_department_code", sa.String(40), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("expected_wan", sa.Integer(), nullable=False),
        sa.Column("landed_on", sa.Date(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("closed_reason", sa.Text(), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["area_code"], ["areas.code"], name="fk_acc_leads_area_code_areas"),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["acc_enterprises.id"],
            name="fk_acc_leads_enterprise_id_acc_enterprises",
        ),
        sa.ForeignKeyConstraint(
            ["owner_department_code"],
            ["departments.code"],
            name="fk_acc_leads_owner_department_code_departments",
        ),
        sa.ForeignKeyConstraint(
            ["source_department_code"],
            ["departments.code"],
            name="fk_acc_leads_source_department_code_departments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_leads"),
    )
    op.create_index("ix_acc_leads_enterprise_id", "acc_leads", ["enterprise_id"])
    op.create_index("ix_acc_leads_owner_department_code", "acc_leads", ["owner_department_code"])
    op.create_index("ix_acc_leads_stage", "acc_leads", ["stage"])
    op.create_table(
        "acc_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("planned_value", sa.Float(), nullable=False),
        sa.Column("title_zh", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["acc_targets.id"],
            name="fk_acc_milestones_target_id_acc_targets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_milestones"),
    )
    op.create_index("ix_acc_milestones_target_id", "acc_milestones", ["target_id"])
    op.create_table(
        "acc_progress_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=True),
        sa.Column("reported_by", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name="fk_acc_progress_reports_department_code_departments",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["acc_targets.id"],
            name="fk_acc_progress_reports_target_id_acc_targets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_progress_reports"),
    )
    op.create_index("ix_acc_progress_reports_target_id", "acc_progress_reports", ["target_id"])
    op.create_table(
        "acc_project_investments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("planned_wan", sa.Integer(), nullable=False),
        sa.Column("completed_wan", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["acc_projects.id"],
            name="fk_acc_project_investments_project_id_acc_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_project_investments"),
        sa.UniqueConstraint("project_id", "period", name="uq_acc_project_investments_project_id"),
    )
    op.create_index(
        "ix_acc_project_investments_project_id", "acc_project_investments", ["project_id"]
    )
    op.create_table(
        "acc_project_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("title_zh", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["acc_projects.id"],
            name="fk_acc_project_milestones_project_id_acc_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_project_milestones"),
    )
    op.create_index(
        "ix_acc_project_milestones_project_id", "acc_project_milestones", ["project_id"]
    )
    op.create_table(
        "acc_project_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_department_code", sa.String(40), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("raised_by", sa.String(80), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_department_code"],
            ["departments.code"],
            name="fk_acc_project_problems_owner_department_code_departments",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["acc_projects.id"],
            name="fk_acc_project_problems_project_id_acc_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_project_problems"),
    )
    op.create_index("ix_acc_project_problems_project_id", "acc_project_problems", ["project_id"])
    op.create_table(
        "acc_target_coowners",
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name="fk_acc_target_coowners_department_code_departments",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["acc_targets.id"],
            name="fk_acc_target_coowners_target_id_acc_targets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("target_id", "department_code", name="pk_acc_target_coowners"),
    )
    op.create_table(
        "acc_approval_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(160), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name="fk_acc_approval_steps_department_code_departments",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["acc_approvals.id"],
            name="fk_acc_approval_steps_item_id_acc_approvals",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_approval_steps"),
    )
    op.create_index("ix_acc_approval_steps_item_id", "acc_approval_steps", ["item_id"])
    op.create_table(
        "acc_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("stored_name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["acc_progress_reports.id"],
            name="fk_acc_evidence_report_id_acc_progress_reports",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["acc_targets.id"],
            name="fk_acc_evidence_target_id_acc_targets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_evidence"),
    )
    op.create_index("ix_acc_evidence_target_id", "acc_evidence", ["target_id"])
    op.create_table(
        "acc_lead_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_stage", sa.String(16), nullable=True),
        sa.Column("to_stage", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name="fk_acc_lead_events_department_code_departments",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["acc_leads.id"], name="fk_acc_lead_events_lead_id_acc_leads"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_lead_events"),
    )
    op.create_index("ix_acc_lead_events_lead_id", "acc_lead_events", ["lead_id"])
    op.create_table(
        "acc_service_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["area_code"], ["areas.code"], name="fk_acc_service_requests_area_code_areas"
        ),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name="fk_acc_service_requests_department_code_departments",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["acc_enterprises.id"],
            name="fk_acc_service_requests_enterprise_id_acc_enterprises",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["acc_leads.id"], name="fk_acc_service_requests_lead_id_acc_leads"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_acc_service_requests"),
    )
    op.create_index(
        "ix_acc_service_requests_department_code", "acc_service_requests", ["department_code"]
    )
    op.create_index(
        "ix_acc_service_requests_enterprise_id", "acc_service_requests", ["enterprise_id"]
    )


def downgrade() -> None:
    for t in (
        "acc_service_requests",
        "acc_lead_events",
        "acc_evidence",
        "acc_approval_steps",
        "acc_target_coowners",
        "acc_project_problems",
        "acc_project_milestones",
        "acc_project_investments",
        "acc_progress_reports",
        "acc_milestones",
        "acc_leads",
        "acc_approvals",
        "acc_targets",
        "acc_projects",
        "acc_enterprises",
    ):
        op.drop_table(t)
