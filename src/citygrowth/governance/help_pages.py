"""HTTP for helpers (党员帮办): the task list where helpers take and complete tasks
(``/help``), new tasks (``/help/new``, also from a case), the register of helpers
(``/help/helpers``) and the hours report (``/help/report`` with CSV and JSON twins)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth import inputs
from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.models import User
from citygrowth.auth.permissions import can, scope_prefixes
from citygrowth.errors import Problem, ValidationFailed
from citygrowth.governance import helpers
from citygrowth.governance.display import local_text, root_path
from citygrowth.governance.evaluation import month_bounds, parse_month, recent_months
from citygrowth.governance.forms import errors_by_field
from citygrowth.governance.models import Case, Helper, HelpTask
from citygrowth.governance.schemas import (
    HelperAnswer,
    HelperIn,
    HelpTaskAnswer,
    HelpTaskIn,
    HelpTaskOut,
    HoursIn,
    HoursReportOut,
)
from citygrowth.i18n import N_, bilingual, get_locale, translate
from citygrowth.inputs import Month
from citygrowth.runtime import Runtime
from citygrowth.web.deps import RuntimeDep, SessionDep, SettingsDep, UserDep
from citygrowth.web.openapi import CSV
from citygrowth.web.paging import Page, PageRequest, paging
from citygrowth.web.render import columns, csv_response
from citygrowth.web.templating import render_page

router = APIRouter(tags=["help tasks"])
TaskId = Annotated[int, Path(ge=1, le=2**31)]
MonthQ = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
StatusQ = Annotated[str | None, Query(pattern=r"^(open|taken|done)$")]
Text = Annotated[inputs.Text, Form(max_length=2000)]
SECTION_TITLES = {"open": N_("Open tasks"), "taken": N_("Taken, not yet done"),
                  "done": N_("Recently done")}


def _names(session: Session, codes: set[str]) -> dict[str, str]:
    return {a.code: bilingual(a.name_zh, a.name_en)
            for a in session.scalars(select(Area).where(Area.code.in_(codes)))}


def task_rows(session: Session, actor: Actor, tasks: list[HelpTask],
              tz: ZoneInfo) -> list[dict[str, Any]]:
    """Tasks as the page and the API show them, with what ``actor`` may do with each."""
    me = helpers.helper_of(session, actor)
    names = _names(session, {t.area_code for t in tasks}
                   | {helpers.community_of(t.area_code) for t in tasks})
    who = {h.id: h.label for h in session.scalars(
        select(Helper).where(Helper.id.in_({t.helper_id for t in tasks if t.helper_id})))}
    return [{"id": t.id, "title": t.title, "description": t.description, "status": t.status,
             "status_label": translate(helpers.TASK_STATUSES[t.status]),
             "area_code": t.area_code, "area": names.get(t.area_code, t.area_code),
             "community": names.get(helpers.community_of(t.area_code), ""),
             "skill": t.skill, "skill_label": translate(helpers.SKILLS[t.skill])
             if t.skill in helpers.SKILLS else "",
             "matches": bool(me and t.skill and t.skill in (me.skills or [])),
             "case_id": t.case_id, "helper": who.get(t.helper_id or 0, ""),
             "mine": bool(me and t.helper_id == me.id), "hours": t.hours, "note": t.note,
             "created_at": local_text(t.created_at, tz), "done_at": local_text(t.done_at, tz),
             "can_take": helpers.can_take(me, t), "can_finish": helpers.can_finish(me, t)}
            for t in tasks]


# --- the task list ---------------------------------------------------------------------------

@router.get("/help", summary="Help tasks (党员帮办): take, complete, create",
        response_class=HTMLResponse)
def help_page(request: Request, session: SessionDep, actor: UserDep,
              settings: SettingsDep) -> Response:
    tz = ZoneInfo(settings.timezone)
    me = helpers.helper_of(session, actor)
    sections = [(status, task_rows(session, actor, helpers.list_tasks(
        session, actor, status, limit=30 if status == "done" else 300), tz))
        for status in ("open", "taken", "done")]
    return render_page(request, "governance/help.html", actor, {
        "sections": sections, "statuses": helpers.TASK_STATUSES, "me": me,
        "me_area": _names(session, {me.area_code}).get(me.area_code, "") if me else "",
        "is_helper": can(actor, "help.take") and not can(actor, "help.manage"),
        "skills_labels": helpers.SKILLS, "section_titles": SECTION_TITLES,
        "can_manage": can(actor, "help.manage")})


@router.post("/help/{task_id}/take", summary="Take (认领) a help task", response_class=HTMLResponse)
def help_take(request: Request, session: SessionDep, actor: UserDep,
              task_id: TaskId) -> Response:
    helpers.take_task(session, actor, task_id)
    return RedirectResponse(root_path(request) + f"/help#task-{task_id}", status_code=303)


@router.post("/help/{task_id}/done", summary="Complete a help task with hours and a note",
        response_class=HTMLResponse)
def help_done(request: Request, session: SessionDep, actor: UserDep, task_id: TaskId,
              hours: Annotated[float, Form(gt=0, le=24)], note: Text = "") -> Response:
    helpers.finish_task(session, actor, task_id, hours, note)
    return RedirectResponse(root_path(request) + f"/help#task-{task_id}", status_code=303)


# --- a new task ------------------------------------------------------------------------------

def _grids(session: Session, actor: Actor) -> list[tuple[str, str]]:
    prefixes = scope_prefixes(actor, "help.manage")
    grids = session.scalars(select(Area).where(Area.level == "grid").order_by(Area.code))
    return [(g.code, bilingual(g.name_zh, g.name_en)) for g in grids
            if prefixes is None or any(g.code.startswith(p) for p in prefixes)]


def _task_form(request: Request, session: Session, actor: Actor, values: dict[str, Any],
               err: ValidationFailed | None = None) -> Response:
    errors, other = errors_by_field(err) if err else ({}, [])
    case = session.get(Case, values["case_id"]) if values.get("case_id") else None
    return render_page(request, "governance/help_task_form.html", actor, {
        "values": values, "errors": errors, "other_errors": other, "case": case,
        "grids": _grids(session, actor), "skills": helpers.SKILLS},
        status_code=422 if err else 200)


@router.get("/help/new", summary="Form: a new help task (on its own or from a case)",
        response_class=HTMLResponse)
def help_new(request: Request, session: SessionDep, actor: UserDep,
             case: Annotated[int | None, Query(ge=1, le=2**31)] = None) -> Response:
    values: dict[str, Any] = {"case_id": case, "area_code": "", "title": "", "description": ""}
    if case is not None:
        c = session.get(Case, case)
        if c is not None and can(actor, "help.manage", c.area_code):
            values.update(area_code=c.area_code, description=c.description)
    return _task_form(request, session, actor, values)


@router.post("/help/new", summary="Create a help task (form)", response_class=HTMLResponse)
def help_create(request: Request, session: SessionDep, actor: UserDep, area_code: Text = "",
                title: Text = "", description: Text = "", skill: Text = "",
                case_id: Annotated[int | None, Form(ge=1, le=2**31)] = None) -> Response:
    values = {"area_code": area_code, "title": title, "description": description,
              "skill": skill, "case_id": case_id}
    try:
        helpers.create_task(session, actor, area_code, title, description, case_id,
                            skill or None)
    except ValidationFailed as err:
        return _task_form(request, session, actor, values, err)
    return RedirectResponse(root_path(request) + "/help", status_code=303)


# --- the register of helpers -----------------------------------------------------------------

def _helpers_page(request: Request, session: Session, actor: Actor, values: dict[str, Any],
                  err: ValidationFailed | None = None) -> Response:
    errors, other = errors_by_field(err) if err else ({}, [])
    rows = helpers.list_helpers(session, actor)
    names = _names(session, {h.area_code for h in rows})
    logins = {u.id: u.username for u in session.scalars(
        select(User).where(User.id.in_({h.user_id for h in rows if h.user_id})))}
    return render_page(request, "governance/helpers.html", actor, {
        "rows": [{"id": h.id, "label": h.label, "kind": translate(helpers.HELPER_KINDS[h.kind]),
                  "area": names.get(h.area_code, h.area_code),
                  "login": logins.get(h.user_id or 0, ""), "illustrative": h.illustrative,
                  "skills": [translate(helpers.SKILLS[s]) for s in h.skills or []
                             if s in helpers.SKILLS]} for h in rows],
        "values": values, "errors": errors, "other_errors": other,
        "grids": _grids(session, actor), "skills": helpers.SKILLS,
        "kinds": helpers.HELPER_KINDS}, status_code=422 if err else 200)


@router.get("/help/helpers", summary="Register of helpers", response_class=HTMLResponse)
def helpers_page(request: Request, session: SessionDep, actor: UserDep) -> Response:
    return _helpers_page(request, session, actor, {"skills": []})


@router.post("/help/helpers", summary="Register a helper (form)", response_class=HTMLResponse)
async def helpers_register(request: Request, session: SessionDep, actor: UserDep) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "")[:200] for k in ("username", "area_code", "kind",
                                                         "label")}
    skills = [str(v)[:40] for v in form.getlist("skills")][:20]
    try:
        _register(session, actor, values, skills)
    except ValidationFailed as err:
        return _helpers_page(request, session, actor, {**values, "skills": skills}, err)
    return RedirectResponse(root_path(request) + "/help/helpers", status_code=303)


def _register(session: Session, actor: Actor, values: dict[str, str],
              skills: list[str]) -> Helper:
    uid = helpers.find_user(session, values["username"]) if values["username"].strip() \
        else None
    if uid is None:
        raise ValidationFailed(problems=[Problem(
            "Give the helper's login.", field="username")])
    return helpers.register_helper(session, actor, values["area_code"], values["kind"],
                                   values["label"], uid, skills)


@router.post("/help/helpers/{helper_id}/deactivate", summary="End a helper's registration",
        response_class=HTMLResponse)
def helpers_deactivate(request: Request, session: SessionDep, actor: UserDep,
                       helper_id: TaskId) -> Response:
    helpers.deactivate_helper(session, actor, helper_id)
    return RedirectResponse(root_path(request) + "/help/helpers", status_code=303)


# --- hours report ----------------------------------------------------------------------------

def _period(runtime: Runtime, start: str | None, end: str | None) -> tuple[str, str]:
    months = recent_months(runtime, n=12)
    first, last = parse_month(start or months[0]), parse_month(end or months[-1])
    if last < first:
        raise ValidationFailed("The first month must not come after the last.")
    return first, last


def _report(session: Session, actor: Actor, runtime: Runtime, start: str | None,
            end: str | None) -> dict[str, Any]:
    first, last = _period(runtime, start, end)
    lo, hi = month_bounds([first, last], runtime.tz)
    by_helper, by_comm = helpers.hours_report(session, actor, lo, hi)
    return {"first": first, "last": last,
            "helpers": [vars(r) for r in by_helper], "communities": [vars(r) for r in by_comm],
            "total_hours": round(sum(r.hours for r in by_comm), 2),
            "total_tasks": sum(r.tasks for r in by_comm)}


@router.get("/help/report", summary="Helpers' hours per helper and community",
        response_class=HTMLResponse)
def report_page(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                start: Annotated[Month | None, Query(alias="from")] = None,
                end: Annotated[Month | None, Query(alias="to")] = None
                ) -> Response:
    return render_page(request, "governance/help_report.html", actor,
                       _report(session, actor, runtime, start, end))


@router.get("/api/help/report", summary="Helpers' hours per helper and community (JSON)",
            response_model=HoursReportOut)
def api_report(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
               start: Annotated[Month | None, Query(alias="from")] = None,
               end: Annotated[Month | None, Query(alias="to")] = None
               ) -> dict[str, Any]:
    return {"ok": True, **_report(session, actor, runtime, start, end)}


@router.get("/help/report.csv", summary="Helpers' hours (CSV twin of /help/report)",
            response_class=Response, responses=CSV)
def report_csv(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
               by: Annotated[str, Query(pattern=r"^(helper|community)$")] = "helper",
               start: Annotated[Month | None, Query(alias="from")] = None,
               end: Annotated[Month | None, Query(alias="to")] = None
               ) -> Response:
    data = _report(session, actor, runtime, start, end)
    rows = data["helpers" if by == "helper" else "communities"]
    cols = ["code", "name", "community", "tasks", "hours"] + (["helpers"] if by != "helper"
                                                              else [])
    name = f"helper-hours-{by}-{data['first']}-{data['last']}"
    return csv_response(columns(*cols), rows, name, get_locale())


# --- JSON API of tasks -----------------------------------------------------------------------

@router.get("/api/help/tasks", summary="Help tasks the caller sees (open first, newest first)",
            response_model=Page[HelpTaskOut])
def api_tasks(session: SessionDep, actor: UserDep, settings: SettingsDep,
              page: Annotated[PageRequest, paging(100, 1000)],
              status: StatusQ = None) -> dict[str, Any]:
    tasks = helpers.list_tasks(session, actor, status, page.limit + 1,
                               page.after_as(bool, dt.datetime, int))
    tz = ZoneInfo(settings.timezone)
    return page.answer(tasks, key=helpers.task_key,
                       items=lambda shown: task_rows(session, actor, list(shown), tz))


@router.post("/api/help/tasks", summary="Create a help task", status_code=201,
             response_model=HelpTaskAnswer)
def api_task_new(session: SessionDep, actor: UserDep, settings: SettingsDep,
                 body: HelpTaskIn) -> dict[str, Any]:
    t = helpers.create_task(session, actor, body.area_code, body.title, body.description,
                            body.case_id, body.skill)
    return {"ok": True, "task": task_rows(session, actor, [t], ZoneInfo(settings.timezone))[0]}


@router.post("/api/help/tasks/{task_id}/take", summary="Take a help task",
             response_model=HelpTaskAnswer)
def api_task_take(session: SessionDep, actor: UserDep, settings: SettingsDep,
                  task_id: TaskId) -> dict[str, Any]:
    t = helpers.take_task(session, actor, task_id)
    return {"ok": True, "task": task_rows(session, actor, [t], ZoneInfo(settings.timezone))[0]}


@router.post("/api/help/tasks/{task_id}/done", summary="Complete a help task, logging hours",
             response_model=HelpTaskAnswer)
def api_task_done(session: SessionDep, actor: UserDep, settings: SettingsDep,
                  task_id: TaskId, body: HoursIn) -> dict[str, Any]:
    t = helpers.finish_task(session, actor, task_id, body.hours, body.note)
    return {"ok": True, "task": task_rows(session, actor, [t], ZoneInfo(settings.timezone))[0]}


@router.post("/api/help/helpers", summary="Register a helper", status_code=201,
             response_model=HelperAnswer)
def api_register(session: SessionDep, actor: UserDep, body: HelperIn) -> dict[str, Any]:
    h = _register(session, actor, {"username": body.username, "area_code": body.area_code,
                                   "kind": body.kind, "label": body.label}, body.skills)
    return {"ok": True, "helper": {"id": h.id, "label": h.label, "kind": h.kind,
                                   "area_code": h.area_code, "skills": h.skills,
                                   "registered_at": h.registered_at.isoformat()}}


__all__ = ["router", "task_rows"]
