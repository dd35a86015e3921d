"""Accountability measures written into the observation store (so the index and screens see them).

=========================  =================================================  ===============
indicator                  value                                              areas, period
=========================  =================================================  ===============
``GOV_APPROVAL_DAYS``      mean working days from submission to approval of   district and
                           the items approved in the month                    street, monthly
``GOV_TARGETS_ON_TRACK``   % of targets running (started) at the month's end  district,
                           whose status on that day is green                  monthly
``ECO_KEY_PROJECT_INVEST`` investment completed in key projects in the        district and
                           month, 亿元                                         street, monthly
``IND_INVEST_LEADS_LANDED`` investment leads that landed in the month         district and
                                                                              street, monthly
=========================  =================================================  ===============

Street values come from records located in a street (area code of 9 digits or more); the
district value covers every record. Months run up to the current one, never beyond.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.approvals import working_days
from citygrowth.accountability.models import ApprovalItem, Lead, Project, Target
from citygrowth.accountability.status import target_status
from citygrowth.auth.actor import Actor, system_actor
from citygrowth.auth.permissions import require
from citygrowth.ingest.service import load_observations
from citygrowth.periods import Period
from citygrowth.runtime import Runtime
from citygrowth.workdays import STATUTORY, HolidayCalendar, local_date

INDICATORS = ("GOV_APPROVAL_DAYS", "GOV_TARGETS_ON_TRACK", "ECO_KEY_PROJECT_INVEST",
              "IND_INVEST_LEADS_LANDED")
SOURCE = "accountability measures"


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _areas(code: str, district: str) -> list[str]:
    return [district, code[:9]] if len(code) >= 9 else [district]


def approval_days_rows(session: Session, district: str, tz: str,
                       calendar: HolidayCalendar = STATUTORY) -> list[dict[str, Any]]:
    sums: dict[tuple[str, str], list[int]] = defaultdict(list)
    for item in session.scalars(select(ApprovalItem).where(ApprovalItem.approved_at.is_not(None))):
        days = working_days(item, tz, calendar)
        if days is None or item.approved_at is None or item.status != "approved":
            continue
        month = _month(local_date(item.approved_at, tz))
        for area in _areas(item.area_code, district):
            sums[(area, month)].append(days)
    return [{"indicator": "GOV_APPROVAL_DAYS", "area_code": a, "period": m,
             "value": round(sum(v) / len(v), 4)} for (a, m), v in sorted(sums.items())]


def targets_on_track_rows(session: Session, district: str,
                          today: dt.date) -> list[dict[str, Any]]:
    targets = list(session.scalars(select(Target)))
    if not targets:
        return []
    first = Period.of(min(t.start_date for t in targets), "M")
    rows = []
    for period in first.range_to(Period.of(today, "M")):
        day = min(period.end, today)
        running = [t for t in targets if t.start_date <= day]
        if not running:
            continue
        green = sum(1 for t in running if target_status(t, day).status == "green")
        rows.append({"indicator": "GOV_TARGETS_ON_TRACK", "area_code": district,
                     "period": str(period), "value": round(100 * green / len(running), 4)})
    return rows


def project_invest_rows(session: Session, district: str,
                        today: dt.date) -> list[dict[str, Any]]:
    sums: dict[tuple[str, str], int] = defaultdict(int)
    current = _month(today)
    for p in session.scalars(select(Project)):
        for inv in p.investments:
            if inv.period > current:
                continue
            for area in _areas(p.area_code, district):
                sums[(area, inv.period)] += inv.completed_wan
    return [{"indicator": "ECO_KEY_PROJECT_INVEST", "area_code": a, "period": m,
             "value": v / 10_000} for (a, m), v in sorted(sums.items())]


def leads_landed_rows(session: Session, district: str, today: dt.date) -> list[dict[str, Any]]:
    leads = list(session.scalars(select(Lead)))
    if not leads:
        return []
    counts: dict[tuple[str, str], int] = defaultdict(int)
    first = Period.of(min(x.created_at.date() for x in leads), "M")
    for period in first.range_to(Period.of(today, "M")):
        counts[(district, str(period))] = 0
    for x in leads:
        if x.landed_on is None or x.landed_on > today:
            continue
        for area in _areas(x.area_code, district):
            counts[(area, _month(x.landed_on))] += 1
    return [{"indicator": "IND_INVEST_LEADS_LANDED", "area_code": a, "period": m,
             "value": float(v)} for (a, m), v in sorted(counts.items())]


def build_measures(session: Session, district: str, today: dt.date, tz: str,
                   calendar: HolidayCalendar = STATUTORY) -> pd.DataFrame:
    """Every accountability measure as a frame ``indicator, area_code, period, value``
    (working days on ``calendar``: ``runtime.calendar.days``)."""
    rows = (approval_days_rows(session, district, tz, calendar)
            + targets_on_track_rows(session, district, today)
            + project_invest_rows(session, district, today)
            + leads_landed_rows(session, district, today))
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])


def _illustrative(session: Session) -> bool:
    """True when any record behind the measures was generated for the demo."""
    return any(session.scalar(select(m.id).where(m.illustrative.is_(True)).limit(1)) is not None
               for m in (Target, Project, ApprovalItem, Lead))


def publish_measures(session: Session, runtime: Runtime, actor: Actor,
                     today: dt.date) -> dict[str, int]:
    """Compute the measures and load them into the observation store; rows per indicator."""
    require(actor, "accountability.publish", None)
    frame = build_measures(session, runtime.settings.district_code, today,
                           runtime.settings.timezone, runtime.calendar.days)
    if not frame.empty:
        # computed from records the actor may not load by hand: the system loads them
        load_observations(session, runtime, system_actor(f"accountability:{actor.username}"),
                          frame, dataset=None, source=SOURCE,
                          illustrative=_illustrative(session))
    counts = frame.groupby("indicator").size().to_dict() if not frame.empty else {}
    return {k: int(counts.get(k, 0)) for k in INDICATORS}
