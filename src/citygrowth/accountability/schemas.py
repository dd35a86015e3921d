"""Pydantic models at the edges (JSON API bodies); services receive them."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from citygrowth.inputs import Date, DateTime, InputModel, Line, Month, Number, Text, Year

Code = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
DeptCode = Field(min_length=1, max_length=40)
AreaCode = Field(min_length=6, max_length=15, pattern=r"^\d+$")

INDUSTRIES = ("blue_economy", "sci_tech", "big_data", "finance", "commerce", "culture_tourism",
              "urban_renewal", "health", "other")
PROJECT_STAGES = ("planning", "preparing", "construction", "completed")
APPROVAL_KINDS = ("approval", "filing", "initiation")
LEAD_STAGES = ("new", "contacted", "negotiating", "signed", "landed")
REQUEST_TOPICS = ("site", "permit", "talent", "finance", "technology", "market", "other")


class _In(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MilestoneIn(_In):
    due_date: Date
    planned_value: Number
    title_zh: Line = Field(min_length=1, max_length=200)
    title_en: Line = Field(default="", max_length=300)


class TargetIn(_In):
    code: str = Code
    name_zh: Line = Field(min_length=1, max_length=200)
    name_en: Line = Field(default="", max_length=300)
    department_code: Line = DeptCode
    co_owners: list[Line] = Field(default_factory=list, max_length=20)
    area_code: str = AreaCode
    unit_zh: Line = Field(default="", max_length=40)
    unit_en: Line = Field(default="", max_length=60)
    baseline: Number = 0.0
    target_value: Number
    start_date: Date
    deadline: Date
    plan: Literal["linear", "milestones"] = "linear"
    kind: Literal["reach", "hold_above", "hold_below"] = "reach"
    indicator_code: Line | None = Field(default=None, max_length=60)
    description: Text = Field(default="", max_length=4000)
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=100)
    illustrative: bool = False


class ProgressIn(_In):
    reported_on: Date
    value: Number
    note: Text = Field(default="", max_length=4000)


class ProjectIn(_In):
    code: str = Code
    name_zh: Line = Field(min_length=1, max_length=200)
    name_en: Line = Field(default="", max_length=300)
    industry: Literal[INDUSTRIES] = "other"  # type: ignore[valid-type]
    stage: Literal[PROJECT_STAGES] = "planning"  # type: ignore[valid-type]
    department_code: Line = DeptCode
    area_code: str = AreaCode
    total_wan: int = Field(ge=0, le=10**9)
    start_year: Year
    end_year: Year
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    illustrative: bool = False


class InvestmentIn(_In):
    period: Month
    completed_wan: int = Field(ge=0, le=10**9)
    planned_wan: int = Field(default=0, ge=0, le=10**9)


class ProblemIn(_In):
    description: Text = Field(min_length=1, max_length=4000)
    owner_department_code: Line = DeptCode
    deadline: Date


class ResolveIn(_In):
    resolution: Text = Field(min_length=1, max_length=4000)


Id = Field(ge=1, le=2**31 - 1)


class MilestoneDoneIn(_In):
    milestone_id: int = Id
    done_on: Date


class MilestoneMoveIn(_In):
    milestone_id: int = Id
    due_date: Date
    reason: Text = Field(min_length=1, max_length=1000)


class ProjectMilestoneIn(_In):
    title_zh: Line = Field(min_length=1, max_length=200)
    title_en: Line = Field(default="", max_length=300)
    due_date: Date


class ProjectStageIn(_In):
    stage: Literal[PROJECT_STAGES]  # type: ignore[valid-type]
    note: Text = Field(default="", max_length=1000)


class StepIn(_In):
    name_zh: Line = Field(min_length=1, max_length=120)
    name_en: Line = Field(default="", max_length=160)
    department_code: Line = DeptCode
    started_at: DateTime
    finished_at: DateTime | None = None


class ApprovalIn(_In):
    code: str = Code
    name_zh: Line = Field(min_length=1, max_length=200)
    name_en: Line = Field(default="", max_length=300)
    kind: Literal[APPROVAL_KINDS] = "filing"  # type: ignore[valid-type]
    project_code: Line | None = Field(default=None, max_length=40)
    department_code: Line = DeptCode
    area_code: str = AreaCode
    submitted_at: DateTime
    approved_at: DateTime | None = None
    limit_days: int = Field(default=1, ge=0, le=365)
    steps: list[StepIn] = Field(default_factory=list, max_length=50)


class AcceptIn(_In):
    """受理: an application for approval is accepted; the clock of working days starts."""

    code: str = Code
    name_zh: Line = Field(min_length=1, max_length=200)
    name_en: Line = Field(default="", max_length=300)
    kind: Literal[APPROVAL_KINDS] = "filing"  # type: ignore[valid-type]
    project_code: Line | None = Field(default=None, max_length=40)
    department_code: Line = DeptCode
    area_code: str = AreaCode
    accepted_at: DateTime
    limit_days: int = Field(default=1, ge=0, le=365)
    note: Text = Field(default="", max_length=2000)


class CompleteIn(_In):
    """办结: the approval item is decided."""

    completed_at: DateTime
    outcome: Literal["approved", "refused"] = "approved"
    note: Text = Field(default="", max_length=2000)


class EnterpriseIn(_In):
    name_zh: Line = Field(min_length=1, max_length=200)
    name_en: Line = Field(default="", max_length=300)
    credit_code: Line | None = Field(default=None, pattern=r"^[0-9A-Z]{18}$")
    industry: Literal[INDUSTRIES] = "other"  # type: ignore[valid-type]
    area_code: str = AreaCode


class LeadIn(_In):
    enterprise_id: int = Field(ge=1, le=2**31 - 1)
    title_zh: Line = Field(min_length=1, max_length=200)
    title_en: Line = Field(default="", max_length=300)
    industry: Literal[INDUSTRIES] = "other"  # type: ignore[valid-type]
    department_code: Line = DeptCode
    area_code: str = AreaCode
    expected_wan: int = Field(default=0, ge=0, le=10**9)
    note: Text = Field(default="", max_length=4000)


class FollowUpIn(_In):
    note: Text = Field(min_length=1, max_length=4000)


class StageIn(_In):
    stage: Literal[LEAD_STAGES] = "contacted"  # type: ignore[valid-type]
    note: Text = Field(default="", max_length=4000)
    landed_on: Date | None = None


class HandOverIn(_In):
    department_code: Line = DeptCode
    note: Text = Field(default="", max_length=4000)


class RefuseIn(_In):
    reason: Text = Field(min_length=1, max_length=2000)


class CloseIn(_In):
    reason: Text = Field(min_length=1, max_length=4000)


class ServiceRequestIn(_In):
    enterprise_id: int = Field(ge=1, le=2**31 - 1)
    lead_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    topic: Literal[REQUEST_TOPICS] = "other"  # type: ignore[valid-type]
    description: Text = Field(min_length=1, max_length=4000)
    due_on: Date | None = None  # default: REQUEST_DAYS working days from today


class RequestUpdateIn(_In):
    status: Literal["in_progress", "done"] = "done"
    response: Text = Field(default="", max_length=4000)
