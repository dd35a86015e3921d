"""Pydantic models at the edges (JSON API bodies); services receive them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Code = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
DeptCode = Field(min_length=1, max_length=40)
AreaCode = Field(min_length=6, max_length=15, pattern=r"^\d+$")

INDUSTRIES = ("blue_economy", "sci_tech", "big_data", "finance", "commerce", "culture_tourism",
              "urban_renewal", "health", "other")
PROJECT_STAGES = ("planning", "preparing", "construction", "completed")
APPROVAL_KINDS = ("approval", "filing", "initiation")
LEAD_STAGES = ("new", "contacted", "negotiating", "signed", "landed")
REQUEST_TOPICS = ("site", "permit", "talent", "finance", "technology", "market", "other")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MilestoneIn(_In):
    due_date: dt.date
    planned_value: float = Field(allow_inf_nan=False)
    title_zh: str = Field(min_length=1, max_length=200)
    title_en: str = Field(default="", max_length=300)


class TargetIn(_In):
    code: str = Code
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=300)
    department_code: str = DeptCode
    co_owners: list[str] = Field(default_factory=list, max_length=20)
    area_code: str = AreaCode
    unit_zh: str = Field(default="", max_length=40)
    unit_en: str = Field(default="", max_length=60)
    baseline: float = Field(default=0.0, allow_inf_nan=False)
    target_value: float = Field(allow_inf_nan=False)
    start_date: dt.date
    deadline: dt.date
    plan: Literal["linear", "milestones"] = "linear"
    kind: Literal["reach", "hold_above", "hold_below"] = "reach"
    indicator_code: str | None = Field(default=None, max_length=60)
    description: str = Field(default="", max_length=4000)
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=100)
    illustrative: bool = False


class ProgressIn(_In):
    reported_on: dt.date
    value: float = Field(allow_inf_nan=False, ge=-1e12, le=1e12)
    note: str = Field(default="", max_length=4000)


class ProjectIn(_In):
    code: str = Code
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=300)
    industry: Literal[INDUSTRIES] = "other"  # type: ignore[valid-type]
    stage: Literal[PROJECT_STAGES] = "planning"  # type: ignore[valid-type]
    department_code: str = DeptCode
    area_code: str = AreaCode
    total_wan: int = Field(ge=0, le=10**9)
    start_year: int = Field(ge=1990, le=2100)
    end_year: int = Field(ge=1990, le=2100)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    illustrative: bool = False


class InvestmentIn(_In):
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    completed_wan: int = Field(ge=0, le=10**9)
    planned_wan: int = Field(default=0, ge=0, le=10**9)


class ProblemIn(_In):
    description: str = Field(min_length=1, max_length=4000)
    owner_department_code: str = DeptCode
    deadline: dt.date


class ResolveIn(_In):
    resolution: str = Field(min_length=1, max_length=4000)


class StepIn(_In):
    name_zh: str = Field(min_length=1, max_length=120)
    name_en: str = Field(default="", max_length=160)
    department_code: str = DeptCode
    started_at: dt.datetime
    finished_at: dt.datetime | None = None


class ApprovalIn(_In):
    code: str = Code
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=300)
    kind: Literal[APPROVAL_KINDS] = "filing"  # type: ignore[valid-type]
    project_code: str | None = Field(default=None, max_length=40)
    department_code: str = DeptCode
    area_code: str = AreaCode
    submitted_at: dt.datetime
    approved_at: dt.datetime | None = None
    limit_days: int = Field(default=1, ge=0, le=365)
    steps: list[StepIn] = Field(default_factory=list, max_length=50)


class EnterpriseIn(_In):
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=300)
    credit_code: str | None = Field(default=None, pattern=r"^[0-9A-Z]{18}$")
    industry: Literal[INDUSTRIES] = "other"  # type: ignore[valid-type]
    area_code: str = AreaCode


class LeadIn(_In):
    enterprise_id: int = Field(ge=1, le=2**31 - 1)
    title_zh: str = Field(min_length=1, max_length=200)
    title_en: str = Field(default="", max_length=300)
    industry: Literal[INDUSTRIES] = "other"  # type: ignore[valid-type]
    department_code: str = DeptCode
    area_code: str = AreaCode
    expected_wan: int = Field(default=0, ge=0, le=10**9)
    note: str = Field(default="", max_length=4000)


class FollowUpIn(_In):
    note: str = Field(min_length=1, max_length=4000)


class StageIn(_In):
    stage: Literal[LEAD_STAGES] = "contacted"  # type: ignore[valid-type]
    note: str = Field(default="", max_length=4000)
    landed_on: dt.date | None = None


class HandOverIn(_In):
    department_code: str = DeptCode
    note: str = Field(default="", max_length=4000)


class CloseIn(_In):
    reason: str = Field(min_length=1, max_length=4000)


class ServiceRequestIn(_In):
    enterprise_id: int = Field(ge=1, le=2**31 - 1)
    lead_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    topic: Literal[REQUEST_TOPICS] = "other"  # type: ignore[valid-type]
    description: str = Field(min_length=1, max_length=4000)


class RequestUpdateIn(_In):
    status: Literal["in_progress", "done"] = "done"
    response: str = Field(default="", max_length=4000)
