"""Pydantic models at the edges (JSON API bodies); services receive them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from citygrowth.inputs import Date, DateTime, InputModel, Line, Month, Number, Text, Year
from citygrowth.web.openapi import Chart, DateText, Timestamp
from citygrowth.web.paging import Page

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


# --- answers ---------------------------------------------------------------------------------
# Dates are ISO ``YYYY-MM-DD``; names in the caller's language; amounts of money in 万元 (wan)
# or 亿元 (yi) as the field says.

class _Out(BaseModel):
    pass


class StatusCountsOut(_Out):
    green: int
    amber: int
    red: int


class TargetOut(_Out):
    """A target with its status today (see docs/accountability.md for the rules)."""

    id: int
    code: str
    name: str
    name_zh: str
    name_en: str
    kind: str = Field(description="reach, hold_above or hold_below")
    kind_name: str
    department_code: str
    department: str
    co_owners: list[str]
    co_owner_names: list[str]
    area_code: str
    unit: str
    baseline: float
    target_value: float
    baseline_text: str
    target_text: str
    latest_text: str
    start_date: DateText
    deadline: DateText
    plan: str = Field(description="linear or milestones")
    indicator_code: str | None
    status: str = Field(description="green, amber or red")
    status_name: str
    direction: str = Field(description="up, down, hold_above or hold_below")
    latest_value: float | None
    latest_on: DateText | None
    actual: float = Field(description="Share of the way from baseline to target (0–1)")
    planned: float
    gap: float
    forecast: float | None
    forecast_value: float | None
    probability: float | None = Field(description="Of attainment by the deadline, 0–1")
    probability_note: str | None
    reports: int
    reasons: list[str]
    achieved: bool
    past_deadline: bool
    actual_pct: float
    planned_pct: float
    gap_pct: float
    forecast_pct: float | None
    probability_pct: int | None
    probability_text: str
    illustrative: bool


class TargetPage(Page[TargetOut]):
    counts: StatusCountsOut = Field(description="Of every matching target, not only this page")


class MilestoneOut(_Out):
    id: int
    title: str
    due_date: DateText
    planned_value: float
    planned_text: str
    done_on: DateText | None


class ProgressReportOut(_Out):
    id: int
    reported_on: DateText
    value: float
    value_text: str
    note: str
    department_code: str | None
    department: str
    reported_by: str


class EvidenceOut(_Out):
    id: int
    filename: str
    content_type: str
    size_bytes: int
    report_id: int | None


class TargetDetailOut(TargetOut):
    reports: list[ProgressReportOut]  # type: ignore[assignment]
    description: str
    milestones: list[MilestoneOut]
    plan_line: list[tuple[DateText, float]]
    can_report: bool
    evidence: list[EvidenceOut]
    chart: Chart


class CreatedOut(_Out):
    id: int
    code: str


class ProgressOut(_Out):
    id: int
    target_id: int
    value: float


class EvidenceSavedOut(_Out):
    id: int
    filename: str
    sha256: str


class UpcomingMilestoneOut(_Out):
    target_id: int
    target_code: str
    target: str
    milestone_id: int
    title: str
    due_date: DateText
    days_left: int
    overdue: bool
    planned_value: float
    department_code: str
    department: str
    co_owners: list[str]


class AtRiskOut(_Out):
    id: int
    code: str
    name: str
    status: str
    status_name: str
    gap_pct: float


class DepartmentStatusOut(_Out):
    department_code: str
    department: str
    green: int
    amber: int
    red: int
    total: int
    at_risk: list[AtRiskOut]


class ProjectDeskOut(_Out):
    total: int
    construction: int
    late_milestones: int
    open_problems: int
    reported_this_month: int


class ApprovalDeskOut(_Out):
    pending: int
    overdue: int
    completed_this_month: int


class InvestmentDeskOut(_Out):
    handovers: int
    open_requests: int
    overdue_requests: int
    open_leads: int


class DeskCountsOut(_Out):
    projects: ProjectDeskOut
    approvals: ApprovalDeskOut
    desk: InvestmentDeskOut | None = Field(description="Null where the caller may not see "
                                                       "the investment desk")


class ChangeOut(_Out):
    """One change on the desk, as a sentence, with a link to what changed."""

    id: int
    kind: str
    subject: str = Field(description="project, approval, lead, request or target")
    subject_id: int
    at: Timestamp
    time: str = Field(description="Local time, MM-DD HH:MM")
    actor: str
    username: str
    department: str
    subject_name: str
    name: str
    link: str = Field(description="The page of what changed (a path on this server)")
    text: str


class OverviewOut(_Out):
    today: DateText
    counts: StatusCountsOut
    departments: list[DepartmentStatusOut]
    chart: Chart
    desk: DeskCountsOut
    changes: list[ChangeOut]


class ProjectOut(_Out):
    id: int
    code: str
    name: str
    name_zh: str
    name_en: str
    industry: str
    industry_name: str
    stage: str
    stage_name: str
    department_code: str
    department: str
    area_code: str
    total_yi: float
    total_wan: int
    completed_yi: float
    start_year: int
    end_year: int
    lon: float | None
    lat: float | None
    open_problems: int
    illustrative: bool


class IndustryTotalOut(_Out):
    industry: str
    name: str
    count: int
    total_wan: int
    completed_wan: int
    total_yi: float
    completed_yi: float


class StageTotalOut(_Out):
    stage: str
    name: str
    count: int
    total_wan: int
    total_yi: float


class PortfolioOut(_Out):
    count: int
    total_wan: int
    total_yi: float
    completed_yi: float
    illustrative: bool
    by_industry: list[IndustryTotalOut]
    by_stage: list[StageTotalOut]


class ProjectChartsOut(_Out):
    industry: Chart
    stage: Chart
    map: Chart


class ProjectPage(Page[ProjectOut]):
    portfolio: PortfolioOut = Field(description="Of every project the caller sees")
    charts: ProjectChartsOut


class InvestmentMonthOut(_Out):
    period: str
    planned_wan: int
    completed_wan: int


class ProjectMilestoneOut(_Out):
    id: int
    title: str
    due_date: DateText
    original_due_date: DateText | None
    note: str
    done_on: DateText | None
    late: bool


class ProjectProblemOut(_Out):
    id: int
    description: str
    owner_department_code: str
    owner_department: str
    deadline: DateText
    status: str
    status_name: str
    overdue: bool
    raised_by: str
    resolution: str
    can_resolve: bool


class ProjectDetailOut(ProjectOut):
    area: str
    completed_wan: int
    this_year_yi: float
    completed_share_pct: float
    investments: list[InvestmentMonthOut]
    milestones: list[ProjectMilestoneOut]
    problems: list[ProjectProblemOut]
    can_edit: bool
    can_raise: bool


class MilestoneDoneOut(_Out):
    id: int
    done_on: DateText | None


class MilestoneMovedOut(_Out):
    id: int
    due_date: DateText
    original_due_date: DateText | None


class MilestoneAddedOut(_Out):
    id: int
    due_date: DateText


class StageOut(_Out):
    id: int
    stage: str


class InvestmentOut(_Out):
    project_id: int
    period: str
    completed_wan: int


class OpenProblemOut(_Out):
    id: int
    project_id: int
    project: str
    description: str
    owner_department_code: str
    owner_department: str
    deadline: DateText


class IdStatusOut(_Out):
    id: int
    status: str


class ApprovalOut(_Out):
    id: int
    code: str
    name: str
    kind: str
    kind_name: str
    department_code: str
    area_code: str
    submitted_on: DateText
    approved_on: DateText | None
    working_days: int | None
    limit_days: int
    status: str
    steps: int
    calendar_gaps: list[int] = Field(
        default_factory=list, description="Years the working days reach whose holidays are "
        "not loaded (counted Monday–Friday there)")


class MonthStatOut(_Out):
    period: str
    count: int
    mean_days: float | None
    median_days: float | None


class YearStatOut(_Out):
    year: int
    count: int
    mean_days: float | None
    median_days: float | None


class OverdueApprovalOut(ApprovalOut):
    elapsed_days: int


class ApprovalStatsOut(_Out):
    by_month: list[MonthStatOut]
    by_year: list[YearStatOut]
    this_year: YearStatOut
    pending: int
    overdue: list[OverdueApprovalOut]
    chart: Chart
    calendar_gaps: list[int] = Field(
        default_factory=list, description="Years the statistics reach whose holidays are not "
        "loaded")


class ApprovalRecordedOut(_Out):
    id: int
    code: str
    working_days: int | None


class ApprovalAcceptedOut(_Out):
    id: int
    code: str
    status: str


class ApprovalStepOut(_Out):
    seq: int
    name: str
    department: str
    started_at: str = Field(description="Local time, YYYY-MM-DD HH:MM")
    finished_at: str | None


class ApprovalProjectOut(_Out):
    id: int
    name: str


class ApprovalDetailOut(_Out):
    id: int
    code: str
    name: str
    kind: str
    kind_name: str
    department_code: str
    department: str
    area_code: str
    status: str
    status_name: str
    accepted_at: str = Field(description="Local time, YYYY-MM-DD HH:MM")
    completed_at: str | None
    working_days: int | None
    limit_days: int
    overdue: bool
    note: str
    project: ApprovalProjectOut | None
    steps: list[ApprovalStepOut]
    can_record: bool


class StepAddedOut(_Out):
    id: int
    seq: int


class ApprovalCompletedOut(_Out):
    id: int
    status: str
    working_days: int | None


class LeadOut(_Out):
    id: int
    title: str
    enterprise: str
    enterprise_id: int
    industry: str
    industry_name: str
    stage: str
    stage_name: str
    source_department_code: str
    owner_department_code: str
    source_department: str
    owner_department: str
    handover_to: str | None
    handover_department: str | None
    area_code: str
    expected_yi: float
    closed: bool
    landed_on: DateText | None
    events: int
    updated_at: Timestamp


class LeadEventOut(_Out):
    at: Timestamp
    actor: str
    department_code: str | None
    department: str
    kind: str
    kind_name: str
    from_stage: str | None
    to_stage: str | None
    to_stage_name: str
    note: str


class FunnelStageOut(_Out):
    stage: str
    name: str
    count: int
    conversion_pct: float | None


class SourceDepartmentOut(_Out):
    department_code: str
    department: str
    count: int


class FunnelOut(_Out):
    total: int
    open: int
    closed: int
    landed: int
    overall_conversion_pct: float | None
    stages: list[FunnelStageOut]
    by_source_department: list[SourceDepartmentOut]
    chart: Chart


class IdOut(_Out):
    id: int


class LeadStageOut(_Out):
    id: int
    stage: str


class FollowUpOut(_Out):
    id: int
    kind: str


class HandOverOut(_Out):
    id: int
    owner_department_code: str
    handover_to: str | None


class OwnerOut(_Out):
    id: int
    owner_department_code: str


class ClosedOut(_Out):
    id: int
    closed: bool


class ServiceRequestOut(_Out):
    id: int
    enterprise: str
    enterprise_id: int
    lead_id: int | None
    topic: str
    topic_name: str
    department_code: str
    department: str
    status: str = Field(description="open, in_progress or done")
    status_name: str
    description: str
    response: str
    due_on: DateText | None
    overdue: bool
    can_answer: bool
    created_at: Timestamp
    resolved_at: Timestamp | None


class BoardColumnOut(_Out):
    stage: str
    name: str
    leads: list[LeadOut]


class HandOverWaitingOut(LeadOut):
    for_me: bool = Field(description="The caller's department may accept or refuse it")


class BoardRequestsOut(_Out):
    open: list[ServiceRequestOut]
    in_progress: list[ServiceRequestOut]
    done: list[ServiceRequestOut]


class BoardOut(_Out):
    columns: list[BoardColumnOut]
    handovers: list[HandOverWaitingOut]
    requests: BoardRequestsOut
    overdue_requests: int


class RequestCreatedOut(_Out):
    id: int
    department_code: str
    status: str
    due_on: DateText | None


class ImportOut(_Out):
    """What an import did (all or nothing: a problem anywhere is a 422 naming each row)."""

    created: int
    updated: int


class UpdatesImportOut(_Out):
    applied: dict[str, int] = Field(description="Rows applied per sheet")
    total: int


class PublishedOut(_Out):
    rows: dict[str, int] = Field(description="Rows written per measure")
