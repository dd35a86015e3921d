"""Pages: the district and street command centers, the department view, a case, evaluation;
the grid worker's mobile patrol and task list; the resident's report form and tracking page;
helpers' tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.errors import CityGrowthError, Problem, ValidationFailed
from citygrowth.governance import charts, media
from citygrowth.governance.admin import parse_number
from citygrowth.governance.delivery import inbox
from citygrowth.governance.delivery.routes import delivery_dict
from citygrowth.governance.delivery.service import list_deliveries, problem_counts
from citygrowth.governance.display import local_text, remaining
from citygrowth.governance.evaluation import evaluate, recent_months
from citygrowth.governance.forms import errors_by_field
from citygrowth.governance.icons import SPRITE, category_icon
from citygrowth.governance.lifecycle import (
    OPEN,
    RUNNING,
    STATUSES,
    actions_for,
    after_photo_required,
    case_resource,
)
from citygrowth.governance.models import Case
from citygrowth.governance.service import (
    CaseFilter,
    act,
    actor_names,
    case_dict,
    department_names,
    event_dict,
    events_of,
    get_case,
    list_cases,
    queue_counts,
)
from citygrowth.governance.sla import WorkCalendar
from citygrowth.governance.tracking import staff_photos
from citygrowth.i18n import N_, bilingual, translate
from citygrowth.inputs import Month
from citygrowth.runtime import Runtime
from citygrowth.web.deps import RuntimeDep, SessionDep, UserDep
from citygrowth.web.limits import photo_route
from citygrowth.web.openapi import form_body
from citygrowth.web.templating import render_page
from citygrowth.web.urls import redirect

router = APIRouter(tags=["command center"], default_response_class=HTMLResponse)
Queue = Annotated[str | None, Query(pattern=r"^(open|overdue|warning|supervised|pending)$")]
StatusQ = Annotated[str | None, Query(max_length=20, pattern=r"^[a-z]+$")]
StreetCode = Annotated[str, Path(pattern=r"^\d{9}$")]
Token = Annotated[str, Path(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
CaseId = Annotated[int, Path(ge=1, le=2**31)]


QUEUES = (("overdue", N_("Overdue")), ("warning", N_("Due soon")),
          ("supervised", N_("Supervised")), ("pending", N_("Awaiting approval")),
          ("open", N_("Open")))


def case_rows(session: Session, cases: Sequence[Case], now: dt.datetime, tz: ZoneInfo,
              calendar: WorkCalendar) -> list[dict[str, Any]]:
    """Cases as the pages show them: local times, department names, working time left."""
    depts = department_names(session)
    rows = []
    for c in cases:
        row = case_dict(session, c, now, tz=tz, calendar=calendar)
        row["reported_local"] = local_text(c.reported_at, tz)
        row["due_local"] = local_text(c.due_at, tz)
        row["remaining"] = remaining(c.due_at, now, calendar) if c.status in RUNNING else ""
        row["department"] = depts.get(c.department_code or "", c.department_code or "")
        rows.append(row)
    return rows


def _center(request: Request, session: Session, actor: Actor, runtime: Runtime, title: str,
            area: str | None, queue: str | None, status: str | None) -> Response:
    now, tz, cal = runtime.now(), runtime.tz, runtime.calendar
    status_list = [status] if status in STATUSES else None
    cases, total = list_cases(session, actor, CaseFilter(area_prefix=area, queue=queue,
                                                         status=status_list, limit=200), now)
    counts = queue_counts(session, actor, area, now)
    counts["open"] = sum(counts.get(s, 0) for s in OPEN)
    mapped, _ = list_cases(session, actor, CaseFilter(area_prefix=area, queue="open",
                                                      limit=1000), now)
    area_row = session.get(Area, area) if area else None
    return render_page(request, "governance/center.html", actor, {
        "title": title, "area": area, "queue": queue, "status": status,
        "area_name": bilingual(area_row.name_zh, area_row.name_en) if area_row else "",
        "rows": case_rows(session, cases, now, tz, cal), "total": total, "counts": counts,
        "queues": QUEUES, "statuses": STATUSES, "open_statuses": OPEN,
        "deliveries": problem_counts(session, actor),
        "points": charts.case_points([case_dict(session, c, now) for c in mapped]),
        "status_option": charts.open_status_option(counts),
        "map_labels": {"cluster": translate("{n} cases"),
                       "clusterAlert": translate("{n} overdue"),
                       "zoomIn": translate("Zoom in"), "zoomOut": translate("Zoom out")},
        "streets": _streets(session, actor), "now_local": local_text(now, tz)})


def _streets(session: Session, actor: Actor) -> list[Area]:
    prefixes = scope_prefixes(actor, "case.view")
    streets = session.scalars(select(Area).where(Area.level == "street").order_by(Area.code))
    return [s for s in streets if prefixes is None or any(s.code.startswith(p) or
                                                          p.startswith(s.code) for p in prefixes)]


@router.get("/command", summary="District command center")
def district_center(request: Request, session: SessionDep, actor: UserDep,
                    runtime: RuntimeDep, queue: Queue = None, status: StatusQ = None
                    ) -> Response:
    require(actor, "case.view", None)
    return _center(request, session, actor, runtime, N_("District command center"), None,
                   queue, status)


@router.get("/command/street/{code}", summary="Street command center")
def street_center(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                  code: StreetCode, queue: Queue = None, status: StatusQ = None) -> Response:
    require(actor, "case.view", code)
    return _center(request, session, actor, runtime, N_("Street command center"), code, queue,
                   status)


@router.get("/command/department", summary="Department view: assigned cases")
def department_center(request: Request, session: SessionDep, actor: UserDep,
                      runtime: RuntimeDep, queue: Queue = None, status: StatusQ = None
                      ) -> Response:
    require(actor, "case.view", None)
    return _center(request, session, actor, runtime, N_("Department view"), None, queue,
                   status)


PHOTO_ACTIONS = frozenset({"handle", "verify", "rework"})
ACTION_PHOTOS = 4


def _case_page(request: Request, session: Session, actor: Actor, runtime: Runtime,
               case_id: int, err: CityGrowthError | None = None,
               action: str | None = None) -> Response:
    """The case: facts by name in local time, the evidence of every step (photos and notes
    of report, 处置反馈, 核查, 返工), the actions open to the viewer, deliveries, history."""
    case = get_case(session, actor, case_id)
    now, tz = runtime.now(), runtime.tz
    if inbox.mark_read(session, actor, case.id, now):
        inbox.note_unread(request, session, actor)  # the badge of this page counts it read
    row = case_rows(session, [case], now, tz, runtime.calendar)[0]
    found = events_of(session, case)
    who, depts = actor_names(session, found), department_names(session)
    events = [{**event_dict(e, tz, depts), "at_local": local_text(e.at, tz, seconds=True),
               "pictures": staff_photos(e.photos or []), "who": who.get(e.seq, e.actor)}
              for e in found]
    errors, other = errors_by_field(err) if err else ({}, [])
    return render_page(request, "governance/case.html", actor, {
        "case": {**row, "actions": [t.action for t in actions_for(actor, case)]},
        "events": events, "actions": actions_for(actor, case),
        "departments": _departments(session), "sprite": SPRITE,
        "cat_icon": category_icon(case.category_code, row["major_code"]),
        "contact": case.reporter_contact, "photo_actions": PHOTO_ACTIONS,
        "after_photo": after_photo_required(session, case.category_code),
        "max_photos": ACTION_PHOTOS, "errors": errors, "other_errors": other,
        "failed_action": action, "evidence": [e for e in events if e["pictures"]],
        "deliveries": [delivery_dict(session, d, tz) for d in list_deliveries(
            session, actor, case_id=case.id)],
        "can_retry": can(actor, "case.dispatch", case_resource(case)),
        "can_help": can(actor, "help.manage", case.area_code)},
        status_code=err.status if err else 200)


@router.get("/command/cases/{case_id}", summary="One case")
def case_page(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
              case_id: CaseId) -> Response:
    return _case_page(request, session, actor, runtime, case_id)


def _departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.active.is_(True))
                                .order_by(Department.code)))


def _act(session: Session, runtime: Runtime, actor: Actor, case_id: int,
         fields: dict[str, Any], photos: list[media.Encoded]) -> None:
    owner = media.owner_of(actor)
    refs = [media.ref_of(media.store_photo(session, runtime.settings.store_dir, p, owner,
                                           runtime.now()).id) for p in photos]
    act(session, actor, case_id, fields["action"], runtime=runtime, note=fields["note"],
        department_code=fields["department_code"] or None, hours=fields["hours"], photos=refs)
    session.commit()


def _action_fields(form: FormData) -> dict[str, Any]:
    hours = media.form_text(form, "hours", 20, line=True).strip()
    return {"action": media.form_text(form, "action", 30, line=True).strip(),
            "note": media.form_text(form, "note", 2000),
            "department_code": media.form_text(form, "department_code", 40, line=True).strip(),
            "hours": extension_hours(hours)}


def extension_hours(text: str) -> float | None:
    """The extension's hours from a form (0 < h ≤ 400), or the field's problem."""
    problems: list[Problem] = []
    value = parse_number(text, "hours", problems, low=0, high=400, low_open=True)
    if problems:
        raise ValidationFailed(problems=problems)
    return value


ACT_FORM = form_body({
    "action": {"type": "string", "maxLength": 30, "description": "The lifecycle action"},
    "note": {"type": "string", "maxLength": 2000},
    "department_code": {"type": "string", "maxLength": 40},
    "hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 400,
              "description": "An extension's hours"},
    "csrf_token": {"type": "string"}}, required=("action",), photos=ACTION_PHOTOS)


@router.post("/command/cases/{case_id}/act", summary="Apply an action from the case page",
             openapi_extra={**ACT_FORM, **photo_route(ACTION_PHOTOS)})
async def case_act(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                   case_id: CaseId) -> Response:
    """The case page's forms: an action with its note, department or hours, and — for
    处置反馈, 核查 and 返工 — up to four photos (multipart, bounded before reading). A refused
    action shows the case page again with the problem next to its form (422)."""
    fields: dict[str, Any] = {}
    try:
        form, photos = await media.photo_form(request, media.Limits.of(runtime.settings),
                                              ACTION_PHOTOS)
        fields = _action_fields(form)
        await run_in_threadpool(_act, session, runtime, actor, case_id, fields, photos)
    except CityGrowthError as err:
        if err.status in (401, 404):
            raise
        return await run_in_threadpool(_refused, request, session, actor, runtime, case_id,
                                       err, fields.get("action"))
    return redirect(request, f"/command/cases/{case_id}")


def _refused(request: Request, session: Session, actor: Actor, runtime: Runtime, case_id: int,
             err: CityGrowthError, action: str | None) -> Response:
    session.rollback()
    return _case_page(request, session, actor, runtime, case_id, err, action)


@router.get("/command/evaluation", summary="Evaluation tables")
def evaluation_page(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                    month: Annotated[Month | None, Query()]
                    = None) -> Response:
    months = [month] if month else recent_months(runtime)
    df = evaluate(session, actor, months, runtime.calendar)
    rows = df.astype(object).where(df.notna(), None).to_dict("records")
    names = {a.code: bilingual(a.name_zh, a.name_en) for a in session.scalars(
        select(Area).where(Area.code.in_({r["code"] for r in rows})))}
    names.update(department_names(session))
    return render_page(request, "governance/evaluation.html", actor, {
        "rows": rows, "months": months, "month": month or "", "names": names,
        "levels": ("district", "street", "grid", "department"),
        "trend": charts.ontime_trend_option([r for r in rows if r["level"] == "street"],
                                            names)})
