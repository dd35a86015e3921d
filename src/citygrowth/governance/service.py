"""Case queries and actions for routes, CLI and jobs: scoped lists, one case, queues, acting
through the lifecycle, tracking by token, escalation of overdue cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from citygrowth.areas.codes import within, within_any
from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor, Grant
from citygrowth.auth.models import Department, User
from citygrowth.auth.permissions import can, departments_for, require, scope_prefixes
from citygrowth.db import utcnow
from citygrowth.errors import NotFound, ValidationFailed
from citygrowth.governance import media
from citygrowth.governance.counts import PENDING, SUPERVISED, bucket_counts
from citygrowth.governance.lifecycle import (
    OPEN,
    PUBLIC_ACTIONS,
    RUNNING,
    STATUSES,
    TABLE,
    actions_for,
    case_resource,
    transition,
)
from citygrowth.governance.models import Case, CaseCategory, CaseEvent, CaseMedia, open_term
from citygrowth.governance.sla import WorkCalendar
from citygrowth.i18n import N_, bilingual, translate
from citygrowth.keyset import keyset
from citygrowth.runtime import Runtime

UTC = ZoneInfo("UTC")


@dataclass
class CaseFilter:
    status: list[str] | None = None
    category_code: str | None = None
    area_prefix: str | None = None
    department_code: str | None = None
    queue: str | None = None  # open | overdue | warning | supervised | pending
    ids: list[int] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = 200
    offset: int = 0


def scoped_query(actor: Actor, permission: str = "case.view") -> Select[Case]:
    """Cases ``actor`` may see: within their areas and, for department officers, assigned to
    their departments."""
    q = select(Case)
    prefixes = scope_prefixes(actor, permission)
    if prefixes is not None:
        if not prefixes:
            return q.where(Case.id.is_(None))
        q = q.where(within_any(Case.area_code, prefixes))
    depts = departments_for(actor, permission)
    if depts is not None:
        q = q.where(Case.department_code.in_(sorted(depts)))
    return q


def _filtered(actor: Actor, f: CaseFilter, now: dt.datetime) -> Select[Case]:
    q = scoped_query(actor)
    if f.status:
        q = q.where(Case.status.in_(f.status))
        if set(f.status) <= OPEN:
            q = q.where(open_term(implied=True))
    if f.category_code:
        q = q.where(or_(Case.category_code == f.category_code,
                        Case.category_code.startswith(f.category_code, autoescape=True)))
    if f.area_prefix:
        q = q.where(within(Case.area_code, f.area_prefix))
    if f.department_code:
        q = q.where(Case.department_code == f.department_code)
    if f.ids:
        q = q.where(Case.id.in_(f.ids))
    if f.since:
        q = q.where(Case.reported_at >= f.since)
    if f.until:
        q = q.where(Case.reported_at < f.until)
    # the open queues carry open_term(): it lets them read the partial index of open cases
    if f.queue == "open":
        q = q.where(open_term())
    elif f.queue == "overdue":
        q = q.where(open_term(implied=True), Case.status.in_(RUNNING), Case.due_at < now)
    elif f.queue == "warning":
        q = q.where(open_term(implied=True), Case.status.in_(RUNNING), Case.warn_at <= now,
                    Case.due_at >= now)
    elif f.queue == "supervised":
        q = q.where(open_term(), Case.supervised.is_(True))
    elif f.queue == "pending":
        q = q.where(Case.pending.is_not(None))
    elif f.queue is not None:
        raise ValidationFailed("Unknown queue {queue}.", queue=f.queue)
    return q


def list_cases(session: Session, actor: Actor, f: CaseFilter | None = None,
               now: dt.datetime | None = None) -> tuple[list[Case], int]:
    """A page of the cases ``actor`` may see, newest first, and how many match in all."""
    require(actor, "case.view", None)
    f = f or CaseFilter()
    q = _filtered(actor, f, now or utcnow())
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(Case.reported_at.desc(), Case.id.desc())
                           .limit(max(1, min(f.limit, 1000))).offset(max(f.offset, 0)))
    return list(rows), int(total)


CASE_ORDER = (Case.reported_at, Case.id)  # newest first: both descending


def case_key(case: Case) -> tuple[dt.datetime, int]:
    return case.reported_at, case.id


def page_cases(session: Session, actor: Actor, f: CaseFilter,
               after: tuple[dt.datetime, int] | None, limit: int,
               now: dt.datetime | None = None) -> list[Case]:
    """``limit`` cases ``actor`` may see after the one whose key (:func:`case_key`) is
    ``after``, newest first (keyset pagination; no count)."""
    require(actor, "case.view", None)
    q = _filtered(actor, f, now or utcnow())
    if (cond := keyset([(c, True) for c in CASE_ORDER], after)) is not None:
        q = q.where(cond)
    return list(session.scalars(q.order_by(*(c.desc() for c in CASE_ORDER)).limit(limit)))


def count_cases(session: Session, actor: Actor, f: CaseFilter,
                now: dt.datetime | None = None) -> int:
    """How many cases ``actor`` may see match ``f``."""
    require(actor, "case.view", None)
    q = _filtered(actor, f, now or utcnow())
    return int(session.scalar(select(func.count()).select_from(q.subquery())) or 0)


def iter_case_batches(session: Session, actor: Actor, f: CaseFilter, batch: int = 1000,
                      now: dt.datetime | None = None) -> Iterator[list[Case]]:
    """Every case ``actor`` may see, newest first, in lists of ``batch`` (exports: the
    session lets each batch go before the next is read)."""
    after: tuple[dt.datetime, int] | None = None
    now = now or utcnow()
    while rows := page_cases(session, actor, f, after, batch, now):
        yield rows
        after = case_key(rows[-1])
        session.expunge_all()


def queue_counts(session: Session, actor: Actor, area_prefix: str | None = None,
                 now: dt.datetime | None = None) -> dict[str, int]:
    """Counts per status and per queue (overdue, warning, supervised, pending): the statuses
    and flag queues from the kept counts (:mod:`governance.counts`), the two that move with
    the clock counted from the queue index."""
    require(actor, "case.view", None)
    now = now or utcnow()
    prefixes = scope_prefixes(actor, "case.view")
    kept = bucket_counts(session, prefixes, departments_for(actor, "case.view"), area_prefix) \
        if prefixes is None or prefixes else {}
    out = {s: kept.get(s, 0) for s in STATUSES}
    out["supervised"] = kept.get(SUPERVISED, 0)
    out["pending"] = kept.get(PENDING, 0)
    # overdue and due soon in one pass over the running cases of the open-case index
    q = _filtered(actor, CaseFilter(area_prefix=area_prefix), now).where(
        open_term(implied=True), Case.status.in_(RUNNING))
    overdue, warning = session.execute(q.with_only_columns(
        func.count(when((Case.due_at < now, 1))),
        func.count(when((and_(Case.warn_at <= now, Case.due_at >= now), 1))))).one()
    out["overdue"], out["warning"] = int(overdue or 0), int(warning or 0)
    return out


def get_case(session: Session, actor: Actor, case_id: int) -> Case:
    """One case; a case outside the actor's scope is as good as absent (404)."""
    case = session.get(Case, case_id)
    if case is None or not can(actor, "case.view", case_resource(case)):
        raise NotFound("No case {id}.", id=case_id)
    return case


def events_of(session: Session, case: Case) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                .order_by(CaseEvent.seq)))


def act(session: Session, actor: Actor, case_id: int, action: str, *, runtime: Runtime,
        **inputs: Any) -> Case:
    """Apply a lifecycle action to a case the actor can see."""
    case = get_case(session, actor, case_id)
    transition(session, actor, case, action, runtime=runtime, **inputs)
    return case


# --- residents' tracking ---------------------------------------------------------------------

def by_token(session: Session, token: str) -> Case:
    case = session.scalar(select(Case).where(Case.token == token)) if 8 <= len(token) <= 32 \
        else None
    if case is None:
        raise NotFound("No report with this tracking code.")
    return case


def tracking_actor(case: Case) -> Actor:
    """The holder of a tracking code acts as the resident who reported this case."""
    return Actor(user_id=None, username=f"resident:{case.token[:6]}",
                 grants=(Grant("resident", case.area_code),))


# --- photos --------------------------------------------------------------------------------

def photo_readable(session: Session, actor: Actor, row: CaseMedia) -> bool:
    """Who may see a stored photo: its uploader while unused; once on a case, whoever may see
    the case — and its reporter (logged in) the photos of the steps they are shown."""
    if row.case_id is None:
        return not actor.is_anonymous and row.owner == media.owner_of(actor)
    case = session.get(Case, row.case_id)
    if case is None:
        return False
    if can(actor, "case.view", case_resource(case)):
        return True
    return (actor.user_id is not None and case.reporter_user_id == actor.user_id
            and row.stage in PUBLIC_ACTIONS)


def tracked_photo(session: Session, case: Case, media_id: str) -> bool:
    """Whether the holder of the case's tracking code may see this photo."""
    row = session.get(CaseMedia, media_id)
    return row is not None and row.case_id == case.id and row.stage in PUBLIC_ACTIONS


# --- escalation ------------------------------------------------------------------------------

def escalate_overdue(session: Session, actor: Actor, runtime: Runtime,
                     now: dt.datetime | None = None) -> int:
    """Escalate running cases past their deadline: level 1 when overdue, one more level for
    each further full time limit overdue (at most 3). Returns how many were escalated."""
    require(actor, "case.escalate", None)
    now = now or runtime.now()
    cal = runtime.calendar
    n = 0
    q = scoped_query(actor, "case.escalate").where(
        open_term(implied=True), Case.status.in_(RUNNING), Case.due_at < now)
    for case in list(session.scalars(q)):
        assert case.due_at is not None
        over = cal.working_hours_between(case.due_at, now)
        level = min(3, 1 + int(over // max(case.limit_hours or 1.0, 1.0)))
        if level > case.escalation_level:
            transition(session, actor, case, "escalate", level=level, at=now, runtime=runtime,
                       note=translate("Overdue: escalated automatically."))
            n += 1
    return n


# --- presentation ----------------------------------------------------------------------------

SOURCE_LABELS: dict[str, str] = {
    "patrol": N_("Grid patrol"), "resident": N_("Resident report"), "open311": N_("Open311"),
    "api": N_("Connected system"), "hotline": N_("Hotline or staff"),
}


def source_label(source: str) -> str:
    return translate(SOURCE_LABELS.get(source, source))


def status_label(status: str | None) -> str:
    """A case state in the reader's language (``reported`` → 已上报)."""
    return translate(STATUSES[status]) if status in STATUSES else ""


def _name(row: Any) -> str | None:
    return bilingual(row.name_zh, row.name_en) if row is not None else None


def case_dict(session: Session, case: Case, now: dt.datetime | None = None,
              actor: Actor | None = None, tz: ZoneInfo = UTC,
              calendar: WorkCalendar | None = None) -> dict[str, Any]:
    """A case for pages, the JSON API and CSV: codes with their names in the reader's
    language, times as ISO 8601 in ``tz`` (the district's zone) with their offset. With
    ``calendar``, also ``calendar_gaps``: the years its deadline reaches whose holidays are
    not known (counted Monday–Friday)."""
    now = now or utcnow()
    cat = session.get(CaseCategory, case.category_code)
    area = session.get(Area, case.area_code)
    street = session.get(Area, case.area_code[:9])
    community = session.get(Area, case.area_code[:12]) if len(case.area_code) > 12 else None
    dept = session.get(Department, case.department_code) if case.department_code else None
    out = {
        "id": case.id, "status": case.status, "status_label": status_label(case.status),
        "category_code": case.category_code, "category": _name(cat) or case.category_code,
        "major_code": cat.parent_code if cat else None,
        "kind": case.kind, "area_code": case.area_code, "street_code": case.area_code[:9],
        "area": _name(area) or case.area_code, "street": _name(street),
        "community": _name(community),
        "department_code": case.department_code, "department": _name(dept),
        "source": case.source, "source_label": source_label(case.source),
        "description": case.description, "address": case.address, "lat": case.lat,
        "lon": case.lon, "photos": case.photos, "reported_at": _iso(case.reported_at, tz),
        "updated_at": _iso(case.updated_at, tz), "due_at": _iso(case.due_at, tz),
        "closed_at": _iso(case.closed_at, tz), "pending": case.pending,
        "supervised": case.supervised, "escalation_level": case.escalation_level,
        "rework_count": case.rework_count, "reopen_count": case.reopen_count,
        "satisfaction": case.satisfaction,
        "overdue": is_overdue(case, now), "warning": is_warning(case, now),
        "illustrative": case.illustrative,
    }
    if calendar is not None:
        out["calendar_gaps"] = calendar.unknown_years(case.reported_at, case.due_at) \
            if case.due_at is not None else []
    if actor is not None:
        out["actions"] = [t.action for t in actions_for(actor, case)]
    return out


def case_dicts(session: Session, cases: Sequence[Case], now: dt.datetime | None = None,
               tz: ZoneInfo = UTC) -> list[dict[str, Any]]:
    """:func:`case_dict` of many cases, their categories, areas (with streets and
    communities) and departments read in three queries (and held while the dicts are made:
    the session keeps only weak references)."""
    areas = {code for c in cases for code in (c.area_code, c.area_code[:9], c.area_code[:12])}
    held = [*session.scalars(select(CaseCategory).where(
        CaseCategory.code.in_({c.category_code for c in cases}))),
        *session.scalars(select(Area).where(Area.code.in_(areas))),
        *session.scalars(select(Department).where(
            Department.code.in_({c.department_code for c in cases if c.department_code})))]
    now = now or utcnow()
    out = [case_dict(session, c, now, tz=tz) for c in cases]
    del held
    return out


def event_dict(e: CaseEvent, tz: ZoneInfo = UTC,
               departments: dict[str, str] | None = None) -> dict[str, Any]:
    """One step of a case's history, its states and department named (``departments``: code
    → name in the reader's language)."""
    t = TABLE.get(e.action)
    dept = (e.detail or {}).get("department_code")
    return {"seq": e.seq, "at": _iso(e.at, tz), "actor": e.actor, "action": e.action,
            "action_label": translate(t.label) if t else translate("Report"),
            "from": e.from_status, "to": e.to_status, "from_label": status_label(e.from_status),
            "to_label": status_label(e.to_status), "note": e.note, "photos": e.photos,
            "department": (departments or {}).get(dept, dept) if dept else None,
            "detail": e.detail}


def department_names(session: Session) -> dict[str, str]:
    """Every department's name in the reader's language, by code."""
    return {d.code: bilingual(d.name_zh, d.name_en) for d in session.scalars(select(Department))}


def actor_names(session: Session, events: list[CaseEvent]) -> dict[int, str]:
    """Who took each step (by ``seq``), as people read it: the user's display name; the
    public, the reporter (tracking code) or the system for steps without a user."""
    ids = {e.actor_user_id for e in events if e.actor_user_id is not None}
    users = {u.id: u.display_name or u.username for u in session.scalars(
        select(User).where(User.id.in_(ids)))} if ids else {}
    out = {}
    for e in events:
        if e.actor_user_id in users:
            out[e.seq] = users[e.actor_user_id]
        elif e.actor == "public":
            out[e.seq] = translate("Resident (not logged in)")
        elif e.actor.startswith("resident:"):
            out[e.seq] = translate("The reporter")
        else:
            out[e.seq] = translate("System")
    return out


def is_overdue(case: Case, now: dt.datetime) -> bool:
    return case.status in RUNNING and case.due_at is not None and case.due_at < now


def is_warning(case: Case, now: dt.datetime) -> bool:
    return (case.status in RUNNING and case.warn_at is not None and case.due_at is not None
            and case.warn_at <= now <= case.due_at)


def _iso(v: dt.datetime | None, tz: ZoneInfo = UTC) -> str | None:
    return v.astimezone(tz).isoformat() if v else None
