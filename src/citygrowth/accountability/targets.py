"""Targets and responsibilities: create, report progress, milestones, reminders, overviews.

A department officer may report progress only on targets their department owns or co-owns;
``require()`` knows one ``department_code`` per resource, so co-owners are checked here by
:func:`require_owner`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.changes import note
from citygrowth.accountability.common import check_refs, department_names, get_or_404, raise_if
from citygrowth.accountability.models import Milestone, ProgressReport, Target, TargetCoOwner
from citygrowth.accountability.schemas import ProgressIn, TargetIn
from citygrowth.accountability.status import (
    KIND_NAMES,
    TargetStatus,
    plan_points,
    sign_of,
    target_status,
)
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.db import utcnow
from citygrowth.errors import CityGrowthError, Conflict, Problem, ValidationFailed
from citygrowth.events import EventBus, publish_on_commit
from citygrowth.i18n import N_, _, bilingual

REMINDER_DAYS = 14


def require_owner(actor: Actor, permission: str, target: Target) -> None:
    """Pass when ``actor`` holds ``permission`` for the target's owner or any co-owner."""
    if can(actor, permission, target):
        return
    for code in target.co_owner_codes:
        if can(actor, permission, {"area_code": target.area_code, "department_code": code}):
            return
    require(actor, permission, target)


def validate_target(session: Session, data: TargetIn, file: str | None = None,
                    row: int | None = None) -> list[Problem]:
    problems = check_refs(session, [data.department_code, *data.co_owners], [data.area_code],
                          file, row)
    if data.deadline <= data.start_date:
        problems.append(Problem(N_("The deadline must come after the start date."),
                                file=file, row=row, field="deadline", value=str(data.deadline)))
    if data.kind == "reach" and data.target_value == data.baseline:
        problems.append(Problem(N_("A target to reach must differ from its baseline; to keep a "
                                   "level use a hold target (hold_above or hold_below)."),
                                file=file, row=row, field="target_value",
                                value=data.target_value))
    if data.plan == "milestones" and not data.milestones:
        problems.append(Problem(N_("A milestone plan needs at least one milestone."),
                                file=file, row=row, field="plan", value=data.plan))
    for m in data.milestones:
        if not data.start_date <= m.due_date <= data.deadline:
            problems.append(Problem(N_("Milestone date {date} lies outside the target's period."),
                                    {"date": str(m.due_date)}, file=file, row=row,
                                    field="milestones", value=str(m.due_date)))
    return problems


def apply_target(session: Session, data: TargetIn, target: Target | None = None, *,
                 keep_co_owners: bool = False, keep_milestones: bool = False) -> Target:
    """Create or overwrite a target from validated input (no permission check: callers do).

    An import sheet without milestones (or without a co-owner column) keeps the existing ones.
    """
    fields = data.model_dump(exclude={"co_owners", "milestones"})
    if target is None:
        target = Target(**fields)
        session.add(target)
    else:
        for k, v in fields.items():
            setattr(target, k, v)
        target.updated_at = utcnow()
    if not (keep_co_owners and target.id is not None):
        owners = [c for c in dict.fromkeys(data.co_owners) if c != data.department_code]
        target.co_owners = [TargetCoOwner(department_code=c) for c in owners]
    if not (keep_milestones and target.id is not None and not data.milestones):
        target.milestones = [Milestone(**m.model_dump()) for m in data.milestones]
    session.flush()
    return target


def create_target(session: Session, actor: Actor, data: TargetIn,
                  bus: EventBus | None = None) -> Target:
    require(actor, "target.manage", {"area_code": data.area_code,
                                     "department_code": data.department_code})
    raise_if(validate_target(session, data))
    if session.scalar(select(Target.id).where(Target.code == data.code)):
        raise Conflict("A target with code {code} already exists.", code=data.code)
    target = apply_target(session, data)
    record(session, actor, "target.create", f"target:{target.code}")
    _publish(session, bus, target, "created")
    return target


def mark_milestones(target: Target, report: ProgressReport) -> None:
    sign = sign_of(target)
    for m in target.milestones:
        if m.done_on is None and sign * (report.value - m.planned_value) >= 0:
            m.done_on = report.reported_on


def report_progress(session: Session, actor: Actor, target_id: int, data: ProgressIn,
                    bus: EventBus | None = None) -> ProgressReport:
    """Record the cumulative value reached on a date; owners and co-owners only."""
    target = get_or_404(session, Target, target_id, N_("Accountability target"))
    require_owner(actor, "target.report", target)
    if data.reported_on < target.start_date:
        raise ValidationFailed(problems=[Problem(
            N_("The report date lies before the target's start date {start}."),
            {"start": str(target.start_date)}, field="reported_on", value=str(data.reported_on))])
    dept = _acting_department(actor, target)
    report = ProgressReport(target_id=target.id, reported_on=data.reported_on, value=data.value,
                            note=data.note, department_code=dept, reported_by=actor.username)
    session.add(report)
    target.reports.append(report)
    mark_milestones(target, report)
    target.updated_at = utcnow()
    session.flush()
    record(session, actor, "target.report", f"target:{target.code}",
           {"value": data.value, "on": str(data.reported_on)})
    note(session, actor, "target.progress", "target", target, target.department_code,
         (target.name_zh, target.name_en),
         value=value_text(data.value), unit_zh=target.unit_zh, unit_en=target.unit_en)
    _publish(session, bus, target, "progress")
    return report


def _acting_department(actor: Actor, target: Target) -> str | None:
    owners = [target.department_code, *target.co_owner_codes]
    for code in owners:
        if code in actor.department_codes:
            return code
    return None


def _publish(session: Session, bus: EventBus | None, target: Target, kind: str,
             **extra: Any) -> None:
    if bus is not None:
        publish_on_commit(session, bus, "target.changed", {
            "kind": kind, "target_id": target.id, "code": target.code,
            "area_code": target.area_code, "department_code": target.department_code,
            **extra})


def visible_targets(session: Session, actor: Actor, department: str | None = None) -> list[Target]:
    require(actor, "accountability.view", None)
    stmt = select(Target).order_by(Target.department_code, Target.code)
    targets = list(session.scalars(stmt))
    prefixes = scope_prefixes(actor, "accountability.view")
    if prefixes is not None:
        targets = [t for t in targets if any(t.area_code.startswith(p) for p in prefixes)]
    if department:
        targets = [t for t in targets
                   if t.department_code == department or department in t.co_owner_codes]
    return targets


def value_text(value: float | None) -> str:
    """A value as people write it: whole numbers without decimals, others with at most 2."""
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def percent_text(p: float | None) -> str:
    """A probability as a whole percentage; below 1 % and above 99 % said so, never 0 or 100."""
    if p is None:
        return "–"
    if p < 0.005:
        return "<1%"
    if p > 0.995:
        return ">99%"
    return f"{round(p * 100)}%"


def target_row(target: Target, st: TargetStatus, names: dict[str, str]) -> dict[str, Any]:
    """A target with its status (from :func:`status.target_status`) for pages and JSON."""
    unit = bilingual(target.unit_zh, target.unit_en)
    return {
        "id": target.id, "code": target.code, "name": bilingual(target.name_zh, target.name_en),
        "name_zh": target.name_zh, "name_en": target.name_en, "kind": target.kind,
        "kind_name": _(KIND_NAMES.get(target.kind, target.kind)),
        "department_code": target.department_code,
        "department": names.get(target.department_code, target.department_code),
        "co_owners": target.co_owner_codes,
        "co_owner_names": [names.get(c, c) for c in target.co_owner_codes],
        "area_code": target.area_code, "unit": unit, "baseline": target.baseline,
        "target_value": target.target_value, "baseline_text": value_text(target.baseline),
        "target_text": value_text(target.target_value),
        "latest_text": value_text(st.latest_value),
        "start_date": target.start_date.isoformat(), "deadline": target.deadline.isoformat(),
        "plan": target.plan, "indicator_code": target.indicator_code,
        **st.as_dict(),
        "actual_pct": round(st.actual * 100, 1), "planned_pct": round(st.planned * 100, 1),
        "gap_pct": round(st.gap * 100, 1),
        "forecast_pct": None if st.forecast is None else round(st.forecast * 100, 1),
        "probability_pct": None if st.probability is None else round(st.probability * 100),
        "probability_text": percent_text(st.probability),
        "illustrative": target.illustrative,
    }


def list_targets(session: Session, actor: Actor, today: dt.date, department: str | None = None,
                 status: str | None = None) -> list[dict[str, Any]]:
    """Targets the actor may see, with their status on ``today``."""
    names = department_names(session)
    rows = [target_row(t, target_status(t, today), names)
            for t in visible_targets(session, actor, department)]
    return [r for r in rows if status is None or r["status"] == status]


def department_overview(session: Session, actor: Actor, today: dt.date) -> list[dict[str, Any]]:
    """Per owner department: status counts and the at-risk targets (leadership view)."""
    rows = list_targets(session, actor, today)
    by_dept: dict[str, dict[str, Any]] = {}
    for r in rows:
        d = by_dept.setdefault(r["department_code"], {
            "department_code": r["department_code"], "department": r["department"],
            "green": 0, "amber": 0, "red": 0, "total": 0, "at_risk": []})
        d[r["status"]] += 1
        d["total"] += 1
        if r["status"] != "green":
            d["at_risk"].append({k: r[k] for k in ("id", "code", "name", "status",
                                                    "status_name", "gap_pct")})
    return sorted(by_dept.values(), key=lambda d: (-d["red"], -d["amber"], d["department_code"]))


def status_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    c = Counter(r["status"] for r in rows)
    return {s: c.get(s, 0) for s in ("green", "amber", "red")}


def upcoming_milestones(session: Session, actor: Actor, today: dt.date,
                        within_days: int = REMINDER_DAYS,
                        department: str | None = None) -> list[dict[str, Any]]:
    """Open milestones due within ``within_days`` (or overdue), per owner department."""
    out = []
    horizon = today + dt.timedelta(days=within_days)
    names = department_names(session)
    for t in visible_targets(session, actor, department):
        for m in t.milestones:
            if m.done_on is not None or m.due_date > horizon:
                continue
            out.append({
                "target_id": t.id, "target_code": t.code,
                "target": bilingual(t.name_zh, t.name_en), "milestone_id": m.id,
                "title": bilingual(m.title_zh, m.title_en), "due_date": m.due_date.isoformat(),
                "days_left": (m.due_date - today).days, "overdue": m.due_date < today,
                "planned_value": m.planned_value, "department_code": t.department_code,
                "department": names.get(t.department_code, t.department_code),
                "co_owners": t.co_owner_codes, "area_code": t.area_code,
            })
    return sorted(out, key=lambda r: (r["due_date"], r["target_code"]))


def send_reminders(session: Session, actor: Actor, today: dt.date, bus: EventBus | None,
                   within_days: int = REMINDER_DAYS) -> dict[str, list[dict[str, Any]]]:
    """Upcoming milestones grouped by department (owners and co-owners); one event each."""
    require(actor, "target.manage", None)
    by_dept: dict[str, list[dict[str, Any]]] = {}
    for m in upcoming_milestones(session, actor, today, within_days):
        for code in (m["department_code"], *m["co_owners"]):
            by_dept.setdefault(code, []).append(m)
        if bus is not None:
            publish_on_commit(session, bus, "target.changed", {
                "kind": "milestone.reminder", "target_id": m["target_id"],
                "code": m["target_code"], "milestone_id": m["milestone_id"],
                "area_code": m["area_code"], "department_code": m["department_code"],
                "due_date": m["due_date"], "overdue": m["overdue"],
                "departments": [m["department_code"], *m["co_owners"]]})
    return by_dept


def target_detail(session: Session, actor: Actor, target_id: int,
                  today: dt.date) -> dict[str, Any]:
    """One target with its status, milestones and reports."""
    require(actor, "accountability.view", None)
    t = get_or_404(session, Target, target_id, N_("Accountability target"))
    require(actor, "accountability.view", {"area_code": t.area_code})
    row = target_row(t, target_status(t, today), department_names(session))
    row["description"] = t.description
    row["milestones"] = [{"id": m.id, "title": bilingual(m.title_zh, m.title_en),
                          "due_date": m.due_date.isoformat(), "planned_value": m.planned_value,
                          "planned_text": value_text(m.planned_value),
                          "done_on": m.done_on.isoformat() if m.done_on else None}
                         for m in t.milestones]
    names = department_names(session)
    row["reports"] = [{"id": r.id, "reported_on": r.reported_on.isoformat(), "value": r.value,
                       "value_text": value_text(r.value), "note": r.note,
                       "department_code": r.department_code,
                       "department": names.get(r.department_code or "", ""),
                       "reported_by": r.reported_by} for r in t.reports]
    row["plan_line"] = [[d.isoformat(), v] for d, v in plan_points(t)]
    row["can_report"] = _can_report(actor, t)
    return row


def _can_report(actor: Actor, target: Target) -> bool:
    try:
        require_owner(actor, "target.report", target)
    except CityGrowthError:
        return False
    return True


def indicator_statuses(session: Session, actor: Actor, area_code: str,
                       today: dt.date) -> dict[str, dict[str, Any]]:
    """The status of the targets of ``area_code`` linked to an indicator, by indicator code —
    for figures drawn elsewhere (the big screen's key figures) to carry the same status as the
    target pages. A running target wins over a finished one, then the nearest deadline."""
    if not can(actor, "accountability.view", {"area_code": area_code}):
        return {}
    linked = [t for t in visible_targets(session, actor)
              if t.area_code == area_code and t.indicator_code]
    linked.sort(key=lambda t: (t.deadline < today, abs((t.deadline - today).days)))
    out: dict[str, dict[str, Any]] = {}
    for t in linked:
        code = str(t.indicator_code)
        if code not in out:
            st = target_status(t, today)
            out[code] = {"target_id": t.id, "target_code": t.code,
                         "target": bilingual(t.name_zh, t.name_en), "status": st.status,
                         "status_name": _(st.label),
                         "probability": st.probability}
    return out
