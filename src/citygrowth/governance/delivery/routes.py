"""HTTP for delivery: the departments' inbox (``/command/inbox``), the send records with their
failures (``/command/deliveries``) and the administration of departments' channels
(``/admin/cases/channels``), each page with its JSON (and CSV) twin."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import can
from citygrowth.errors import ValidationFailed
from citygrowth.governance.admin_routes import _choices, _gate
from citygrowth.governance.delivery import admin, inbox, service
from citygrowth.governance.delivery.message import name_of
from citygrowth.governance.delivery.models import STATES, CaseDelivery
from citygrowth.governance.display import local_text, root_path
from citygrowth.governance.forms import errors_by_field
from citygrowth.governance.lifecycle import STATUSES, TABLE
from citygrowth.governance.models import Case
from citygrowth.governance.schemas import (
    ChannelAnswer,
    ChannelPage,
    DeliveryAnswer,
    DeliveryPage,
    InboxPage,
)
from citygrowth.governance.service import case_dict
from citygrowth.i18n import N_, get_locale, translate
from citygrowth.inputs import InputModel, Line
from citygrowth.web.deps import ActorDep, SessionDep, SettingsDep, UserDep, runtime_of
from citygrowth.web.openapi import CSV, REDIRECT, OkOut
from citygrowth.web.paging import PageRequest, paging
from citygrowth.web.render import columns, csv_response
from citygrowth.web.templating import render_page

router = APIRouter(tags=["case delivery"])
DeliveryId = Annotated[int, Path(ge=1, le=2**31)]
Dept = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
ChannelName = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9_.-]+$")]
StateQ = Annotated[str | None, Query(pattern=r"^(pending|sent|failed)$")]
STATE_LABELS = {"pending": N_("Waiting to be sent"), "sent": N_("Sent"),
                "failed": N_("Failed")}
CHANNEL_LABELS = {"inbox": N_("In-app inbox"), "webhook": N_("Webhook"), "email": N_("E-mail")}


def delivery_dict(session: Session, d: CaseDelivery, tz: ZoneInfo) -> dict[str, Any]:
    case = session.get(Case, d.case_id)
    return {"id": d.id, "case_id": d.case_id, "action": d.action,
            "action_label": translate(TABLE[d.action].label) if d.action in TABLE else d.action,
            "department_code": d.department_code,
            "department": name_of(session, Department, d.department_code), "channel": d.channel,
            "channel_label": translate(CHANNEL_LABELS.get(d.channel, d.channel)),
            "state": d.state, "state_label": translate(STATE_LABELS[d.state]),
            "attempts": d.attempts, "last_error": translate(d.last_error) if d.last_error else "",
            "receipt": d.receipt,
            "created_at": _iso(d.created_at, tz), "last_attempt_at": _iso(d.last_attempt_at, tz),
            "next_attempt_at": _iso(d.next_attempt_at, tz), "sent_at": _iso(d.sent_at, tz),
            "created_local": local_text(d.created_at, tz),
            "next_local": local_text(d.next_attempt_at, tz),
            "sent_local": local_text(d.sent_at, tz),
            "case_status": translate(STATUSES[case.status]) if case else ""}


def _iso(value: Any, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


# --- inbox -----------------------------------------------------------------------------------

def _inbox_rows(session: Session, actor: Actor, tz: ZoneInfo,
                unread: bool) -> list[dict[str, Any]]:
    depts = dict(_choices(session)["departments"])
    rows = []
    for item in inbox.items(session, actor, unread_only=unread):
        case = session.get(Case, item.case_id)
        if case is None:
            continue
        c = case_dict(session, case)
        rows.append({"id": item.id, "case_id": item.case_id, "action": item.action,
                     "action_label": translate(TABLE[item.action].label),
                     "department_code": item.department_code,
                     "department": depts.get(item.department_code, item.department_code),
                     "unread": item.read_at is None, "received_at": _iso(item.created_at, tz),
                     "received_local": local_text(item.created_at, tz),
                     "read_by": item.read_by, "category": c["category"], "area": c["area"],
                     "status_label": c["status_label"], "due_local": local_text(case.due_at, tz),
                     "overdue": c["overdue"]})
    return rows


@router.get("/command/inbox", summary="The department's inbox of dispatched cases",
            response_class=HTMLResponse)
def inbox_page(request: Request, session: SessionDep, actor: UserDep, settings: SettingsDep,
               unread: Annotated[bool, Query()] = False) -> Response:
    rows = _inbox_rows(session, actor, ZoneInfo(settings.timezone), unread)
    return render_page(request, "governance/inbox.html", actor, {
        "rows": rows, "unread": unread,
        "unread_count": inbox.note_unread(request, session, actor)})


@router.get("/api/cases/inbox", summary="The department's inbox (JSON twin of /command/inbox)",
            response_model=InboxPage)
def api_inbox(session: SessionDep, actor: UserDep, settings: SettingsDep,
              page: Annotated[PageRequest, paging(200, 1000)],
              unread: Annotated[bool, Query()] = False) -> dict[str, Any]:
    """Unread first, newest first."""
    rows = _inbox_rows(session, actor, ZoneInfo(settings.timezone), unread)
    return page.slice([{k: v for k, v in r.items() if not k.endswith("_local")} for r in rows],
                      unread=inbox.unread_count(session, actor))


# --- send records ----------------------------------------------------------------------------

def _records(session: Session, actor: Actor, tz: ZoneInfo, state: str | None, problems: bool,
             case_id: int | None = None) -> list[dict[str, Any]]:
    return [delivery_dict(session, d, tz) for d in service.list_deliveries(
        session, actor, state=state, problems=problems, case_id=case_id)]


@router.get("/command/deliveries", summary="Deliveries to departments and their failures",
            response_class=HTMLResponse)
def deliveries_page(request: Request, session: SessionDep, actor: UserDep,
                    settings: SettingsDep, state: StateQ = None,
                    problems: Annotated[bool, Query()] = False) -> Response:
    tz = ZoneInfo(settings.timezone)
    return render_page(request, "governance/deliveries.html", actor, {
        "rows": _records(session, actor, tz, state, problems), "state": state or "",
        "problems": problems, "states": STATE_LABELS,
        "counts": service.problem_counts(session, actor),
        "can_retry": can(actor, "case.dispatch")})


@router.get("/api/cases/deliveries", summary="Deliveries to departments (JSON), newest first",
            response_model=DeliveryPage)
def api_deliveries(session: SessionDep, actor: UserDep, settings: SettingsDep,
                   page: Annotated[PageRequest, paging(200, 1000)],
                   state: StateQ = None, problems: Annotated[bool, Query()] = False,
                   case: Annotated[int | None, Query(ge=1, le=2**31)] = None) -> dict[str, Any]:
    rows = _records(session, actor, ZoneInfo(settings.timezone), state, problems, case)
    return page.slice([{k: v for k, v in r.items() if not k.endswith("_local")}
                       for r in rows], counts=service.problem_counts(session, actor))


CSV_COLUMNS = ["id", "case_id", "action", "department_code", "channel", "state", "attempts",
               "last_error", "created_at", "last_attempt_at", "next_attempt_at", "sent_at"]


@router.get("/api/cases/deliveries.csv", summary="Deliveries to departments (CSV)",
            response_class=Response, responses=CSV)
def api_deliveries_csv(session: SessionDep, actor: UserDep, settings: SettingsDep,
                       state: StateQ = None,
                       problems: Annotated[bool, Query()] = False) -> Response:
    rows = _records(session, actor, ZoneInfo(settings.timezone), state, problems)
    return csv_response(columns(*CSV_COLUMNS), rows, "deliveries", get_locale())


@router.post("/command/deliveries/{delivery_id}/retry", summary="Send a delivery again",
             response_class=HTMLResponse, status_code=303, responses=REDIRECT)
def retry_delivery(request: Request, session: SessionDep, actor: UserDep,
                   delivery_id: DeliveryId,
                   back: Annotated[str, Form(pattern=r"^(case|list)?$")] = "") -> Response:
    d = service.retry(session, actor, delivery_id)
    target = f"/command/cases/{d.case_id}" if back == "case" else "/command/deliveries?problems=1"
    return RedirectResponse(root_path(request) + target, status_code=303)


@router.post("/api/cases/deliveries/{delivery_id}/retry", summary="Send a delivery again",
             response_model=DeliveryAnswer)
def api_retry(session: SessionDep, actor: UserDep, settings: SettingsDep,
              delivery_id: DeliveryId) -> dict[str, Any]:
    d = service.retry(session, actor, delivery_id)
    return {"ok": True, "delivery": delivery_dict(session, d, ZoneInfo(settings.timezone))}


# --- departments' channels -------------------------------------------------------------------

class ChannelIn(InputModel):
    target: Line = Field(default="", max_length=500)
    active: bool = True
    new_secret: bool = False


def _installed(request: Request) -> list[str]:
    return sorted(service.channels(runtime_of(request)))


def channel_dict(c: Any) -> dict[str, Any]:
    return {"department_code": c.department_code, "channel": c.channel, "target": c.target,
            "active": c.active, "signed": bool(c.secret)}


@router.get("/api/admin/cases/channels", summary="Departments' delivery channels",
            response_model=ChannelPage)
def api_channels(request: Request, session: SessionDep, actor: UserDep,
                 page: Annotated[PageRequest, paging(200, 1000)]) -> dict[str, Any]:
    return page.slice([channel_dict(c) for c in admin.list_channels(session, actor)],
                      installed=_installed(request))


@router.put("/api/admin/cases/channels/{department}/{channel}",
            summary="Add or change a department's channel (a webhook's secret is shown once)",
            response_model=ChannelAnswer)
def api_channel_set(request: Request, session: SessionDep, actor: UserDep, department: Dept,
                    channel: ChannelName, body: ChannelIn) -> dict[str, Any]:
    out = admin.set_channel(session, actor, department, channel, body.target,
                            _installed(request), body.active, body.new_secret)
    return {"ok": True, "channel": channel_dict(out.channel), "secret": out.secret}


@router.delete("/api/admin/cases/channels/{department}/{channel}",
               summary="Remove a department's channel", response_model=OkOut)
def api_channel_remove(session: SessionDep, actor: UserDep, department: Dept,
                       channel: ChannelName) -> dict[str, Any]:
    admin.remove_channel(session, actor, department, channel)
    return {"ok": True}


def _channels_page(request: Request, session: Session, actor: Actor, *,
                   values: dict[str, Any] | None = None, err: ValidationFailed | None = None,
                   secret: tuple[str, str, str] | None = None) -> Response:
    errors, other = errors_by_field(err) if err else ({}, [])
    return render_page(request, "governance/admin_channels.html", actor, {
        "channels": admin.list_channels(session, actor), "installed": _installed(request),
        "labels": CHANNEL_LABELS, "values": values or {}, "errors": errors,
        "other_errors": other, "secret": secret, **_choices(session)},
        status_code=422 if err else 200)


@router.get("/admin/cases/channels", summary="Departments' delivery channels (administration)",
            response_class=HTMLResponse, responses=REDIRECT)
def channels_page(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    if (gate := _gate(request, actor)) is not None:
        return gate
    return _channels_page(request, session, actor)


@router.post("/admin/cases/channels", summary="Add or change a department's channel (form)",
             response_class=HTMLResponse)
def channels_set(request: Request, session: SessionDep, actor: UserDep,
                 department_code: Annotated[str, Form(max_length=40)] = "",
                 channel: Annotated[str, Form(max_length=40)] = "",
                 target: Annotated[str, Form(max_length=1000)] = "",
                 active: Annotated[str, Form(max_length=5)] = "",
                 new_secret: Annotated[str, Form(max_length=5)] = "") -> Response:
    values = {"department_code": department_code, "channel": channel, "target": target,
              "active": bool(active)}
    try:
        out = admin.set_channel(session, actor, department_code, channel, target,
                                _installed(request), bool(active), bool(new_secret))
    except ValidationFailed as err:
        return _channels_page(request, session, actor, values=values, err=err)
    shown = (out.channel.department_code, out.channel.channel, out.secret) if out.secret \
        else None
    return _channels_page(request, session, actor, secret=shown)


@router.post("/admin/cases/channels/{department}/{channel}/remove",
             summary="Remove a department's channel (form)", response_class=HTMLResponse,
             status_code=303, responses=REDIRECT)
def channels_remove(request: Request, session: SessionDep, actor: UserDep, department: Dept,
                    channel: ChannelName) -> Response:
    admin.remove_channel(session, actor, department, channel)
    return RedirectResponse(root_path(request) + "/admin/cases/channels", status_code=303)


__all__ = ["STATES", "delivery_dict", "router"]
