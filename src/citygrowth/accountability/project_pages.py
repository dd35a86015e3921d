"""A key project's page and its update forms; the Excel import of project updates.

Every form posts here (plain POST with the CSRF field, or htmx) and calls the same service as
the JSON API (``routes.py``); see :mod:`.forms` for how problems come back next to fields.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from citygrowth.accountability import changes, charts, projects, updates
from citygrowth.accountability.common import (
    PROJECT_STAGE_NAMES,
    department_choices,
    label,
)
from citygrowth.accountability.forms import Form as FormState
from citygrowth.accountability.forms import parse, submit
from citygrowth.accountability.routes import _read_limited
from citygrowth.accountability.schemas import (
    InvestmentIn,
    MilestoneDoneIn,
    MilestoneMoveIn,
    ProblemIn,
    ProjectMilestoneIn,
    ProjectStageIn,
    ResolveIn,
)
from citygrowth.auth.actor import Actor
from citygrowth.errors import Problem, ValidationFailed
from citygrowth.i18n import N_, _
from citygrowth.runtime import Runtime
from citygrowth.web.deps import RuntimeDep, SessionDep, UserDep
from citygrowth.web.openapi import XLSX
from citygrowth.web.render import workbook_response
from citygrowth.web.templating import render_page

router = APIRouter(tags=["accountability pages"], default_response_class=HTMLResponse)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=200)]

SAVED = {
    "milestone_done": N_("The milestone is marked done."),
    "milestone_move": N_("The milestone has its new date."),
    "milestone_add": N_("The milestone is added."),
    "stage": N_("The stage is changed."),
    "investment": N_("The month's investment is recorded."),
    "blocker_raise": N_("The problem is raised; the department responsible sees it."),
    "blocker_resolve": N_("The problem is marked resolved."),
}


def saved_text(request: Request, table: dict[str, str]) -> str:
    key = request.query_params.get("saved", "")
    return _(table[key]) if key in table else ""


def _page(request: Request, session: Session, actor: Actor, runtime: Runtime,
          project_id: int, forms: dict[str, FormState] | None = None,
          partial: str | None = None) -> Response:
    today = runtime.today()
    p = projects.project_detail(session, actor, project_id, today)
    ctx: dict[str, Any] = {
        "p": p, "today": today, "this_month": f"{today.year:04d}-{today.month:02d}",
        "forms": forms or {}, "saved_text": "" if forms else saved_text(request, SAVED),
        "open_milestones": [(m["id"], f"{m['title']}（{m['due_date']}）")
                            for m in p["milestones"] if m["done_on"] is None],
        "stages": [(k, label(PROJECT_STAGE_NAMES, k)) for k in PROJECT_STAGE_NAMES],
        "departments": department_choices(session),
        "resolvable": [(x["id"], x["description"][:60]) for x in p["problems"]
                       if x["can_resolve"]],
        "feed": changes.recent(session, actor, runtime.tz,
                               subject="project", subject_id=project_id),
        "map_chart": charts.project_location(p), "district": runtime.settings.district_code,
    }
    name = f"accountability/forms/{partial}.html" if partial else "accountability/project.html"
    return render_page(request, name, actor, ctx, status_code=422 if forms else 200)


# --- Excel import of updates ------------------------------------------------------------------

@router.get("/projects/updates", response_class=HTMLResponse)
def updates_page(request: Request, session: SessionDep, actor: UserDep) -> Response:
    """Upload a workbook of project updates (template below); all or nothing."""
    return render_page(request, "accountability/updates.html", actor, {
        "sheets": updates.SHEETS, "result": None, "problems": [], "error": "",
        "count": len(updates.editable_projects(session, actor))})


@router.get("/projects/updates/template.xlsx", response_class=Response, responses=XLSX)
def updates_template(session: SessionDep, actor: UserDep, runtime: RuntimeDep) -> Response:
    body = updates.template(session, actor, runtime.today())
    return workbook_response(body, "project-updates")


@router.post("/projects/updates", response_class=HTMLResponse)
async def updates_upload(request: Request, session: SessionDep, actor: UserDep,
                         runtime: RuntimeDep, file: Annotated[UploadFile, File()]
                         ) -> Response:
    data = await _read_limited(file, runtime.settings.max_upload_mb)
    name = file.filename or "updates.xlsx"
    ctx: dict[str, Any] = {"sheets": updates.SHEETS, "result": None, "problems": [],
                           "error": "", "count": len(updates.editable_projects(session, actor))}
    try:
        result = updates.import_updates(session, actor, data, name,
                                        runtime.today())
    except ValidationFailed as err:
        session.rollback()
        ctx.update(problems=[p.render() for p in err.problems], error=err.render_message())
        return render_page(request, "accountability/updates.html", actor, ctx, 422)
    ctx["result"] = result.as_dict()
    return render_page(request, "accountability/updates.html", actor, ctx)


# --- one project -----------------------------------------------------------------------------

@router.get("/projects/{project_id}", response_class=HTMLResponse)
def project_page(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                 project_id: Id) -> Response:
    """A key project: stage, milestones, investment to date, location, owner, problems, and
    the forms to update them (for its department and the district)."""
    return _page(request, session, actor, runtime, project_id)


def _post(request: Request, session: Session, actor: Actor, runtime: Runtime,
          project_id: int, name: str, values: dict[str, str], action: Any,
          aliases: dict[str, str] | None = None) -> Response:
    def page(forms: dict[str, FormState], partial: str | None) -> Response:
        return _page(request, session, actor, runtime, project_id, forms, partial)

    return submit(request, session, name, values, action, page, f"/projects/{project_id}",
                  aliases)


@router.post("/projects/{project_id}/milestones/done", response_class=HTMLResponse)
def milestone_done(request: Request, session: SessionDep, actor: UserDep,
                   runtime: RuntimeDep, project_id: Id, milestone_id: Short = "",
                   done_on: Short = "") -> Response:
    values = {"milestone_id": milestone_id, "done_on": done_on}
    today = runtime.today()
    return _post(request, session, actor, runtime, project_id, "milestone_done", values,
                 lambda: projects.complete_milestone(
                     session, actor, project_id, parse(MilestoneDoneIn, values), today))


@router.post("/projects/{project_id}/milestones/move", response_class=HTMLResponse)
def milestone_move(request: Request, session: SessionDep, actor: UserDep,
                   runtime: RuntimeDep, project_id: Id, milestone_id: Short = "",
                   due_date: Short = "", reason: Text = "") -> Response:
    values = {"milestone_id": milestone_id, "due_date": due_date, "reason": reason}
    return _post(request, session, actor, runtime, project_id, "milestone_move", values,
                 lambda: projects.move_milestone(session, actor, project_id,
                                                 parse(MilestoneMoveIn, values)))


@router.post("/projects/{project_id}/milestones", response_class=HTMLResponse)
def milestone_add(request: Request, session: SessionDep, actor: UserDep,
                  runtime: RuntimeDep, project_id: Id, title_zh: Short = "",
                  due_date: Short = "") -> Response:
    values = {"title_zh": title_zh, "due_date": due_date}
    return _post(request, session, actor, runtime, project_id, "milestone_add", values,
                 lambda: projects.add_milestone(session, actor, project_id,
                                                parse(ProjectMilestoneIn, values)))


@router.post("/projects/{project_id}/stage", response_class=HTMLResponse)
def stage(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
          project_id: Id, stage: Short = "", note: Text = "") -> Response:
    values = {"stage": stage, "note": note}
    return _post(request, session, actor, runtime, project_id, "stage", values,
                 lambda: projects.change_stage(session, actor, project_id,
                                               parse(ProjectStageIn, values)))


@router.post("/projects/{project_id}/investments", response_class=HTMLResponse)
def investment(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
               project_id: Id, period: Short = "", completed_wan: Short = "",
               planned_wan: Short = "") -> Response:
    values = {"period": period, "completed_wan": completed_wan, "planned_wan": planned_wan}
    today = runtime.today()
    return _post(request, session, actor, runtime, project_id, "investment", values,
                 lambda: projects.record_investment(session, actor, project_id,
                                                    parse(InvestmentIn, values), today))


@router.post("/projects/{project_id}/problems", response_class=HTMLResponse)
def blocker_raise(request: Request, session: SessionDep, actor: UserDep,
                  runtime: RuntimeDep, project_id: Id, description: Text = "",
                  owner_department_code: Short = "", deadline: Short = "") -> Response:
    values = {"description": description, "owner_department_code": owner_department_code,
              "deadline": deadline}
    return _post(request, session, actor, runtime, project_id, "blocker_raise", values,
                 lambda: projects.raise_problem(session, actor, project_id,
                                                parse(ProblemIn, values)),
                 {"department": "owner_department_code"})


@router.post("/projects/{project_id}/problems/resolve", response_class=HTMLResponse)
def blocker_resolve(request: Request, session: SessionDep, actor: UserDep,
                    runtime: RuntimeDep, project_id: Id, problem_id: Short = "",
                    resolution: Text = "") -> Response:
    values = {"problem_id": problem_id, "resolution": resolution}

    def action() -> object:
        data = parse(ResolveIn, {"resolution": resolution})
        return projects.resolve_problem(session, actor, _problem_of(project_id, problem_id),
                                        data)

    return _post(request, session, actor, runtime, project_id, "blocker_resolve", values,
                 action)


def _problem_of(project_id: int, problem_id: str) -> int:
    if not problem_id.isdigit():
        raise ValidationFailed(problems=[Problem(N_("Choose a problem."), field="problem_id")])
    return int(problem_id)
