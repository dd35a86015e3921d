"""Accountability tables: targets, key projects, approvals and the investment service desk.

Money is stored as whole 万元 (ten thousand yuan) in integers so that portfolio totals add up
exactly; pages and exports show 亿元 (= 10,000 万元). Every table name starts with ``acc_``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citygrowth.db import Base, UTCDateTime, utcnow

WAN_PER_YI = 10_000


class Target(Base):
    """A target with an owner department, co-owners, a deadline, milestones and progress."""

    __tablename__ = "acc_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    unit_zh: Mapped[str] = mapped_column(String(40), default="")
    unit_en: Mapped[str] = mapped_column(String(60), default="")
    baseline: Mapped[float] = mapped_column(Float, default=0.0)
    target_value: Mapped[float] = mapped_column(Float)
    start_date: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date] = mapped_column(Date)
    plan: Mapped[str] = mapped_column(String(12), default="linear")  # linear | milestones
    # reach (rise or fall to target_value) | hold_above | hold_below (keep the limit)
    kind: Mapped[str] = mapped_column(String(12), default="reach", server_default="reach")
    indicator_code: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    co_owners: Mapped[list[TargetCoOwner]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Milestone.due_date"
    )
    reports: Mapped[list[ProgressReport]] = relationship(
        cascade="all, delete-orphan", lazy="selectin",
        order_by="(ProgressReport.reported_on, ProgressReport.id)",
    )

    @property
    def co_owner_codes(self) -> list[str]:
        return sorted(c.department_code for c in self.co_owners)


class TargetCoOwner(Base):
    __tablename__ = "acc_target_coowners"

    target_id: Mapped[int] = mapped_column(
        ForeignKey("acc_targets.id", ondelete="CASCADE"), primary_key=True
    )
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), primary_key=True)


class Milestone(Base):
    """A dated step of a target's plan: by ``due_date`` the value should reach ``planned_value``."""

    __tablename__ = "acc_milestones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(
        ForeignKey("acc_targets.id", ondelete="CASCADE"), index=True
    )
    due_date: Mapped[dt.date] = mapped_column(Date)
    planned_value: Mapped[float] = mapped_column(Float)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    done_on: Mapped[dt.date | None] = mapped_column(Date)


class ProgressReport(Base):
    """The cumulative value a department reports for a target on a date."""

    __tablename__ = "acc_progress_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(
        ForeignKey("acc_targets.id", ondelete="CASCADE"), index=True
    )
    reported_on: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    reported_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Evidence(Base):
    """A file or photo backing a target's progress, stored under ``data_dir/uploads``."""

    __tablename__ = "acc_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(
        ForeignKey("acc_targets.id", ondelete="CASCADE"), index=True
    )
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("acc_progress_reports.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Project(Base):
    """A district key project (重点项目)."""

    __tablename__ = "acc_projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    industry: Mapped[str] = mapped_column(String(30), index=True)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    total_wan: Mapped[int] = mapped_column(Integer)
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int] = mapped_column(Integer)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    investments: Mapped[list[ProjectInvestment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProjectInvestment.period"
    )
    milestones: Mapped[list[ProjectMilestone]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProjectMilestone.due_date"
    )
    problems: Mapped[list[ProjectProblem]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProjectProblem.id"
    )

    @property
    def total_yi(self) -> float:
        return self.total_wan / WAN_PER_YI

    @property
    def completed_wan(self) -> int:
        return sum(i.completed_wan for i in self.investments)


class ProjectInvestment(Base):
    """Investment planned and completed for a project in one month (``YYYY-MM``), in 万元."""

    __tablename__ = "acc_project_investments"
    __table_args__ = (UniqueConstraint("project_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("acc_projects.id", ondelete="CASCADE"), index=True
    )
    period: Mapped[str] = mapped_column(String(7))
    planned_wan: Mapped[int] = mapped_column(Integer, default=0)
    completed_wan: Mapped[int] = mapped_column(Integer, default=0)


class ProjectMilestone(Base):
    __tablename__ = "acc_project_milestones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("acc_projects.id", ondelete="CASCADE"), index=True
    )
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    due_date: Mapped[dt.date] = mapped_column(Date)
    done_on: Mapped[dt.date | None] = mapped_column(Date)


class ProjectProblem(Base):
    """A problem escalated for coordination (问题协调), with an owner department and deadline."""

    __tablename__ = "acc_project_problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("acc_projects.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    owner_department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | resolved
    raised_by: Mapped[str] = mapped_column(String(80), default="")
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str] = mapped_column(Text, default="")

    @property
    def department_code(self) -> str:
        return self.owner_department_code


class ApprovalItem(Base):
    """A project approval (核准), filing (备案) or initiation (立项) and its timestamps."""

    __tablename__ = "acc_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(12))  # approval | filing | initiation
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("acc_projects.id", ondelete="SET NULL")
    )
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    limit_days: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    steps: Mapped[list[ApprovalStep]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ApprovalStep.seq"
    )


class ApprovalStep(Base):
    __tablename__ = "acc_approval_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("acc_approvals.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Enterprise(Base):
    """An enterprise served by the investment desk."""

    __tablename__ = "acc_enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    industry: Mapped[str] = mapped_column(String(30))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    created_by_department: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Lead(Base):
    """An investment lead; shared by every department, never deleted (only closed)."""

    __tablename__ = "acc_leads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("acc_enterprises.id"), index=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    industry: Mapped[str] = mapped_column(String(30))
    stage: Mapped[str] = mapped_column(String(16), default="new", index=True)
    source_department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    owner_department_code: Mapped[str] = mapped_column(
        ForeignKey("departments.code"), index=True
    )
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    expected_wan: Mapped[int] = mapped_column(Integer, default=0)
    landed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_reason: Mapped[str] = mapped_column(Text, default="")
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    events: Mapped[list[LeadEvent]] = relationship(
        lazy="selectin", order_by="(LeadEvent.at, LeadEvent.id)"
    )

    @property
    def department_code(self) -> str:
        return self.owner_department_code


class LeadEvent(Base):
    """One line of a lead's history (created, follow-up, stage change, hand-over, closed)."""

    __tablename__ = "acc_lead_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("acc_leads.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    kind: Mapped[str] = mapped_column(String(16))
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class ServiceRequest(Base):
    """An enterprise's request, routed to the department that handles its topic."""

    __tablename__ = "acc_service_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("acc_enterprises.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("acc_leads.id"))
    topic: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    status: Mapped[str] = mapped_column(String(12), default="open")
    response: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


__all__ = [
    "ApprovalItem", "ApprovalStep", "Enterprise", "Evidence", "Lead", "LeadEvent", "Milestone",
    "ProgressReport", "Project", "ProjectInvestment", "ProjectMilestone", "ProjectProblem",
    "ServiceRequest", "Target", "TargetCoOwner", "WAN_PER_YI",
]
