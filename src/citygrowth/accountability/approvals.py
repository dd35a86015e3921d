"""Approvals (项目核准/备案/立项): steps, working days to approval, statistics, overdue alerts."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.changes import note
from citygrowth.accountability.common import (
    APPROVAL_KIND_NAMES,
    APPROVAL_STATUS_NAMES,
    check_refs,
    department_names,
    get_or_404,
    label,
    raise_if,
)
from citygrowth.accountability.models import ApprovalItem, ApprovalStep, Project
from citygrowth.accountability.schemas import AcceptIn, ApprovalIn, CompleteIn, StepIn
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.errors import Conflict, Problem
from citygrowth.i18n import N_, bilingual
from citygrowth.workdays import STATUTORY, HolidayCalendar, local_date


def _aware(name: str, value: dt.datetime | None) -> list[Problem]:
    if value is not None and value.tzinfo is None:
        return [Problem(N_("The time must carry a time zone (e.g. +08:00)."), field=name,
                        value=value.isoformat())]
    return []


def validate_approval(session: Session, data: ApprovalIn) -> list[Problem]:
    depts = [data.department_code, *(s.department_code for s in data.steps)]
    problems = check_refs(session, list(dict.fromkeys(depts)), [data.area_code])
    problems += _aware("submitted_at", data.submitted_at) + _aware("approved_at", data.approved_at)
    for s in data.steps:
        problems += _aware("steps.started_at", s.started_at)
        problems += _aware("steps.finished_at", s.finished_at)
    if not problems and data.approved_at and data.approved_at < data.submitted_at:
        problems.append(Problem(N_("Approval cannot come before submission."),
                                field="approved_at", value=data.approved_at.isoformat()))
    if data.project_code and session.scalar(
            select(Project.id).where(Project.code == data.project_code)) is None:
        problems.append(Problem(N_("Unknown key project '{code}'."), {"code": data.project_code},
                                field="project_code", value=data.project_code))
    return problems


def record_approval(session: Session, actor: Actor, data: ApprovalIn) -> ApprovalItem:
    """Record an approval item with its steps (pending until ``approved_at`` is given)."""
    require(actor, "approval.record", {"area_code": data.area_code,
                                       "department_code": data.department_code})
    raise_if(validate_approval(session, data))
    if session.scalar(select(ApprovalItem.id).where(ApprovalItem.code == data.code)):
        raise Conflict("An approval item with code {code} already exists.", code=data.code)
    project_id = (session.scalar(select(Project.id).where(Project.code == data.project_code))
                  if data.project_code else None)
    item = ApprovalItem(
        code=data.code, name_zh=data.name_zh, name_en=data.name_en, kind=data.kind,
        project_id=project_id, department_code=data.department_code, area_code=data.area_code,
        submitted_at=data.submitted_at, approved_at=data.approved_at,
        limit_days=data.limit_days, status="approved" if data.approved_at else "pending",
        steps=[ApprovalStep(seq=i + 1, **s.model_dump()) for i, s in enumerate(data.steps)])
    session.add(item)
    session.flush()
    record(session, actor, "approval.record", f"approval:{item.code}")
    return item


def working_days(item: ApprovalItem, tz: str, calendar: HolidayCalendar = STATUTORY) -> int | None:
    """Working days from submission to approval (None while pending), on ``calendar`` (the
    installation's holiday calendar: ``runtime.calendar.days``)."""
    if item.approved_at is None:
        return None
    return calendar.working_days_between(local_date(item.submitted_at, tz),
                                     local_date(item.approved_at, tz))


def calendar_gaps(item: ApprovalItem, tz: str | ZoneInfo, calendar: HolidayCalendar,
                  today: dt.date | None = None) -> list[int]:
    """Years from submission to approval (or ``today``) whose holidays are not known: the
    working days there were counted Monday–Friday."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    start = item.submitted_at.astimezone(zone).date()
    end = item.approved_at.astimezone(zone).date() if item.approved_at else (today or start)
    return calendar.unknown_years(start, end)


def visible_approvals(session: Session, actor: Actor, status: str | None = None,
                      decided_since: dt.datetime | None = None) -> list[ApprovalItem]:
    """Items in the reader's area scope, oldest first; optionally only those with ``status``
    or decided (办结) at or after ``decided_since``."""
    require(actor, "accountability.view", None)
    stmt = select(ApprovalItem).order_by(ApprovalItem.submitted_at)
    if status is not None:
        stmt = stmt.where(ApprovalItem.status == status)
    if decided_since is not None:
        stmt = stmt.where(ApprovalItem.approved_at >= decided_since)
    items = list(session.scalars(stmt))
    prefixes = scope_prefixes(actor, "accountability.view")
    if prefixes is not None:
        items = [i for i in items if any(i.area_code.startswith(p) for p in prefixes)]
    return items


def approval_row(item: ApprovalItem, tz: str,
                 calendar: HolidayCalendar = STATUTORY) -> dict[str, Any]:
    return {
        "id": item.id, "code": item.code, "name": bilingual(item.name_zh, item.name_en),
        "kind": item.kind, "kind_name": label(APPROVAL_KIND_NAMES, item.kind),
        "department_code": item.department_code, "area_code": item.area_code,
        "submitted_on": local_date(item.submitted_at, tz).isoformat(),
        "approved_on": local_date(item.approved_at, tz).isoformat() if item.approved_at else None,
        "working_days": working_days(item, tz, calendar), "limit_days": item.limit_days,
        "status": item.status, "steps": len(item.steps),
    }


def _summary(days: list[int]) -> dict[str, Any]:
    return {"count": len(days),
            "mean_days": round(statistics.fmean(days), 2) if days else None,
            "median_days": statistics.median(days) if days else None}


def approval_stats(session: Session, actor: Actor, today: dt.date,
                   tz: str, calendar: HolidayCalendar = STATUTORY) -> dict[str, Any]:
    """Working days to approval per month and per year, this year's count, overdue items."""
    by_month: dict[str, list[int]] = defaultdict(list)
    by_year: dict[int, list[int]] = defaultdict(list)
    items = visible_approvals(session, actor)
    gaps: set[int] = set()
    for item in items:
        gaps.update(calendar_gaps(item, tz, calendar, today))
        n = working_days(item, tz, calendar)
        if n is None or item.approved_at is None or item.status != "approved":
            continue
        on = local_date(item.approved_at, tz)
        by_month[f"{on.year:04d}-{on.month:02d}"].append(n)
        by_year[on.year].append(n)
    return {
        "by_month": [{"period": k, **_summary(v)} for k, v in sorted(by_month.items())],
        "by_year": [{"year": k, **_summary(v)} for k, v in sorted(by_year.items())],
        "this_year": {"year": today.year, **_summary(by_year.get(today.year, []))},
        "pending": sum(1 for i in items if i.status == "pending"),
        "overdue": overdue_items(items, today, tz, calendar),
        # years whose holidays are not known, reached by an approval time shown here
        "calendar_gaps": sorted(gaps),
    }


def overdue_items(items: list[ApprovalItem], today: dt.date,
                  tz: str, calendar: HolidayCalendar = STATUTORY) -> list[dict[str, Any]]:
    """Pending items whose working days since submission exceed their time limit."""
    out = []
    for item in items:
        if item.status != "pending":
            continue
        elapsed = calendar.working_days_between(local_date(item.submitted_at, tz), today)
        if elapsed > item.limit_days:
            row = approval_row(item, tz, calendar)
            row["elapsed_days"] = elapsed
            row["calendar_gaps"] = calendar_gaps(item, tz, calendar, today)
            out.append(row)
    return out


# --- the desk: 受理 (acceptance) and 办结 (completion) entered through the pages -------------

ACCEPT_STEP = ("受理", "Acceptance")
COMPLETE_STEP = ("办结", "Completion")


def _item_name(item: ApprovalItem) -> tuple[str, str]:
    return item.name_zh, item.name_en


def _local_moment(value: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """A time typed on a page (no zone) is the district's local time."""
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def accept_approval(session: Session, actor: Actor, data: AcceptIn, tz: ZoneInfo,
                    now: dt.datetime) -> ApprovalItem:
    """受理: record an accepted application; its working days count from the acceptance."""
    require(actor, "approval.record", {"area_code": data.area_code,
                                       "department_code": data.department_code})
    accepted = _local_moment(data.accepted_at, tz)
    problems = check_refs(session, [data.department_code], [data.area_code])
    if accepted > now:
        problems.append(Problem(N_("The time {time} lies in the future."),
                                {"time": accepted.astimezone(tz).strftime("%Y-%m-%d %H:%M")},
                                field="accepted_at"))
    project_id = None
    if data.project_code:
        project_id = session.scalar(select(Project.id).where(Project.code == data.project_code))
        if project_id is None:
            problems.append(Problem(N_("Unknown key project '{code}'."),
                                    {"code": data.project_code}, field="project_code",
                                    value=data.project_code))
    if session.scalar(select(ApprovalItem.id).where(ApprovalItem.code == data.code)):
        problems.append(Problem(N_("An approval item with code {code} already exists."),
                                {"code": data.code}, field="code", value=data.code))
    raise_if(problems)
    item = ApprovalItem(
        code=data.code, name_zh=data.name_zh, name_en=data.name_en, kind=data.kind,
        project_id=project_id, department_code=data.department_code, area_code=data.area_code,
        submitted_at=accepted, limit_days=data.limit_days, status="pending", note=data.note,
        recorded_by=actor.username,
        steps=[ApprovalStep(seq=1, name_zh=ACCEPT_STEP[0], name_en=ACCEPT_STEP[1],
                            department_code=data.department_code, started_at=accepted,
                            finished_at=accepted)])
    session.add(item)
    session.flush()
    record(session, actor, "approval.accept", f"approval:{item.code}")
    note(session, actor, "approval.accepted", "approval", item, item.department_code,
         _item_name(item), limit=item.limit_days)
    return item


def _pending(session: Session, actor: Actor, item_id: int) -> ApprovalItem:
    item = get_or_404(session, ApprovalItem, item_id, N_("Approval item"))
    require(actor, "approval.record", item)
    if item.status != "pending":
        raise Conflict("This approval item is already decided.")
    return item


def add_step(session: Session, actor: Actor, item_id: int, data: StepIn, tz: ZoneInfo,
             now: dt.datetime) -> ApprovalStep:
    """A step of the handling (joint review, site visit …) with its department and times."""
    item = _pending(session, actor, item_id)
    started = _local_moment(data.started_at, tz)
    finished = _local_moment(data.finished_at, tz) if data.finished_at else None
    problems = check_refs(session, [data.department_code], [])
    if started < item.submitted_at:
        problems.append(Problem(N_("A step cannot start before the acceptance."),
                                field="started_at"))
    if finished is not None and finished < started:
        problems.append(Problem(N_("A step cannot end before it starts."), field="finished_at"))
    if max(started, finished or started) > now:
        problems.append(Problem(N_("The time {time} lies in the future."),
                                {"time": max(started, finished or started).astimezone(tz)
                                 .strftime("%Y-%m-%d %H:%M")}, field="started_at"))
    raise_if(problems)
    step = ApprovalStep(seq=len(item.steps) + 1, name_zh=data.name_zh, name_en=data.name_en,
                        department_code=data.department_code, started_at=started,
                        finished_at=finished)
    item.steps.append(step)
    session.flush()
    record(session, actor, "approval.step", f"approval:{item.code}", {"step": data.name_zh})
    note(session, actor, "approval.step", "approval", item, item.department_code,
         _item_name(item), step=data.name_zh)
    return step


def complete_approval(session: Session, actor: Actor, item_id: int, data: CompleteIn,
                      tz: ZoneInfo, now: dt.datetime,
                      calendar: HolidayCalendar = STATUTORY) -> ApprovalItem:
    """办结: the item is approved or not; the working days from 受理 are fixed."""
    item = _pending(session, actor, item_id)
    done = _local_moment(data.completed_at, tz)
    if done < item.submitted_at:
        raise_if([Problem(N_("Approval cannot come before submission."), field="completed_at")])
    if done > now:
        raise_if([Problem(N_("The time {time} lies in the future."),
                          {"time": done.astimezone(tz).strftime("%Y-%m-%d %H:%M")},
                          field="completed_at")])
    item.approved_at = done
    item.status = data.outcome
    item.note = data.note or item.note
    item.steps.append(ApprovalStep(seq=len(item.steps) + 1, name_zh=COMPLETE_STEP[0],
                                   name_en=COMPLETE_STEP[1], department_code=item.department_code,
                                   started_at=done, finished_at=done))
    session.flush()
    days = calendar.working_days_between(item.submitted_at.astimezone(tz).date(),
                                         done.astimezone(tz).date())
    record(session, actor, "approval.complete", f"approval:{item.code}",
           {"outcome": data.outcome, "working_days": days})
    note(session, actor, "approval.completed", "approval", item, item.department_code,
         _item_name(item), outcome=data.outcome, days=days)
    return item


def approval_detail(session: Session, actor: Actor, item_id: int, today: dt.date,
                    tz: ZoneInfo, calendar: HolidayCalendar = STATUTORY) -> dict[str, Any]:
    """One approval item with its steps and working days (so far, while pending)."""
    require(actor, "accountability.view", None)
    item = get_or_404(session, ApprovalItem, item_id, N_("Approval item"))
    require(actor, "accountability.view", {"area_code": item.area_code})
    names = department_names(session)
    start = item.submitted_at.astimezone(tz).date()
    end = item.approved_at.astimezone(tz).date() if item.approved_at else today
    days = calendar.working_days_between(start, end)
    project = session.get(Project, item.project_id) if item.project_id else None
    return {
        "id": item.id, "code": item.code, "name": bilingual(item.name_zh, item.name_en),
        "kind": item.kind, "kind_name": label(APPROVAL_KIND_NAMES, item.kind),
        "department_code": item.department_code,
        "department": names.get(item.department_code, item.department_code),
        "area_code": item.area_code, "status": item.status,
        "status_name": label(APPROVAL_STATUS_NAMES, item.status),
        "accepted_at": item.submitted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "completed_at": item.approved_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        if item.approved_at else None,
        "working_days": days, "limit_days": item.limit_days,
        "overdue": days > item.limit_days, "note": item.note,
        "calendar_gaps": calendar.unknown_years(start, end),
        "project": {"id": project.id, "name": bilingual(project.name_zh, project.name_en)}
        if project else None,
        "steps": [{"seq": s.seq, "name": bilingual(s.name_zh, s.name_en),
                   "department": names.get(s.department_code, s.department_code),
                   "started_at": s.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                   "finished_at": s.finished_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                   if s.finished_at else None} for s in item.steps],
        "can_record": item.status == "pending" and can(actor, "approval.record", item),
    }


def pending_items(session: Session, actor: Actor, today: dt.date,
                  tz: ZoneInfo, calendar: HolidayCalendar = STATUTORY) -> list[dict[str, Any]]:
    """Items being handled, oldest first, with working days so far against their limit."""
    names = department_names(session)
    out = []
    for item in visible_approvals(session, actor, status="pending"):
        start = item.submitted_at.astimezone(tz).date()
        days = calendar.working_days_between(start, today)
        out.append({"id": item.id, "code": item.code,
                    "name": bilingual(item.name_zh, item.name_en),
                    "kind_name": label(APPROVAL_KIND_NAMES, item.kind),
                    "department": names.get(item.department_code, item.department_code),
                    "accepted_at": item.submitted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                    "working_days": days, "limit_days": item.limit_days,
                    "overdue": days > item.limit_days,
                    "calendar_gaps": calendar.unknown_years(start, today),
                    "can_record": can(actor, "approval.record", item)})
    return out


def recent_items(session: Session, actor: Actor, tz: ZoneInfo, limit: int = 10,
                 calendar: HolidayCalendar = STATUTORY) -> list[dict[str, Any]]:
    """The items decided last, newest first."""
    names = department_names(session)
    recent = session.scalars(select(ApprovalItem.approved_at).where(
        ApprovalItem.approved_at.is_not(None)).order_by(ApprovalItem.approved_at.desc())
        .limit(limit * 10)).all()
    since = recent[-1] if recent else None
    done = [i for i in visible_approvals(session, actor, decided_since=since)
            if i.approved_at is not None]
    done.sort(key=lambda i: i.approved_at or i.submitted_at, reverse=True)
    return [{"id": i.id, "code": i.code, "name": bilingual(i.name_zh, i.name_en),
             "department": names.get(i.department_code, i.department_code),
             "status_name": label(APPROVAL_STATUS_NAMES, i.status),
             "completed_at": i.approved_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
             if i.approved_at else "",
             "working_days": calendar.working_days_between(
                 i.submitted_at.astimezone(tz).date(), i.approved_at.astimezone(tz).date())
             if i.approved_at else None} for i in done[:limit]]


def next_code(session: Session, year: int) -> str:
    """A free item code for the year: AP-<year>-<n>, one above the highest used."""
    prefix = f"AP-{year}-"
    codes = session.scalars(select(ApprovalItem.code).where(ApprovalItem.code.like(prefix + "%")))
    numbers = [int(c[len(prefix):]) for c in codes if c[len(prefix):].isdigit()]
    return f"{prefix}{(max(numbers) if numbers else 0) + 1:04d}"
