"""The approvals desk (受理 / 办结, steps) and the investment desk (leads, hand-overs with
acceptance, service requests with deadlines, the status board) as pages with forms.

Forms post here and call the same services as the JSON API; see :mod:`.forms`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability import approvals, charts, investment
from citygrowth.accountability.common import (
    APPROVAL_KIND_NAMES,
    APPROVAL_STATUS_NAMES,
    INDUSTRY_NAMES,
    LEAD_STAGE_NAMES,
    REQUEST_STATUS_NAMES,
    TOPIC_NAMES,
    department_choices,
    label,
)
from citygrowth.accountability.forms import Form as FormState
from citygrowth.accountability.forms import parse, submit
from citygrowth.accountability.project_pages import saved_text
from citygrowth.accountability.schemas import (
    AcceptIn,
    CloseIn,
    CompleteIn,
    EnterpriseIn,
    FollowUpIn,
    HandOverIn,
    LeadIn,
    RefuseIn,
    RequestUpdateIn,
    ServiceRequestIn,
    StageIn,
    StepIn,
)
from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can, departments_for
from citygrowth.db import utcnow
from citygrowth.errors import Problem, ValidationFailed
from citygrowth.i18n import N_, bilingual
from citygrowth.runtime import Runtime
from citygrowth.web.deps import RuntimeDep, SessionDep, UserDep
from citygrowth.web.templating import render_page

router = APIRouter(tags=["accountability pages"], default_response_class=HTMLResponse)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=200)]
PageFn = Callable[[dict[str, FormState], str | None], Response]

SAVED = {
    "accept": N_("The application is accepted (受理); its working days are counted from now."),
    "step": N_("The step is recorded."),
    "complete": N_("The item is completed (办结)."),
    "lead": N_("The lead is entered; every department on the desk sees it."),
    "request": N_("The service request is filed and routed."),
    "answer": N_("The service request is updated."),
    "follow_up": N_("The follow-up is recorded."),
    "lead_stage": N_("The lead's stage is changed."),
    "handover": N_("The lead is offered to the other department; it stays yours until they "
                   "accept."),
    "accept_lead": N_("The lead is now your department's."),
    "refuse_lead": N_("The hand-over is refused; the lead stays where it was."),
    "close": N_("The lead is closed (kept with its history)."),
}


def own_departments(session: Session, actor: Actor, permission: str) -> list[tuple[str, str]]:
    """The departments the reader may act for (all, for the district)."""
    allowed = departments_for(actor, permission)
    return [(c, n) for c, n in department_choices(session) if allowed is None or c in allowed]


def area_choices(session: Session, district: str) -> list[tuple[str, str]]:
    rows = session.scalars(select(Area).where(
        (Area.code == district) | ((Area.parent_code == district) & (Area.level == "street")))
        .order_by(Area.code))
    return [(a.code, bilingual(a.name_zh, a.name_en)) for a in rows]


def _local_now(runtime: Runtime) -> str:
    return utcnow().astimezone(runtime.tz).strftime("%Y-%m-%dT%H:%M")


def _render(request: Request, actor: Actor, template: str, ctx: dict[str, Any],
            forms: dict[str, FormState] | None, partial: str | None) -> Response:
    name = f"accountability/forms/{partial}.html" if partial else f"accountability/{template}"
    return render_page(request, name, actor, ctx | {"forms": forms or {}},
                       status_code=422 if forms else 200)


# --- approvals --------------------------------------------------------------------------------

def _approvals(request: Request, session: Session, actor: Actor, runtime: Runtime,
               forms: dict[str, FormState] | None = None,
               partial: str | None = None) -> Response:
    tz = runtime.tz
    today = runtime.today()
    days = runtime.calendar.days
    stats = approvals.approval_stats(session, actor, today, runtime.settings.timezone, days)
    ctx = {"stats": stats, "trend_chart": charts.approval_trend(stats),
           "pending": approvals.pending_items(session, actor, today, tz, days),
           "decided": approvals.recent_items(session, actor, tz, calendar=days),
           "can_accept": can(actor, "approval.record"),
           "departments": own_departments(session, actor, "approval.record"),
           "areas": area_choices(session, runtime.settings.district_code),
           "kinds": [(k, label(APPROVAL_KIND_NAMES, k)) for k in APPROVAL_KIND_NAMES],
           "next_code": approvals.next_code(session, today.year), "now": _local_now(runtime),
           "saved_text": "" if forms else saved_text(request, SAVED)}
    return _render(request, actor, "approvals.html", ctx, forms, partial)


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(request: Request, session: SessionDep, actor: UserDep,
                   runtime: RuntimeDep) -> Response:
    """Working days to approval; 受理 entry; items being handled, overdue ones first."""
    return _approvals(request, session, actor, runtime)


@router.post("/approvals", response_class=HTMLResponse)
def accept(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
           code: Short = "", name_zh: Short = "", kind: Short = "", project_code: Short = "",
           department_code: Short = "", area_code: Short = "", accepted_at: Short = "",
           limit_days: Short = "", note: Text = "") -> Response:
    values = {"code": code, "name_zh": name_zh, "kind": kind, "project_code": project_code,
              "department_code": department_code, "area_code": area_code,
              "accepted_at": accepted_at, "limit_days": limit_days, "note": note}
    tz = runtime.tz

    def page(forms: dict[str, FormState], partial: str | None) -> Response:
        return _approvals(request, session, actor, runtime, forms, partial)

    return submit(request, session, "accept", values,
                  lambda: approvals.accept_approval(session, actor, parse(AcceptIn, values), tz,
                                                    utcnow()),
                  page, "/approvals", {"department": "department_code"})


def _item(request: Request, session: Session, actor: Actor, runtime: Runtime, item_id: int,
          forms: dict[str, FormState] | None = None, partial: str | None = None) -> Response:
    tz = runtime.tz
    item = approvals.approval_detail(session, actor, item_id, runtime.today(), tz,
                                     runtime.calendar.days)
    ctx = {"a": item, "departments": department_choices(session), "now": _local_now(runtime),
           "outcomes": [(k, label(APPROVAL_STATUS_NAMES, k)) for k in ("approved", "refused")],
           "saved_text": "" if forms else saved_text(request, SAVED)}
    return _render(request, actor, "approval.html", ctx, forms, partial)


@router.get("/approvals/{item_id}", response_class=HTMLResponse)
def approval_page(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                  item_id: Id) -> Response:
    """One approval item: its steps, working days so far, and the 办结 form."""
    return _item(request, session, actor, runtime, item_id)


def _item_post(request: Request, session: Session, actor: Actor, runtime: Runtime,
               item_id: int, name: str, values: dict[str, str], action: Callable[[], object],
               ) -> Response:
    def page(forms: dict[str, FormState], partial: str | None) -> Response:
        return _item(request, session, actor, runtime, item_id, forms, partial)

    return submit(request, session, name, values, action, page, f"/approvals/{item_id}",
                  {"department": "department_code"})


@router.post("/approvals/{item_id}/steps", response_class=HTMLResponse)
def step(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
         item_id: Id, name_zh: Short = "", department_code: Short = "", started_at: Short = "",
         finished_at: Short = "") -> Response:
    values = {"name_zh": name_zh, "department_code": department_code,
              "started_at": started_at, "finished_at": finished_at}
    tz = runtime.tz
    return _item_post(request, session, actor, runtime, item_id, "step", values,
                      lambda: approvals.add_step(session, actor, item_id,
                                                 parse(StepIn, values), tz, utcnow()))


@router.post("/approvals/{item_id}/complete", response_class=HTMLResponse)
def complete(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
             item_id: Id, completed_at: Short = "", outcome: Short = "",
             note: Text = "") -> Response:
    values = {"completed_at": completed_at, "outcome": outcome, "note": note}
    tz = runtime.tz
    return _item_post(request, session, actor, runtime, item_id, "complete", values,
                      lambda: approvals.complete_approval(session, actor, item_id,
                                                          parse(CompleteIn, values), tz,
                                                          utcnow(), runtime.calendar.days))


# --- investment desk --------------------------------------------------------------------------

def _desk(request: Request, session: Session, actor: Actor, runtime: Runtime,
          forms: dict[str, FormState] | None = None, partial: str | None = None) -> Response:
    today = runtime.today()
    f = investment.funnel(session, actor)
    board = investment.board(session, actor, today)
    requests = investment.list_service_requests(session, actor, today)
    ctx = {"funnel": f, "funnel_chart": charts.lead_funnel(f), "board": board,
           "leads": investment.list_leads(session, actor), "requests": requests,
           "can_edit": can(actor, "investment.edit"),
           "enterprises": investment.enterprise_choices(session, actor),
           "departments": own_departments(session, actor, "investment.edit"),
           "areas": area_choices(session, runtime.settings.district_code),
           "industries": [(k, label(INDUSTRY_NAMES, k)) for k in INDUSTRY_NAMES],
           "topics": [(k, label(TOPIC_NAMES, k)) for k in TOPIC_NAMES],
           "answerable": [(r["id"], f"{r['enterprise']} · {r['topic_name']}")
                          for r in requests if r["can_answer"]],
           "answer_states": [(k, label(REQUEST_STATUS_NAMES, k)) for k in ("in_progress", "done")],
           "saved_text": "" if forms else saved_text(request, SAVED)}
    return _render(request, actor, "investment.html", ctx, forms, partial)


@router.get("/investment", response_class=HTMLResponse)
def investment_page(request: Request, session: SessionDep, actor: UserDep,
                    runtime: RuntimeDep) -> Response:
    """The desk: status board, hand-overs waiting, service requests, forms to enter leads and
    requests, the pipeline funnel and every lead."""
    return _desk(request, session, actor, runtime)


def _desk_post(request: Request, session: Session, actor: Actor, runtime: Runtime,
               name: str, values: dict[str, str], action: Callable[[], object]) -> Response:
    def page(forms: dict[str, FormState], partial: str | None) -> Response:
        return _desk(request, session, actor, runtime, forms, partial)

    return submit(request, session, name, values, action, page, "/investment",
                  {"department": "department_code"})


@router.post("/investment/leads", response_class=HTMLResponse)
def new_lead(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
             enterprise_id: Short = "", enterprise_name: Short = "", title_zh: Short = "",
             industry: Short = "", department_code: Short = "", area_code: Short = "",
             expected_wan: Short = "", note: Text = "") -> Response:
    values = {"enterprise_id": enterprise_id, "enterprise_name": enterprise_name,
              "title_zh": title_zh, "industry": industry, "department_code": department_code,
              "area_code": area_code, "expected_wan": expected_wan, "note": note}

    def action() -> object:
        ent = enterprise_id
        if not ent and enterprise_name.strip():
            new = parse(EnterpriseIn, {"name_zh": enterprise_name, "industry": industry,
                                       "area_code": area_code})
            ent = str(investment.create_enterprise(session, actor, new).id)
        if not ent:
            raise ValidationFailed(problems=[Problem(
                N_("Choose an enterprise or give a new one's name."), field="enterprise_id")])
        fields = {k: v for k, v in values.items() if k != "enterprise_name"}
        return investment.create_lead(session, actor, parse(LeadIn, fields | {
            "enterprise_id": ent}))

    return _desk_post(request, session, actor, runtime, "lead", values, action)


@router.post("/investment/requests", response_class=HTMLResponse)
def new_request(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                enterprise_id: Short = "", topic: Short = "", description: Text = "",
                due_on: Short = "") -> Response:
    values = {"enterprise_id": enterprise_id, "topic": topic, "description": description,
              "due_on": due_on}
    today = runtime.today()
    return _desk_post(request, session, actor, runtime, "request", values,
                      lambda: investment.create_service_request(
                          session, actor, parse(ServiceRequestIn, values), today))


@router.post("/investment/requests/answer", response_class=HTMLResponse)
def answer_request(request: Request, session: SessionDep, actor: UserDep,
                   runtime: RuntimeDep, request_id: Short = "", status: Short = "",
                   response: Text = "") -> Response:
    values = {"request_id": request_id, "status": status, "response": response}

    def action() -> object:
        if not request_id.isdigit():
            raise ValidationFailed(problems=[Problem(N_("Choose a service request."),
                                                     field="request_id")])
        return investment.update_service_request(
            session, actor, int(request_id),
            parse(RequestUpdateIn, {"status": status, "response": response}))

    return _desk_post(request, session, actor, runtime, "answer", values, action)


def _lead(request: Request, session: Session, actor: Actor, runtime: Runtime, lead_id: int,
          forms: dict[str, FormState] | None = None, partial: str | None = None) -> Response:
    lead = investment.lead_detail(session, actor, lead_id)
    ctx = {"lead": lead, "departments": [(c, n) for c, n in department_choices(session)
                                         if c != lead["owner_department_code"]],
           "stages": [(k, label(LEAD_STAGE_NAMES, k)) for k in LEAD_STAGE_NAMES],
           "today": runtime.today(),
           "saved_text": "" if forms else saved_text(request, SAVED)}
    return _render(request, actor, "lead.html", ctx, forms, partial)


@router.get("/investment/leads/{lead_id}", response_class=HTMLResponse)
def lead_page(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
              lead_id: Id) -> Response:
    """One lead: its history and the forms of its holder (stage, hand-over, close), of the
    department it is offered to (accept or refuse) and of every desk officer (follow-up)."""
    return _lead(request, session, actor, runtime, lead_id)


def _lead_post(request: Request, session: Session, actor: Actor, runtime: Runtime,
               lead_id: int, name: str, values: dict[str, str],
               action: Callable[[], object]) -> Response:
    def page(forms: dict[str, FormState], partial: str | None) -> Response:
        return _lead(request, session, actor, runtime, lead_id, forms, partial)

    return submit(request, session, name, values, action, page,
                  f"/investment/leads/{lead_id}", {"department": "department_code"})


@router.post("/investment/leads/{lead_id}/follow-up", response_class=HTMLResponse)
def lead_follow_up(request: Request, session: SessionDep, actor: UserDep,
                   runtime: RuntimeDep, lead_id: Id, note: Text = "") -> Response:
    values = {"note": note}
    return _lead_post(request, session, actor, runtime, lead_id, "follow_up", values,
                      lambda: investment.follow_up(session, actor, lead_id,
                                                   parse(FollowUpIn, values)))


@router.post("/investment/leads/{lead_id}/stage", response_class=HTMLResponse)
def lead_stage(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
               lead_id: Id, stage: Short = "", note: Text = "") -> Response:
    values = {"stage": stage, "note": note}
    today: dt.date = runtime.today()
    return _lead_post(request, session, actor, runtime, lead_id, "lead_stage", values,
                      lambda: investment.change_stage(session, actor, lead_id,
                                                      parse(StageIn, values), today))


@router.post("/investment/leads/{lead_id}/handover", response_class=HTMLResponse)
def lead_handover(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                  lead_id: Id, department_code: Short = "", note: Text = "") -> Response:
    values = {"department_code": department_code, "note": note}
    return _lead_post(request, session, actor, runtime, lead_id, "handover", values,
                      lambda: investment.hand_over(session, actor, lead_id,
                                                   parse(HandOverIn, values)))


@router.post("/investment/leads/{lead_id}/accept", response_class=HTMLResponse)
def lead_accept(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                lead_id: Id) -> Response:
    return _lead_post(request, session, actor, runtime, lead_id, "accept_lead", {},
                      lambda: investment.accept_handover(session, actor, lead_id))


@router.post("/investment/leads/{lead_id}/refuse", response_class=HTMLResponse)
def lead_refuse(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                lead_id: Id, reason: Text = "") -> Response:
    values = {"reason": reason}
    return _lead_post(request, session, actor, runtime, lead_id, "refuse_lead", values,
                      lambda: investment.refuse_handover(session, actor, lead_id,
                                                         parse(RefuseIn, values)))


@router.post("/investment/leads/{lead_id}/close", response_class=HTMLResponse)
def lead_close(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
               lead_id: Id, reason: Text = "") -> Response:
    values = {"reason": reason}
    return _lead_post(request, session, actor, runtime, lead_id, "close", values,
                      lambda: investment.close_lead(session, actor, lead_id,
                                                    parse(CloseIn, values)))
