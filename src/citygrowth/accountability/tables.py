"""Flat tables for CSV and Excel exports: targets, projects, approvals, leads.

The target and project tables start with the import columns (so an export can be edited and
imported again) followed by computed columns (status, progress, investment completed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from citygrowth.accountability.approvals import approval_row, visible_approvals
from citygrowth.accountability.excel import PROJECT_COLUMNS, TARGET_COLUMNS
from citygrowth.accountability.investment import list_leads
from citygrowth.accountability.projects import visible_projects
from citygrowth.accountability.status import target_status
from citygrowth.accountability.targets import visible_targets
from citygrowth.auth.actor import Actor
from citygrowth.errors import NotFound

KINDS = ("targets", "projects", "approvals", "leads")


def target_table(session: Session, actor: Actor, today: dt.date) -> tuple[list[str],
                                                                           list[dict[str, Any]]]:
    cols = [*TARGET_COLUMNS, "latest_value", "status", "actual_pct", "planned_pct",
            "forecast_pct", "probability_pct"]
    rows = []
    for t in visible_targets(session, actor):
        st = target_status(t, today)
        rows.append({
            "code": t.code, "name_zh": t.name_zh, "name_en": t.name_en,
            "department": t.department_code, "co_owners": t.co_owner_codes,
            "area_code": t.area_code, "unit_zh": t.unit_zh, "unit_en": t.unit_en,
            "baseline": t.baseline, "target_value": t.target_value,
            "start_date": t.start_date.isoformat(), "deadline": t.deadline.isoformat(),
            "plan": t.plan, "indicator_code": t.indicator_code, "description": t.description,
            "kind": t.kind,
            "latest_value": st.latest_value, "status": st.status,
            "actual_pct": round(st.actual * 100, 1), "planned_pct": round(st.planned * 100, 1),
            "forecast_pct": None if st.forecast is None else round(st.forecast * 100, 1),
            "probability_pct": None if st.probability is None else round(st.probability * 100),
        })
    return cols, rows


def project_table(session: Session, actor: Actor) -> tuple[list[str], list[dict[str, Any]]]:
    cols = [*PROJECT_COLUMNS, "completed_investment_yi", "open_problems", "illustrative"]
    rows = [{
        "code": p.code, "name_zh": p.name_zh, "name_en": p.name_en, "industry": p.industry,
        "stage": p.stage, "department": p.department_code, "area_code": p.area_code,
        "total_investment_yi": p.total_wan / 10_000, "start_year": p.start_year,
        "end_year": p.end_year, "lon": p.lon, "lat": p.lat,
        "completed_investment_yi": p.completed_wan / 10_000,
        "open_problems": sum(1 for x in p.problems if x.status == "open"),
        "illustrative": p.illustrative,
    } for p in visible_projects(session, actor)]
    return cols, rows


def approval_table(session: Session, actor: Actor, tz: str) -> tuple[list[str],
                                                                     list[dict[str, Any]]]:
    cols = ["code", "name", "kind", "department_code", "area_code", "submitted_on",
            "approved_on", "working_days", "limit_days", "status", "steps"]
    return cols, [approval_row(i, tz) for i in visible_approvals(session, actor)]


def lead_table(session: Session, actor: Actor) -> tuple[list[str], list[dict[str, Any]]]:
    cols = ["id", "title", "enterprise", "industry", "stage", "source_department_code",
            "owner_department_code", "area_code", "expected_yi", "closed", "landed_on",
            "events", "updated_at"]
    return cols, list_leads(session, actor)


def table(session: Session, actor: Actor, kind: str, today: dt.date,
          tz: str) -> tuple[list[str], list[dict[str, Any]]]:
    if kind == "targets":
        return target_table(session, actor, today)
    if kind == "projects":
        return project_table(session, actor)
    if kind == "approvals":
        return approval_table(session, actor, tz)
    if kind == "leads":
        return lead_table(session, actor)
    raise NotFound("Unknown table '{kind}'.", kind=kind)
