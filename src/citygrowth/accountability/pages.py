"""HTML pages (Chinese first): leadership view, targets, projects, approvals, investment desk.

Each page links its JSON twin under ``/api/accountability/…`` and, for tables, CSV and Excel.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from citygrowth.accountability import (
    changes,
    charts,
    evidence,
    overview,
    projects,
    targets,
)
from citygrowth.accountability.common import department_choices
from citygrowth.accountability.routes import DeptQ, StatusQ, _read_limited
from citygrowth.accountability.schemas import ProgressIn
from citygrowth.accountability.status import STATUS_RULES
from citygrowth.auth.actor import Actor
from citygrowth.auth.models import Department
from citygrowth.errors import NotFound
from citygrowth.i18n import _, bilingual
from citygrowth.inputs import Date, Number, Text
from citygrowth.web.deps import BusDep, RuntimeDep, SessionDep, UserDep
from citygrowth.web.templating import render_page
from citygrowth.web.urls import redirect, site_path

router = APIRouter(tags=["accountability pages"], default_response_class=HTMLResponse)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _render(request: Request, name: str, actor: Actor, **ctx: Any) -> Response:
    return render_page(request, f"accountability/{name}", actor, ctx)


@router.get("/accountability", response_class=HTMLResponse)
def leadership(request: Request, session: SessionDep, actor: UserDep,
               runtime: RuntimeDep) -> Response:
    """Leadership view: status counts by department, at-risk targets, upcoming milestones,
    the desk's counts and its recent changes."""
    today = runtime.today()
    tz = runtime.tz
    depts = targets.department_overview(session, actor, today)
    rows = targets.list_targets(session, actor, today)
    return _render(request, "overview.html", actor, today=today, departments=depts,
                   counts=targets.status_counts(rows),
                   milestones=targets.upcoming_milestones(session, actor, today),
                   dept_chart=charts.status_by_department(depts),
                   desk=overview.desk_counts(session, actor, today, tz, runtime.calendar.days),
                   feed=changes.recent(session, actor, tz))


@router.get("/accountability/departments/{code}", response_class=HTMLResponse)
def department_page(request: Request, session: SessionDep, actor: UserDep,
                    runtime: RuntimeDep, code: Annotated[str, Path(max_length=40)]) -> Response:
    """A department's targets (owned or co-owned) and its milestone reminders."""
    dept = session.get(Department, code)
    if dept is None:
        raise NotFound("Department {code} was not found.", code=code)
    today = runtime.today()
    rows = targets.list_targets(session, actor, today, department=code)
    return _render(request, "department.html", actor, dept=dept,
                   dept_name=bilingual(dept.name_zh, dept.name_en), targets=rows,
                   counts=targets.status_counts(rows),
                   milestones=targets.upcoming_milestones(session, actor, today,
                                                          department=code))


@router.get("/targets", response_class=HTMLResponse)
def targets_page(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                 department: DeptQ = None, status: StatusQ = None) -> Response:
    """Every target with its status; filter by department and status."""
    rows = targets.list_targets(session, actor, runtime.today(), department,
                                status)
    query = request.url.query
    return _render(request, "targets.html", actor, targets=rows, status_rules=_(STATUS_RULES),
                   departments=department_choices(session),
                   counts=targets.status_counts(rows), department=department, status=status,
                   json_url=site_path(request, "/api/accountability/targets")
                   + (f"?{query}" if query else ""))


@router.get("/targets/{target_id}", response_class=HTMLResponse)
def target_page(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                target_id: Id) -> Response:
    """One target: progress chart, milestones, reports, evidence and the report forms."""
    today = runtime.today()
    detail = targets.target_detail(session, actor, target_id, today)
    return _render(request, "target.html", actor, t=detail, today=today,
                   evidence=evidence.list_evidence(session, target_id),
                   progress_chart=charts.target_progress(detail),
                   max_mb=runtime.settings.max_upload_mb,
                   accepted=",".join(sorted(evidence.ALLOWED)))


@router.post("/targets/{target_id}/progress", response_class=HTMLResponse)
def progress_form(request: Request, session: SessionDep, actor: UserDep, bus: BusDep,
                  target_id: Id,
                  reported_on: Annotated[Date, Form()],
                  value: Annotated[Number, Form()],
                  note: Annotated[Text, Form(max_length=4000)] = "") -> Response:
    """The progress form of the target page; back to the page on success."""
    targets.report_progress(session, actor, target_id,
                            ProgressIn(reported_on=reported_on, value=value, note=note), bus)
    return redirect(request, f"/targets/{target_id}")


@router.post("/targets/{target_id}/evidence", response_class=HTMLResponse)
async def evidence_form(request: Request, session: SessionDep, actor: UserDep,
                        runtime: RuntimeDep, target_id: Id,
                        file: Annotated[UploadFile, File()]) -> Response:
    """The evidence upload form of the target page."""
    data = await _read_limited(file, runtime.settings.max_upload_mb)
    evidence.add_evidence(session, runtime.settings, actor, target_id,
                          file.filename or "upload", data)
    return redirect(request, f"/targets/{target_id}")


@router.get("/projects", response_class=HTMLResponse)
def projects_page(request: Request, session: SessionDep, actor: UserDep,
                  runtime: RuntimeDep) -> Response:
    """Portfolio by industry and stage, the map of locations, totals, coordination problems."""
    rows = projects.list_projects(session, actor)
    pf = projects.portfolio(session, actor)
    return _render(request, "projects.html", actor, projects=rows, portfolio=pf,
                   problems=projects.open_problems(session, actor),
                   industry_chart=charts.investment_by_industry(pf),
                   stage_chart=charts.projects_by_stage(pf), map_chart=charts.projects_map(rows),
                   district=runtime.settings.district_code)
