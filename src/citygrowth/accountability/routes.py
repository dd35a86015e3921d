"""JSON API of the accountability domain (``/api/accountability/…``); thin over the services."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.responses import FileResponse, Response

from citygrowth.accountability import (
    approvals,
    changes,
    charts,
    evidence,
    excel,
    investment,
    measures,
    overview,
    projects,
    tables,
    targets,
    updates,
)
from citygrowth.accountability.schemas import (
    AcceptIn,
    ApprovalAcceptedOut,
    ApprovalCompletedOut,
    ApprovalDetailOut,
    ApprovalIn,
    ApprovalOut,
    ApprovalRecordedOut,
    ApprovalStatsOut,
    BoardOut,
    ChangeOut,
    ClosedOut,
    CloseIn,
    CompleteIn,
    CreatedOut,
    EnterpriseIn,
    EvidenceSavedOut,
    FollowUpIn,
    FollowUpOut,
    FunnelOut,
    HandOverIn,
    HandOverOut,
    IdOut,
    IdStatusOut,
    ImportOut,
    InvestmentIn,
    InvestmentOut,
    LeadEventOut,
    LeadIn,
    LeadOut,
    LeadStageOut,
    MilestoneAddedOut,
    MilestoneDoneIn,
    MilestoneDoneOut,
    MilestoneMovedOut,
    MilestoneMoveIn,
    OpenProblemOut,
    OverviewOut,
    OwnerOut,
    ProblemIn,
    ProgressIn,
    ProgressOut,
    ProjectDetailOut,
    ProjectIn,
    ProjectMilestoneIn,
    ProjectPage,
    ProjectStageIn,
    PublishedOut,
    RefuseIn,
    RequestCreatedOut,
    RequestUpdateIn,
    ResolveIn,
    ServiceRequestIn,
    ServiceRequestOut,
    StageIn,
    StageOut,
    StepAddedOut,
    StepIn,
    TargetDetailOut,
    TargetIn,
    TargetPage,
    UpcomingMilestoneOut,
    UpdatesImportOut,
)
from citygrowth.accountability.status import STATUSES
from citygrowth.db import utcnow
from citygrowth.i18n import get_locale
from citygrowth.web.deps import BusDep, RuntimeDep, SessionDep, UserDep
from citygrowth.web.openapi import CSV, XLSX, media
from citygrowth.web.paging import Page, PageRequest, paging
from citygrowth.web.render import columns, csv_response, workbook_response, xlsx_response

router = APIRouter(prefix="/api/accountability", tags=["accountability"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
DeptQ = Annotated[str | None, Query(max_length=40)]
StatusQ = Annotated[Literal[STATUSES] | None, Query()]  # type: ignore[valid-type]
Kind = Literal["targets", "projects", "approvals", "leads"]


async def _read_limited(file: UploadFile, max_mb: int) -> bytes:
    data = await file.read(max_mb * 1024 * 1024 + 1)
    if len(data) > max_mb * 1024 * 1024:
        raise evidence.UploadTooLarge(limit=max_mb)
    return data


# --- targets ----------------------------------------------------------------------------------

@router.get("/overview", summary="Leadership view: target status by department",
        response_model=OverviewOut)
def overview_json(session: SessionDep, actor: UserDep, runtime: RuntimeDep) -> dict[str, Any]:
    today = runtime.today()
    tz = runtime.tz
    depts = targets.department_overview(session, actor, today)
    rows = targets.list_targets(session, actor, today)
    return {"today": today.isoformat(), "counts": targets.status_counts(rows),
            "departments": depts, "chart": charts.status_by_department(depts),
            "desk": overview.desk_counts(session, actor, today, tz, runtime.calendar.days),
            "changes": changes.recent(session, actor, tz)}


@router.get("/changes", summary="Recent changes on the desk (newest first, within your scope)",
            response_model=Page[ChangeOut])
def recent_changes(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                   page: Annotated[PageRequest, paging(changes.FEED_LIMIT, 200)]
                   ) -> dict[str, Any]:
    rows = changes.recent(session, actor, runtime.tz, page.limit + 1,
                          after=page.after_as(dt.datetime, int))
    return page.answer(rows, key=lambda r: (dt.datetime.fromisoformat(r["at"]), r["id"]))


@router.get("/targets", summary="Targets with their status today", response_model=TargetPage)
def list_targets(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                 page: Annotated[PageRequest, paging(200, 1000)],
                 department: DeptQ = None, status: StatusQ = None) -> dict[str, Any]:
    rows = targets.list_targets(session, actor, runtime.today(), department, status)
    return page.slice(rows, counts=targets.status_counts(rows))


@router.post("/targets", status_code=201, summary="Create a target",
        response_model=CreatedOut)
def create_target(session: SessionDep, actor: UserDep, bus: BusDep,
                  body: TargetIn) -> dict[str, Any]:
    t = targets.create_target(session, actor, body, bus)
    return {"id": t.id, "code": t.code}


@router.get("/targets/{target_id}", summary="One target: status, milestones, reports, chart",
        response_model=TargetDetailOut)
def get_target(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
               target_id: Id) -> dict[str, Any]:
    detail = targets.target_detail(session, actor, target_id, runtime.today())
    detail["evidence"] = [{"id": e.id, "filename": e.filename, "content_type": e.content_type,
                           "size_bytes": e.size_bytes, "report_id": e.report_id}
                          for e in evidence.list_evidence(session, target_id)]
    detail["chart"] = charts.target_progress(detail)
    return detail


@router.post("/targets/{target_id}/progress", status_code=201, summary="Report progress",
        response_model=ProgressOut)
def report_progress(session: SessionDep, actor: UserDep, bus: BusDep, target_id: Id,
                    body: ProgressIn) -> dict[str, Any]:
    r = targets.report_progress(session, actor, target_id, body, bus)
    return {"id": r.id, "target_id": r.target_id, "value": r.value}


@router.post("/targets/{target_id}/evidence", status_code=201,
             summary="Upload a photo or document as evidence", response_model=EvidenceSavedOut)
async def upload_evidence(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                          target_id: Id, file: Annotated[UploadFile, File()],
                          report_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
                          ) -> dict[str, Any]:
    data = await _read_limited(file, runtime.settings.max_upload_mb)
    ev = evidence.add_evidence(session, runtime.settings, actor, target_id,
                               file.filename or "upload", data, report_id)
    return {"id": ev.id, "filename": ev.filename, "sha256": ev.sha256}


@router.get("/evidence/{evidence_id}", summary="Download an evidence file",
            response_class=FileResponse, responses=media(
                "image/jpeg", "image/png", "application/pdf", "application/octet-stream",
                description="The file as uploaded (its own media type)"))
def get_evidence(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                 evidence_id: Id) -> FileResponse:
    ev, path = evidence.evidence_file(session, runtime.settings, actor, evidence_id)
    return FileResponse(path, media_type=ev.content_type, filename=ev.filename)


@router.get("/milestones/upcoming", summary="Open milestones due soon or overdue",
            response_model=Page[UpcomingMilestoneOut])
def upcoming(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
             page: Annotated[PageRequest, paging(200, 1000)],
             within_days: Annotated[int, Query(ge=0, le=366)] = targets.REMINDER_DAYS,
             department: DeptQ = None) -> dict[str, Any]:
    rows = targets.upcoming_milestones(session, actor, runtime.today(),
                                       within_days, department)
    return page.slice(rows)


# --- projects ---------------------------------------------------------------------------------

@router.get("/projects", summary="Key projects with portfolio totals and charts",
            response_model=ProjectPage)
def list_projects(session: SessionDep, actor: UserDep,
                  page: Annotated[PageRequest, paging(200, 1000)],
                  industry: Annotated[str | None, Query(max_length=30)] = None,
                  stage: Annotated[str | None, Query(max_length=20)] = None) -> dict[str, Any]:
    rows = projects.list_projects(session, actor, industry, stage)
    pf = projects.portfolio(session, actor)
    return page.slice(rows, portfolio=pf, charts={
        "industry": charts.investment_by_industry(pf), "stage": charts.projects_by_stage(pf),
        "map": charts.projects_map(rows)})


@router.post("/projects", status_code=201, summary="Create a key project",
        response_model=CreatedOut)
def create_project(session: SessionDep, actor: UserDep, body: ProjectIn) -> dict[str, Any]:
    p = projects.create_project(session, actor, body)
    return {"id": p.id, "code": p.code}


@router.get("/projects/{project_id}", summary="One key project: milestones, investment, problems",
        response_model=ProjectDetailOut)
def get_project(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                project_id: Id) -> dict[str, Any]:
    return projects.project_detail(session, actor, project_id, runtime.today())


@router.post("/projects/{project_id}/milestones/done", summary="Mark a milestone done",
        response_model=MilestoneDoneOut)
def milestone_done(session: SessionDep, actor: UserDep, runtime: RuntimeDep, project_id: Id,
                   body: MilestoneDoneIn) -> dict[str, Any]:
    m = projects.complete_milestone(session, actor, project_id, body,
                                    runtime.today())
    return {"id": m.id, "done_on": m.done_on.isoformat() if m.done_on else None}


@router.post("/projects/{project_id}/milestones/move", summary="Give a milestone a new date",
        response_model=MilestoneMovedOut)
def milestone_move(session: SessionDep, actor: UserDep, project_id: Id,
                   body: MilestoneMoveIn) -> dict[str, Any]:
    m = projects.move_milestone(session, actor, project_id, body)
    return {"id": m.id, "due_date": m.due_date.isoformat(),
            "original_due_date": m.original_due_date.isoformat() if m.original_due_date
            else None}


@router.post("/projects/{project_id}/milestones", status_code=201, summary="Add a milestone",
        response_model=MilestoneAddedOut)
def milestone_add(session: SessionDep, actor: UserDep, project_id: Id,
                  body: ProjectMilestoneIn) -> dict[str, Any]:
    m = projects.add_milestone(session, actor, project_id, body)
    return {"id": m.id, "due_date": m.due_date.isoformat()}


@router.post("/projects/{project_id}/stage", summary="Change a project's stage",
        response_model=StageOut)
def project_stage(session: SessionDep, actor: UserDep, project_id: Id,
                  body: ProjectStageIn) -> dict[str, Any]:
    p = projects.change_stage(session, actor, project_id, body)
    return {"id": p.id, "stage": p.stage}


@router.post("/projects/{project_id}/investments", summary="Record a month's investment",
        response_model=InvestmentOut)
def record_investment(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                      project_id: Id, body: InvestmentIn) -> dict[str, Any]:
    row = projects.record_investment(session, actor, project_id, body,
                                     runtime.today())
    return {"project_id": row.project_id, "period": row.period,
            "completed_wan": row.completed_wan}


@router.get("/problems", summary="Open coordination problems, by deadline",
            response_model=Page[OpenProblemOut])
def list_problems(session: SessionDep, actor: UserDep,
                  page: Annotated[PageRequest, paging(200, 1000)]) -> dict[str, Any]:
    return page.slice(projects.open_problems(session, actor))


@router.post("/projects/{project_id}/problems", status_code=201,
             summary="Escalate a problem for coordination", response_model=IdStatusOut)
def raise_problem(session: SessionDep, actor: UserDep, project_id: Id,
                  body: ProblemIn) -> dict[str, Any]:
    x = projects.raise_problem(session, actor, project_id, body)
    return {"id": x.id, "status": x.status}


@router.post("/problems/{problem_id}/resolve", summary="Resolve a coordination problem",
        response_model=IdStatusOut)
def resolve_problem(session: SessionDep, actor: UserDep, problem_id: Id,
                    body: ResolveIn) -> dict[str, Any]:
    x = projects.resolve_problem(session, actor, problem_id, body)
    return {"id": x.id, "status": x.status}


# --- approvals --------------------------------------------------------------------------------

@router.get("/approvals", summary="Approval items with working days to approval",
            response_model=Page[ApprovalOut])
def list_approvals(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                   page: Annotated[PageRequest, paging(200, 1000)]) -> dict[str, Any]:
    cols, rows = tables.approval_table(session, actor, runtime.settings.timezone,
                                       runtime.calendar.days)
    return page.slice(rows)


@router.get("/approvals/stats", summary="Working days to approval by month and year",
        response_model=ApprovalStatsOut)
def approval_stats(session: SessionDep, actor: UserDep, runtime: RuntimeDep) -> dict[str, Any]:
    stats = approvals.approval_stats(session, actor, runtime.today(),
                                     runtime.settings.timezone, runtime.calendar.days)
    return {**stats, "chart": charts.approval_trend(stats)}


@router.post("/approvals", status_code=201, summary="Record an approval item and its steps",
        response_model=ApprovalRecordedOut)
def record_approval(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                    body: ApprovalIn) -> dict[str, Any]:
    item = approvals.record_approval(session, actor, body)
    return {"id": item.id, "code": item.code,
            "working_days": approvals.working_days(item, runtime.settings.timezone,
                                                   runtime.calendar.days)}


@router.post("/approvals/accept", status_code=201,
             summary="受理: record an accepted application (times without a zone are local)",
             response_model=ApprovalAcceptedOut)
def accept_approval(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                    body: AcceptIn) -> dict[str, Any]:
    item = approvals.accept_approval(session, actor, body, runtime.tz,
                                     utcnow())
    return {"id": item.id, "code": item.code, "status": item.status}


@router.get("/approvals/{item_id}", summary="One approval item with its steps",
        response_model=ApprovalDetailOut)
def get_approval(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                 item_id: Id) -> dict[str, Any]:
    return approvals.approval_detail(session, actor, item_id, runtime.today(),
                                     runtime.tz, runtime.calendar.days)


@router.post("/approvals/{item_id}/steps", status_code=201, summary="Add a handling step",
        response_model=StepAddedOut)
def approval_step(session: SessionDep, actor: UserDep, runtime: RuntimeDep, item_id: Id,
                  body: StepIn) -> dict[str, Any]:
    step = approvals.add_step(session, actor, item_id, body, runtime.tz,
                              utcnow())
    return {"id": step.id, "seq": step.seq}


@router.post("/approvals/{item_id}/complete", summary="办结: approved or not",
        response_model=ApprovalCompletedOut)
def complete_approval(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                      item_id: Id, body: CompleteIn) -> dict[str, Any]:
    tz = runtime.tz
    days = runtime.calendar.days
    item = approvals.complete_approval(session, actor, item_id, body, tz, utcnow(), days)
    return {"id": item.id, "status": item.status,
            "working_days": approvals.working_days(item, runtime.settings.timezone, days)}


# --- investment desk --------------------------------------------------------------------------

@router.get("/leads", summary="Investment leads (shared by every department)",
            response_model=Page[LeadOut])
def list_leads(session: SessionDep, actor: UserDep,
               page: Annotated[PageRequest, paging(200, 1000)],
               stage: Annotated[str | None, Query(max_length=16)] = None,
               department: DeptQ = None) -> dict[str, Any]:
    return page.slice(investment.list_leads(session, actor, stage, department))


@router.get("/leads/{lead_id}/history", summary="A lead's full history, oldest first",
            response_model=Page[LeadEventOut])
def lead_history(session: SessionDep, actor: UserDep, lead_id: Id,
                 page: Annotated[PageRequest, paging(200, 1000)]) -> dict[str, Any]:
    return page.slice(investment.lead_history(session, actor, lead_id))


@router.get("/funnel", summary="Pipeline funnel and conversion",
        response_model=FunnelOut)
def funnel(session: SessionDep, actor: UserDep) -> dict[str, Any]:
    f = investment.funnel(session, actor)
    return {**f, "chart": charts.lead_funnel(f)}


@router.post("/enterprises", status_code=201, summary="Register an enterprise",
        response_model=IdOut)
def create_enterprise(session: SessionDep, actor: UserDep, body: EnterpriseIn) -> dict[str, Any]:
    e = investment.create_enterprise(session, actor, body)
    return {"id": e.id}


@router.post("/leads", status_code=201, summary="Enter a lead",
        response_model=LeadStageOut)
def create_lead(session: SessionDep, actor: UserDep, body: LeadIn) -> dict[str, Any]:
    lead = investment.create_lead(session, actor, body)
    return {"id": lead.id, "stage": lead.stage}


@router.post("/leads/{lead_id}/follow-ups", status_code=201, summary="Add a follow-up",
        response_model=FollowUpOut)
def follow_up(session: SessionDep, actor: UserDep, lead_id: Id,
              body: FollowUpIn) -> dict[str, Any]:
    ev = investment.follow_up(session, actor, lead_id, body)
    return {"id": ev.id, "kind": ev.kind}


@router.post("/leads/{lead_id}/stage", summary="Move a lead to another stage",
        response_model=LeadStageOut)
def change_stage(session: SessionDep, actor: UserDep, runtime: RuntimeDep, lead_id: Id,
                 body: StageIn) -> dict[str, Any]:
    lead = investment.change_stage(session, actor, lead_id, body,
                                   runtime.today())
    return {"id": lead.id, "stage": lead.stage}


@router.post("/leads/{lead_id}/handover",
             summary="Offer a lead to another department (it accepts or refuses)",
             response_model=HandOverOut)
def hand_over(session: SessionDep, actor: UserDep, lead_id: Id,
              body: HandOverIn) -> dict[str, Any]:
    lead = investment.hand_over(session, actor, lead_id, body)
    return {"id": lead.id, "owner_department_code": lead.owner_department_code,
            "handover_to": lead.handover_to}


@router.post("/leads/{lead_id}/handover/accept", summary="Accept a lead offered to you",
        response_model=OwnerOut)
def accept_handover(session: SessionDep, actor: UserDep, lead_id: Id) -> dict[str, Any]:
    lead = investment.accept_handover(session, actor, lead_id)
    return {"id": lead.id, "owner_department_code": lead.owner_department_code}


@router.post("/leads/{lead_id}/handover/refuse", summary="Refuse a lead offered to you",
        response_model=OwnerOut)
def refuse_handover(session: SessionDep, actor: UserDep, lead_id: Id,
                    body: RefuseIn) -> dict[str, Any]:
    lead = investment.refuse_handover(session, actor, lead_id, body)
    return {"id": lead.id, "owner_department_code": lead.owner_department_code}


@router.get("/board", summary="The investment desk's status board",
        response_model=BoardOut)
def desk_board(session: SessionDep, actor: UserDep, runtime: RuntimeDep) -> dict[str, Any]:
    return investment.board(session, actor, runtime.today())


@router.post("/leads/{lead_id}/close", summary="Close a lead (it is kept with its history)",
        response_model=ClosedOut)
def close_lead(session: SessionDep, actor: UserDep, lead_id: Id, body: CloseIn) -> dict[str, Any]:
    lead = investment.close_lead(session, actor, lead_id, body)
    return {"id": lead.id, "closed": lead.closed}


@router.get("/service-requests", summary="Service requests and where they were routed",
            response_model=Page[ServiceRequestOut])
def list_requests(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                  page: Annotated[PageRequest, paging(200, 1000)]) -> dict[str, Any]:
    return page.slice(investment.list_service_requests(session, actor, runtime.today()))


@router.post("/service-requests", status_code=201, summary="File a service request",
        response_model=RequestCreatedOut)
def create_request(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                   body: ServiceRequestIn) -> dict[str, Any]:
    r = investment.create_service_request(session, actor, body, runtime.today())
    return {"id": r.id, "department_code": r.department_code, "status": r.status,
            "due_on": r.due_on.isoformat() if r.due_on else None}


@router.post("/service-requests/{request_id}", summary="Update a service request",
        response_model=IdStatusOut)
def update_request(session: SessionDep, actor: UserDep, request_id: Id,
                   body: RequestUpdateIn) -> dict[str, Any]:
    r = investment.update_service_request(session, actor, request_id, body)
    return {"id": r.id, "status": r.status}


# --- exports, imports, measures ---------------------------------------------------------------

@router.get("/export/{kind}.csv", summary="A table as CSV", response_class=Response,
            responses=CSV)
def export_csv(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
               kind: Kind) -> Response:
    cols, rows = tables.table(session, actor, kind, runtime.today(),
                              runtime.settings.timezone, runtime.calendar.days)
    return csv_response(columns(*cols), rows, kind, get_locale())


@router.get("/export/{kind}.xlsx", summary="A table as an Excel workbook",
            response_class=Response, responses=XLSX)
def export_xlsx(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                kind: Kind) -> Response:
    cols, rows = tables.table(session, actor, kind, runtime.today(),
                              runtime.settings.timezone, runtime.calendar.days)
    return xlsx_response(columns(*cols), rows, kind, get_locale())


@router.get("/import/project-updates/template.xlsx",
            summary="The project updates workbook, prefilled with your projects",
            response_class=Response, responses=XLSX)
def updates_template(session: SessionDep, actor: UserDep, runtime: RuntimeDep) -> Response:
    return workbook_response(updates.template(session, actor, runtime.today()),
                             "project-updates")


@router.post("/import/project-updates",
             summary="Import project updates (investment, milestones, stage, problems); all or "
                     "nothing", response_model=UpdatesImportOut)
async def import_updates(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                         file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    data = await _read_limited(file, runtime.settings.max_upload_mb)
    return updates.import_updates(session, actor, data, file.filename or "updates.xlsx",
                                  runtime.today()).as_dict()


@router.post("/import/{kind}", summary="Import targets or projects from Excel (all or nothing)",
        response_model=ImportOut)
async def import_xlsx(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                      kind: Literal["targets", "projects"],
                      file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    data = await _read_limited(file, runtime.settings.max_upload_mb)
    name = file.filename or "upload.xlsx"
    fn = excel.import_targets if kind == "targets" else excel.import_projects
    return fn(session, actor, data, name).as_dict()


@router.post("/measures/publish", summary="Write the measures into the observation store",
        response_model=PublishedOut)
def publish(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
            bus: BusDep) -> dict[str, Any]:
    counts = measures.publish_measures(session, runtime, actor, runtime.today())
    return {"rows": counts}
