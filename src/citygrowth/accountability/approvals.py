"""Approvals (项目核准/备案/立项): steps, working days to approval, statistics, overdue alerts."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.common import (
    APPROVAL_KIND_NAMES,
    check_refs,
    get_or_404,
    label,
    raise_if,
)
from citygrowth.accountability.models import ApprovalItem, ApprovalStep, Project
from citygrowth.accountability.schemas import ApprovalIn
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import require, scope_prefixes
from citygrowth.errors import Conflict, Problem
from citygrowth.i18n import N_, bilingual
from citygrowth.workdays import local_date, working_days_between


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


def approve(session: Session, actor: Actor, item_id: int, at: dt.datetime) -> ApprovalItem:
    item = get_or_404(session, ApprovalItem, item_id, N_("Approval item"))
    require(actor, "approval.record", item)
    raise_if(_aware("approved_at", at))
    if item.status != "pending":
        raise Conflict("This approval item is already decided.")
    if at < item.submitted_at:
        raise_if([Problem(N_("Approval cannot come before submission."), field="approved_at",
                          value=at.isoformat())])
    item.approved_at = at
    item.status = "approved"
    session.flush()
    record(session, actor, "approval.approve", f"approval:{item.code}")
    return item


def working_days(item: ApprovalItem, tz: str) -> int | None:
    """Working days from submission to approval (None while pending)."""
    if item.approved_at is None:
        return None
    return working_days_between(local_date(item.submitted_at, tz), local_date(item.approved_at, tz))


def visible_approvals(session: Session, actor: Actor) -> list[ApprovalItem]:
    require(actor, "accountability.view", None)
    items = list(session.scalars(select(ApprovalItem).order_by(ApprovalItem.submitted_at)))
    prefixes = scope_prefixes(actor, "accountability.view")
    if prefixes is not None:
        items = [i for i in items if any(i.area_code.startswith(p) for p in prefixes)]
    return items


def approval_row(item: ApprovalItem, tz: str) -> dict[str, Any]:
    return {
        "id": item.id, "code": item.code, "name": bilingual(item.name_zh, item.name_en),
        "kind": item.kind, "kind_name": label(APPROVAL_KIND_NAMES, item.kind),
        "department_code": item.department_code, "area_code": item.area_code,
        "submitted_on": local_date(item.submitted_at, tz).isoformat(),
        "approved_on": local_date(item.approved_at, tz).isoformat() if item.approved_at else None,
        "working_days": working_days(item, tz), "limit_days": item.limit_days,
        "status": item.status, "steps": len(item.steps),
    }


def _summary(days: list[int]) -> dict[str, Any]:
    return {"count": len(days),
            "mean_days": round(statistics.fmean(days), 2) if days else None,
            "median_days": statistics.median(days) if days else None}


def approval_stats(session: Session, actor: Actor, today: dt.date,
                   tz: str) -> dict[str, Any]:
    """Working days to approval per month and per year, this year's count, overdue items."""
    by_month: dict[str, list[int]] = defaultdict(list)
    by_year: dict[int, list[int]] = defaultdict(list)
    items = visible_approvals(session, actor)
    for item in items:
        days = working_days(item, tz)
        if days is None or item.approved_at is None:
            continue
        on = local_date(item.approved_at, tz)
        by_month[f"{on.year:04d}-{on.month:02d}"].append(days)
        by_year[on.year].append(days)
    return {
        "by_month": [{"period": k, **_summary(v)} for k, v in sorted(by_month.items())],
        "by_year": [{"year": k, **_summary(v)} for k, v in sorted(by_year.items())],
        "this_year": {"year": today.year, **_summary(by_year.get(today.year, []))},
        "pending": sum(1 for i in items if i.status == "pending"),
        "overdue": overdue_items(items, today, tz),
    }


def overdue_items(items: list[ApprovalItem], today: dt.date,
                  tz: str) -> list[dict[str, Any]]:
    """Pending items whose working days since submission exceed their time limit."""
    out = []
    for item in items:
        if item.status != "pending":
            continue
        elapsed = working_days_between(local_date(item.submitted_at, tz), today)
        if elapsed > item.limit_days:
            row = approval_row(item, tz)
            row["elapsed_days"] = elapsed
            out.append(row)
    return out
