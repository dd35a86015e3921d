"""THE transition table of a case, and ``transition`` — the only way a case changes state.

reported → registered (立案) or cancelled (作废, with reason) → dispatched (派遣) → handling
(受理) → handled (反馈) → verified (核查, by a grid worker) → closed (结案); handled or verified
→ dispatched again when returned for rework (返工). A department may return (回退) a case to the
dispatcher; extension (延期) and postponement (缓办) are requested and need approval; supervision
(督办) and escalation (升级) mark a case without moving it; a resident rates a closed case or
reopens it.

Every call appends one immutable :class:`CaseEvent` (who, when, from, to, action, note,
photos); nothing rewrites events. The SLA clock is computed from the events (``clock``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import can, require
from citygrowth.errors import Conflict, Problem, ValidationFailed
from citygrowth.events import publish_on_commit
from citygrowth.governance import media
from citygrowth.governance.delivery.outbox import enqueue
from citygrowth.governance.dispatch import route
from citygrowth.governance.models import OPEN_STATUSES, Case, CaseCategory, CaseEvent
from citygrowth.governance.sla import WorkCalendar
from citygrowth.i18n import N_
from citygrowth.runtime import Runtime

STATUSES: dict[str, str] = {
    "reported": N_("Reported"),
    "registered": N_("Registered"),
    "cancelled": N_("Cancelled"),
    "dispatched": N_("Dispatched"),
    "handling": N_("Handling"),
    "handled": N_("Handled"),
    "verified": N_("Verified"),
    "postponed": N_("Postponed"),
    "closed": N_("Closed"),
}
OPEN = frozenset(OPEN_STATUSES)  # reported … verified, postponed: not closed or cancelled
RUNNING = frozenset({"dispatched", "handling"})  # the handling clock runs in these
FINAL = frozenset({"cancelled", "closed"})
NO_DEPARTMENT = "(none)"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None  # None: the status stays
    permission: str
    label: str
    needs_note: bool = False
    pending: str | None = None  # the pending request this action answers
    refuse_pending: bool = False  # refused while a request awaits approval


def _t(action: str, sources: Sequence[str] | frozenset[str], target: str | None,
       permission: str, label: str, **kw: Any) -> Transition:
    return Transition(action, frozenset(sources), target, permission, label, **kw)


TABLE: dict[str, Transition] = {t.action: t for t in (
    _t("register", ["reported"], "registered", "case.register", N_("Register")),
    _t("cancel", ["reported"], "cancelled", "case.cancel", N_("Cancel"), needs_note=True),
    _t("dispatch", ["registered"], "dispatched", "case.dispatch", N_("Dispatch")),
    _t("accept", ["dispatched"], "handling", "case.handle", N_("Accept"), refuse_pending=True),
    _t("return", ["dispatched", "handling"], "registered", "case.handle",
       N_("Return to dispatcher"), needs_note=True, refuse_pending=True),
    _t("handle", ["handling"], "handled", "case.handle", N_("Report handled"),
       refuse_pending=True),
    _t("verify", ["handled"], "verified", "case.verify", N_("Verify")),
    _t("rework", ["handled", "verified"], "dispatched", "case.rework", N_("Return for rework"),
       needs_note=True),
    _t("close", ["verified"], "closed", "case.close", N_("Close")),
    _t("request_extension", ["dispatched", "handling"], None, "case.handle",
       N_("Request extension"), needs_note=True, refuse_pending=True),
    _t("approve_extension", ["dispatched", "handling"], None, "case.approve",
       N_("Approve extension"), pending="extension"),
    _t("reject_extension", ["dispatched", "handling"], None, "case.approve",
       N_("Reject extension"), needs_note=True, pending="extension"),
    _t("request_postponement", ["dispatched", "handling"], None, "case.handle",
       N_("Request postponement"), needs_note=True, refuse_pending=True),
    _t("approve_postponement", ["dispatched", "handling"], "postponed", "case.approve",
       N_("Approve postponement"), pending="postponement"),
    _t("reject_postponement", ["dispatched", "handling"], None, "case.approve",
       N_("Reject postponement"), needs_note=True, pending="postponement"),
    _t("resume", ["postponed"], "handling", "case.handle", N_("Resume")),
    _t("supervise", OPEN, None, "case.supervise", N_("Supervise"), needs_note=True),
    _t("escalate", OPEN, None, "case.escalate", N_("Escalate")),
    _t("reopen", ["closed"], "registered", "case.reopen", N_("Reopen"), needs_note=True),
    _t("rate", ["closed"], None, "case.rate", N_("Rate satisfaction")),
)}
REPORT_LABEL = N_("Report")
#: The steps a reporter sees on the tracking page (and whose photos they may see): the report
#: and every action that moves the case; notes of supervision, escalation, extensions stay
#: inside.
PUBLIC_ACTIONS = frozenset({"report", *(t.action for t in TABLE.values() if t.target)})


def allowed_actions(case: Case) -> list[Transition]:
    """Transitions the table allows from the case's status (ignoring who acts)."""
    out = []
    for t in TABLE.values():
        if case.status not in t.sources:
            continue
        if t.pending is not None and case.pending != t.pending:
            continue
        if t.refuse_pending and case.pending:
            continue
        out.append(t)
    return out


def case_resource(case: Case) -> dict[str, str | None]:
    """What ``require`` scopes on: the grid cell and the assigned department (a case not yet
    dispatched belongs to no department, so department-bound grants do not cover it)."""
    return {"area_code": case.area_code, "department_code": case.department_code or NO_DEPARTMENT}


def actions_for(actor: Actor, case: Case) -> list[Transition]:
    return [t for t in allowed_actions(case) if can(actor, t.permission, case_resource(case))]


@dataclass
class Inputs:
    note: str = ""
    photos: list[str] = field(default_factory=list)
    department_code: str | None = None
    hours: float | None = None
    rating: int | None = None
    level: int | None = None


def transition(session: Session, actor: Actor, case: Case, action: str, *, runtime: Runtime,
               note: str = "", photos: Sequence[str] = (), department_code: str | None = None,
               hours: float | None = None, rating: int | None = None, level: int | None = None,
               at: dt.datetime | None = None, publish: bool = True) -> CaseEvent:
    """Apply ``action`` to ``case`` on behalf of ``actor``; append its event; publish it on the
    runtime's bus (unless ``publish`` is false: bulk loaders)."""
    t = TABLE.get(action)
    if t is None:
        raise ValidationFailed("Unknown case action {action}.", action=action)
    require(actor, t.permission, case_resource(case))
    if case.status not in t.sources or (t.pending is not None and case.pending != t.pending):
        raise Conflict("The case is {state}; {action} is not possible now.",
                       code="illegal_transition", state=case.status, action=action)
    if t.refuse_pending and case.pending:
        raise Conflict("A request awaits approval on this case; {action} is not possible now.",
                       code="pending_request", action=action)
    inp = Inputs(note=(note or "").strip(), photos=list(photos), department_code=department_code,
                 hours=hours, rating=rating, level=level)
    if t.needs_note and not inp.note:
        raise ValidationFailed(problems=[Problem("A note (reason) is required.", field="note")])
    inp.photos = evidence(session, media.owner_of(actor), case, action, inp.photos)
    when = at or runtime.now()
    detail = _apply(session, case, t, inp, when, runtime.cases.default_time_limit_hours)
    from_status = case.status
    case.status = t.target or case.status
    case.updated_at = when
    event = _append(session, case, actor, action, from_status, inp, when, detail)
    refresh_clock(session, case, runtime.calendar, runtime.cases.warn_fraction)
    session.flush()
    enqueue(session, case, event, when)  # to the department's inbox and channels
    if publish:
        publish_on_commit(session, runtime.bus, "case.changed", case_changed(
            case.id, action, from_status, case.status, case.area_code, case.department_code))
    return event


def case_changed(case_id: int, action: str, from_status: str | None, to_status: str,
                 area_code: str, department_code: str | None) -> dict[str, Any]:
    """The payload of a ``case.changed`` event — the one shape every channel publishes."""
    return {"case_id": case_id, "action": action, "from": from_status, "to": to_status,
            "area_code": area_code, "department_code": department_code}


def _apply(session: Session, case: Case, t: Transition, inp: Inputs,
           when: dt.datetime, default_limit_hours: float) -> dict[str, Any]:
    """The side effects of one action on the case row; returns the event's detail."""
    a = t.action
    detail: dict[str, Any] = {}
    if a == "dispatch":
        dept = inp.department_code or route(session, case.category_code, case.area_code)
        _check_department(session, dept)
        case.department_code = dept
        if case.limit_hours is None:
            case.limit_hours = base_limit(session, case.category_code, default_limit_hours)
        detail = {"department_code": dept, "limit_hours": case.limit_hours}
    elif a == "return":
        detail = {"department_code": case.department_code}
        case.department_code = None
    elif a in ("request_extension", "request_postponement"):
        if a == "request_extension" and (inp.hours is None or not 0 < inp.hours <= 400):
            raise ValidationFailed(problems=[Problem(
                "Give the extra working hours (more than 0, at most 400).", field="hours",
                value=inp.hours)])
        case.pending = "extension" if a == "request_extension" else "postponement"
        case.pending_hours = inp.hours
        detail = {"hours": inp.hours} if inp.hours else {}
    elif a in ("approve_extension", "reject_extension", "approve_postponement",
               "reject_postponement"):
        if a == "approve_extension":
            detail = {"hours": case.pending_hours}
        case.pending, case.pending_hours = None, None
    elif a == "supervise":
        case.supervised = True
    elif a == "escalate":
        case.escalation_level = max(case.escalation_level + 1, inp.level or 0)
        detail = {"level": case.escalation_level}
    elif a == "rework":
        case.rework_count += 1
    elif a == "close":
        case.closed_at = when
    elif a == "reopen":
        case.reopen_count += 1
        case.closed_at = None
        case.department_code = None
    elif a == "rate":
        if inp.rating is None or not 1 <= inp.rating <= 5:
            raise ValidationFailed(problems=[Problem(
                "The rating must be a whole number from 1 to 5.", field="rating",
                value=inp.rating)])
        case.satisfaction = inp.rating
        detail = {"rating": inp.rating}
    return detail


def after_photo_required(session: Session, category_code: str) -> bool:
    """Whether the category (or its 大类) asks for a photo of the result with 处置反馈."""
    cat = session.get(CaseCategory, category_code)
    while cat is not None:
        if cat.after_photo_required:
            return True
        cat = session.get(CaseCategory, cat.parent_code) if cat.parent_code else None
    return False


def evidence(session: Session, owner: str, case: Case, action: str,
             photos: Sequence[str]) -> list[str]:
    """The action's photos, checked (this platform's uploads, the owner's — the acting
    ``media.owner_of`` — unused) and attached to the case at this stage; 处置反馈 without the
    photo its category asks for is refused. ``transition`` calls it after its check."""
    if action == "handle" and not photos and after_photo_required(session, case.category_code):
        raise ValidationFailed(problems=[Problem(
            "This category needs a photo of the result with the feedback.", field="photos")])
    if not photos:
        return []
    return media.claim(session, photos, owner=owner, case_id=case.id, stage=action)


def _check_department(session: Session, code: str | None) -> None:
    if not code or session.get(Department, code) is None:
        raise ValidationFailed(problems=[Problem(
            "No department {code} to dispatch to.", params={"code": code or ""},
            field="department_code", value=code)])


def _append(session: Session, case: Case, actor: Actor, action: str, from_status: str | None,
            inp: Inputs, when: dt.datetime, detail: dict[str, Any]) -> CaseEvent:
    seq = (session.scalar(select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == case.id))
           or 0) + 1
    event = CaseEvent(case_id=case.id, seq=seq, at=when, actor=actor.username[:80],
                      actor_user_id=actor.user_id, action=action, from_status=from_status,
                      to_status=case.status, note=inp.note, photos=inp.photos, detail=detail)
    session.add(event)
    return event


def report_event(case_id: int, actor: Actor, at: dt.datetime, note: str = "",
                 photos: Sequence[str] = (), source: str = "") -> dict[str, Any]:
    """The first event of every case (``None → reported``), as a row for bulk inserts."""
    return {"case_id": case_id, "seq": 1, "at": at, "actor": actor.username[:80],
            "actor_user_id": actor.user_id, "action": "report", "from_status": None,
            "to_status": "reported", "note": note, "photos": list(photos),
            "detail": {"source": source} if source else {}}


# --- the SLA clock --------------------------------------------------------------------------

def base_limit(session: Session, category_code: str, default_hours: float) -> float:
    """The handling limit of a category (or its 大类's), else ``default_hours``."""
    cat = session.get(CaseCategory, category_code)
    while cat is not None:
        if cat.time_limit_hours:
            return float(cat.time_limit_hours)
        cat = session.get(CaseCategory, cat.parent_code) if cat.parent_code else None
    return default_hours


@dataclass(frozen=True)
class Clock:
    """Working hours used against the limit, computed from a case's events."""

    elapsed_hours: float
    limit_hours: float | None
    running_since: dt.datetime | None
    due_at: dt.datetime | None
    last_stretch: tuple[dt.datetime, float] | None = None  # (start, hours used before it)

    @property
    def on_time(self) -> bool:
        return self.limit_hours is not None and self.elapsed_hours <= self.limit_hours + 1e-6


def clock(events: Sequence[Any], base_limit_hours: float | None, calendar: WorkCalendar,
          now: dt.datetime | None = None) -> Clock:
    """Replay events (objects or dicts with at, to_status, action, detail) into a Clock."""
    elapsed = 0.0
    limit = base_limit_hours
    since: dt.datetime | None = None
    last: tuple[dt.datetime, float] | None = None
    for e in events:
        at, to, action, detail = _fields(e)
        if action == "dispatch" and limit is None:
            limit = detail.get("limit_hours")
        if action == "approve_extension" and limit is not None:
            limit += float(detail.get("hours") or 0)
        if since is not None and to not in RUNNING:
            elapsed += calendar.working_hours_between(since, at)
            since = None
        elif since is None and to in RUNNING:
            since = at
            last = (at, elapsed)
    due = None
    if since is not None and limit is not None:
        due = calendar.add_working_hours(since, max(limit - elapsed, 0.0))
        if now is not None:
            elapsed += calendar.working_hours_between(since, now)
    return Clock(elapsed, limit, since, due, last)


def _fields(e: Any) -> tuple[dt.datetime, str, str, dict[str, Any]]:
    if isinstance(e, dict):
        return e["at"], e["to_status"], e["action"], e.get("detail") or {}
    return e.at, e.to_status, e.action, e.detail or {}


def refresh_clock(session: Session, case: Case, calendar: WorkCalendar,
                  warn_fraction: float) -> Clock:
    """Recompute the case's deadline projection (due_at, warn_at) from its events; the warning
    falls when ``warn_fraction`` of the limit remains."""
    events = list(session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)))
    c = clock(events, case.limit_hours, calendar)
    if c.due_at is not None and c.limit_hours:
        case.due_at = c.due_at
        case.warn_at = calendar.add_working_hours(
            c.running_since or c.due_at,
            max(c.limit_hours * (1 - warn_fraction) - c.elapsed_hours, 0.0))
    return c
