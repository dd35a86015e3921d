"""Pages: the district and street command centers, the department view, a case, evaluation;
the grid worker's mobile patrol and task list; the resident's report form and tracking page;
helpers' tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.governance import charts
from citygrowth.governance.delivery import inbox
from citygrowth.governance.delivery.routes import delivery_dict
from citygrowth.governance.delivery.service import list_deliveries, problem_counts
from citygrowth.governance.display import local_text, remaining
from citygrowth.governance.evaluation import evaluate, recent_months
from citygrowth.governance.intake import ReportInput, public_reporter, submit_report
from citygrowth.governance.lifecycle import (
    OPEN,
    RUNNING,
    STATUSES,
    TABLE,
    actions_for,
    case_resource,
    transition,
)
from citygrowth.governance.models import Case
from citygrowth.governance.service import (
    CaseFilter,
    act,
    by_token,
    case_dict,
    event_dict,
    events_of,
    get_case,
    list_cases,
    queue_counts,
    tracking_actor,
)
from citygrowth.governance.sla import WorkCalendar
from citygrowth.governance.taxonomy import leaf_categories
from citygrowth.i18n import N_, bilingual, translate
from citygrowth.runtime import Runtime
from citygrowth.web.deps import ActorDep, RuntimeDep, SessionDep, UserDep
from citygrowth.web.templating import render_page
from citygrowth.web.urls import redirect

router = APIRouter(tags=["command center"], include_in_schema=True)
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
        row = case_dict(session, c, now, calendar=calendar)
        row["reported_local"] = local_text(c.reported_at, tz)
        row["due_local"] = local_text(c.due_at, tz)
        row["remaining"] = remaining(c.due_at, now, calendar) if c.status in RUNNING else ""
        row["department"] = depts.get(c.department_code or "", c.department_code or "")
        rows.append(row)
    return rows


def department_names(session: Session) -> dict[str, str]:
    return {d.code: bilingual(d.name_zh, d.name_en) for d in session.scalars(select(Department))}


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


@router.get("/command/cases/{case_id}", summary="One case")
def case_page(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
              case_id: CaseId) -> Response:
    case = get_case(session, actor, case_id)
    now, tz = runtime.now(), runtime.tz
    inbox.mark_read(session, actor, case.id, now)
    row = case_rows(session, [case], now, tz, runtime.calendar)[0]
    events = [{**event_dict(e), "at_local": local_text(e.at, tz, seconds=True)}
              for e in events_of(session, case)]
    return render_page(request, "governance/case.html", actor, {
        "case": {**row, "actions": [t.action for t in actions_for(actor, case)]},
        "events": events, "actions": actions_for(actor, case),
        "departments": _departments(session),
        "deliveries": [delivery_dict(session, d, tz) for d in list_deliveries(
            session, actor, case_id=case.id)],
        "can_retry": can(actor, "case.dispatch", case_resource(case)),
        "can_help": can(actor, "help.manage", case.area_code)})


def _departments(session: Any) -> list[Any]:
    return list(session.scalars(select(Department).where(Department.active.is_(True))
                                .order_by(Department.code)))


@router.post("/command/cases/{case_id}/act", summary="Apply an action from the case page")
def case_act(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
             case_id: CaseId,
             action: Annotated[str, Form(max_length=30)],
             note: Annotated[str, Form(max_length=2000)] = "",
             department_code: Annotated[str, Form(max_length=40)] = "",
             hours: Annotated[float | None, Form(gt=0, le=400)] = None) -> Response:
    act(session, actor, case_id, action, runtime=runtime, note=note,
        department_code=department_code or None, hours=hours)
    return redirect(request, f"/command/cases/{case_id}")


@router.get("/command/evaluation", summary="Evaluation tables")
def evaluation_page(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
                    = None) -> Response:
    months = [month] if month else recent_months(runtime)
    df = evaluate(session, actor, months, runtime.calendar)
    rows = df.astype(object).where(df.notna(), None).to_dict("records")
    return render_page(request, "governance/evaluation.html", actor, {
        "rows": rows, "months": months, "month": month or "",
        "levels": ("district", "street", "grid", "department"),
        "trend": charts.ontime_trend_option([r for r in rows if r["level"] == "street"])})


# --- residents -------------------------------------------------------------------------------

@router.get("/report", summary="Resident report form")
def report_form(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    return render_page(request, "governance/report.html", actor, {
        "categories": leaf_categories(session), "problems": []})


@router.post("/report", summary="Submit a resident report")
def report_submit(request: Request, session: SessionDep, actor: ActorDep,
                  runtime: RuntimeDep,
                  category_code: Annotated[str, Form(max_length=20)],
                  description: Annotated[str, Form(max_length=4000)] = "",
                  address: Annotated[str, Form(max_length=300)] = "",
                  lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
                  lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
                  contact: Annotated[str, Form(max_length=200)] = "",
                  idempotency_key: Annotated[str | None, Form(min_length=8, max_length=64)]
                  = None) -> Response:
    reporter = actor if can(actor, "case.report") else \
        public_reporter(runtime.settings.district_code)
    inp = ReportInput(category_code=category_code, lat=lat, lon=lon, description=description,
                      address=address, contact=contact, source="resident",
                      idempotency_key=idempotency_key)
    result = submit_report(session, reporter, inp, runtime=runtime)
    session.commit()
    return redirect(request, f"/track/{result.case.token}")


@router.get("/track/{token}", summary="Resident tracking page")
def track(request: Request, session: SessionDep, actor: ActorDep, token: Token) -> Response:
    case = by_token(session, token)
    public = {"report", *[a for a, t in TABLE.items() if t.target]}
    return render_page(request, "governance/track.html", actor, {
        "case": case_dict(session, case), "token": token,
        "events": [event_dict(e) for e in events_of(session, case) if e.action in public]})


@router.post("/track/{token}/rate", summary="Rate a closed case")
def track_rate(request: Request, session: SessionDep, runtime: RuntimeDep, token: Token,
               rating: Annotated[int, Form(ge=1, le=5)],
               note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    case = by_token(session, token)
    transition(session, tracking_actor(case), case, "rate", rating=rating, note=note,
               runtime=runtime)
    return redirect(request, f"/track/{token}")


@router.post("/track/{token}/reopen", summary="Reopen a closed case")
def track_reopen(request: Request, session: SessionDep, runtime: RuntimeDep, token: Token,
                 note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    case = by_token(session, token)
    transition(session, tracking_actor(case), case, "reopen", note=note, runtime=runtime)
    return redirect(request, f"/track/{token}")
