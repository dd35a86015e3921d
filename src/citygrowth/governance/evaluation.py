"""Evaluation (考评) per department, street, grid and month, and its Governance-capacity
indicators in the observation store.

For a month m (local time) and a group of cases:

* reported — cases reported in m; registered — cases registered (立案) in m;
* closed — cases closed (结案) in m;
* due — dispatched cases whose handling deadline fell in m; closed on time — of those, the
  ones whose handling (working hours from dispatch to handled, postponements excluded, approved
  extensions added) stayed within the limit; 按期结案率 = closed on time / due;
* closure rate — of the cases registered in m, the share closed by now;
* rework rate — of the cases closed in m, the share returned for rework at least once;
* handling hours — mean working hours of handling of the cases closed in m;
* satisfaction — mean rating (1–5) of the cases closed in m that residents rated;
* satisfied rate (满意率) — the share of those ratings that are 4 or 5.

In the observation store the rates are percentages (the catalog's unit), and
GOV_CASE_SATISFACTION is the satisfied rate.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor, system_actor
from citygrowth.auth.permissions import departments_for, require, scope_prefixes
from citygrowth.db import utcnow
from citygrowth.errors import ValidationFailed
from citygrowth.governance.lifecycle import clock
from citygrowth.governance.models import Case, CaseEvent, HelpTask
from citygrowth.governance.sla import WorkCalendar, default_calendar

TZ = ZoneInfo("Asia/Shanghai")
LEVELS = ("district", "street", "grid", "department")
COUNTS = ("reported", "registered", "closed", "due", "closed_ontime")
RATES = ("ontime_rate", "closure_rate", "rework_rate", "handling_hours", "satisfaction",
         "satisfied_rate")
PERCENT = frozenset({"ontime_rate", "closure_rate", "rework_rate", "satisfied_rate"})
INDICATORS = {
    "ontime_rate": "GOV_CASE_ONTIME_RATE", "closed_ontime": "GOV_CASES_CLOSED_ONTIME",
    "due": "GOV_CASES_DUE", "closure_rate": "GOV_CASE_CLOSURE_RATE",
    "rework_rate": "GOV_CASE_REWORK_RATE", "handling_hours": "GOV_CASE_HANDLING_HOURS",
    "satisfied_rate": "GOV_CASE_SATISFACTION",
}
SATISFIED = 4  # ratings of 4 or 5 (out of 5) count as satisfied (满意率)
HELP_INDICATORS = {"hours": "SOC_HELPER_HOURS", "done": "SOC_HELP_TASKS_DONE"}


def month_of(value: dt.datetime | None) -> str | None:
    return value.astimezone(TZ).strftime("%Y-%m") if value else None


FIRST_YEAR, LAST_YEAR = 1990, 2100  # months outside this range cannot hold cases


def parse_month(text: str) -> str:
    """A month as ``YYYY-MM``; anything else, or a year outside FIRST_YEAR..LAST_YEAR, is
    refused with a message naming the value."""
    try:
        d = dt.datetime.strptime(text.strip(), "%Y-%m")
    except ValueError:
        raise ValidationFailed("A month is written like 2026-10: {value}", value=text) from None
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        raise ValidationFailed("The month {value} is outside {first}–{last}.", value=text,
                               first=FIRST_YEAR, last=LAST_YEAR)
    return f"{d.year:04d}-{d.month:02d}"


def month_bounds(months: list[str]) -> tuple[dt.datetime, dt.datetime]:
    """[start of the first month, start of the month after the last) in UTC."""
    first = dt.datetime.strptime(min(months), "%Y-%m").replace(tzinfo=TZ)
    last = dt.datetime.strptime(max(months), "%Y-%m").replace(tzinfo=TZ)
    end = (last + dt.timedelta(days=32)).replace(day=1)
    return first.astimezone(dt.UTC), end.astimezone(dt.UTC)


@dataclass
class Facts:
    """What evaluation needs of one case."""

    area_code: str
    department_code: str | None
    reported: str | None
    registered: str | None
    closed: str | None
    due: str | None
    on_time: bool
    handling_hours: float | None
    reworked: bool
    rating: int | None
    closed_now: bool


CASE_COLS = (Case.id, Case.area_code, Case.department_code, Case.reported_at, Case.due_at,
             Case.status, Case.limit_hours, Case.satisfaction)
EVENT_COLS = (CaseEvent.case_id, CaseEvent.at, CaseEvent.to_status, CaseEvent.action,
              CaseEvent.detail)


def case_facts(session: Session, start: dt.datetime, end: dt.datetime,
               calendar: WorkCalendar, q: Any = None) -> list[Facts]:
    """Facts of the cases that touch [start, end) (reported, or with an event, in it).

    Read as plain rows (not ORM objects): evaluation runs over every case of many months.
    """
    touched = select(CaseEvent.case_id).where(CaseEvent.at >= start, CaseEvent.at < end)
    cq = select(*CASE_COLS).where(or_(Case.id.in_(touched),
                                      and_(Case.reported_at >= start, Case.reported_at < end)))
    if q is not None:
        cq = cq.where(Case.id.in_(q.with_only_columns(Case.id)))
    cases = {r.id: r._asdict() for r in session.execute(cq)}
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    ids = sorted(cases)
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        for r in session.execute(select(*EVENT_COLS).where(CaseEvent.case_id.in_(chunk))
                                 .order_by(CaseEvent.case_id, CaseEvent.seq)):
            events[r.case_id].append(r._asdict())
    return [_facts(c, events[cid], calendar) for cid, c in cases.items()]


def _facts(case: dict[str, Any], evs: list[dict[str, Any]], calendar: WorkCalendar) -> Facts:
    registered = next((e["at"] for e in evs if e["action"] == "register"), None)
    closed = next((e["at"] for e in reversed(evs) if e["action"] == "close"), None)
    c = clock(evs, case["limit_hours"], calendar)
    dispatched = any(e["action"] == "dispatch" for e in evs)
    handled = c.running_since is None and any(e["action"] == "handle" for e in evs)
    return Facts(
        area_code=case["area_code"],
        department_code=case["department_code"] or _last_dept(evs),
        reported=month_of(case["reported_at"]), registered=month_of(registered),
        closed=month_of(closed) if case["status"] == "closed" else None,
        due=month_of(case["due_at"]) if dispatched else None,
        on_time=handled and c.on_time, handling_hours=c.elapsed_hours if handled else None,
        reworked=any(e["action"] == "rework" for e in evs), rating=case["satisfaction"],
        closed_now=case["status"] == "closed")


def _last_dept(evs: list[dict[str, Any]]) -> str | None:
    for e in reversed(evs):
        detail = e["detail"] or {}
        if e["action"] in ("dispatch", "return") and detail.get("department_code"):
            return str(detail["department_code"])
    return None


def _keys(f: Facts) -> list[tuple[str, str]]:
    out = [("district", f.area_code[:6]), ("street", f.area_code[:9])]
    if len(f.area_code) == 15:
        out.append(("grid", f.area_code))
    if f.department_code:
        out.append(("department", f.department_code))
    return out


def aggregate(facts: list[Facts], months: list[str]) -> pd.DataFrame:
    """One row per (level, code, month) with the counts and rates above."""
    acc: dict[tuple[str, str, str], dict[str, Any]] = {}

    def row(key: tuple[str, str], month: str) -> dict[str, Any]:
        k = (key[0], key[1], month)
        if k not in acc:
            acc[k] = {c: 0 for c in COUNTS} | {"cohort": 0, "cohort_closed": 0, "reworked": 0,
                                               "hours": [], "ratings": []}
        return acc[k]

    wanted = set(months)
    for f in facts:
        for key in _keys(f):
            if f.reported in wanted:
                row(key, f.reported)["reported"] += 1
            if f.registered in wanted:
                r = row(key, f.registered)
                r["registered"] += 1
                r["cohort"] += 1
                r["cohort_closed"] += int(f.closed_now)
            if f.due in wanted:
                r = row(key, f.due)
                r["due"] += 1
                r["closed_ontime"] += int(f.on_time)
            if f.closed in wanted:
                r = row(key, f.closed)
                r["closed"] += 1
                r["reworked"] += int(f.reworked)
                if f.handling_hours is not None:
                    r["hours"].append(f.handling_hours)
                if f.rating is not None:
                    r["ratings"].append(f.rating)
    return _frame(acc)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _frame(acc: dict[tuple[str, str, str], dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for (level, code, month), r in sorted(acc.items()):
        rows.append({
            "level": level, "code": code, "month": month,
            **{c: r[c] for c in COUNTS},
            "ontime_rate": _ratio(r["closed_ontime"], r["due"]),
            "closure_rate": _ratio(r["cohort_closed"], r["cohort"]),
            "rework_rate": _ratio(r["reworked"], r["closed"]),
            "handling_hours": round(sum(r["hours"]) / len(r["hours"]), 2) if r["hours"] else None,
            "satisfaction": round(sum(r["ratings"]) / len(r["ratings"]), 3)
            if r["ratings"] else None,
            "satisfied_rate": _ratio(sum(1 for x in r["ratings"] if x >= SATISFIED),
                                     len(r["ratings"])),
        })
    cols = ["level", "code", "month", *COUNTS, *RATES]
    return pd.DataFrame(rows, columns=cols)


def evaluate(session: Session, actor: Actor, months: list[str],
             calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """The evaluation table for ``months``, limited to what ``actor`` may see."""
    require(actor, "case.evaluation", None)
    months = sorted({parse_month(m) for m in months})
    if not months:
        raise ValidationFailed("Give at least one month.")
    from citygrowth.governance.service import scoped_query

    start, end = month_bounds(months)
    q = None if actor.is_system else scoped_query(actor, "case.evaluation")
    facts = case_facts(session, start, end, calendar or default_calendar(), q)
    df = aggregate(facts, months)
    prefixes = scope_prefixes(actor, "case.evaluation")
    if prefixes is not None:  # a street sees its own street and grids, not the district row
        keep = df["level"].eq("department") | df["code"].map(
            lambda c: any(str(c).startswith(p) for p in prefixes))
        df = df[keep]
    depts = departments_for(actor, "case.evaluation")
    if depts is not None:
        df = df[df["level"].eq("department") & df["code"].isin(sorted(depts))]
    return df.reset_index(drop=True)


def helper_frame(session: Session, months: list[str]) -> pd.DataFrame:
    """Help tasks done and helper hours per grid cell and month."""
    start, end = month_bounds(months)
    rows: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for t in session.scalars(select(HelpTask).where(HelpTask.status == "done",
                                                    HelpTask.done_at >= start,
                                                    HelpTask.done_at < end)):
        r = rows[(t.area_code, month_of(t.done_at) or "")]
        r[0] += t.hours
        r[1] += 1
    out = []
    for (code, month), (hours, done) in sorted(rows.items()):
        out.append({"indicator": HELP_INDICATORS["hours"], "area_code": code, "period": month,
                    "value": round(hours, 2)})
        out.append({"indicator": HELP_INDICATORS["done"], "area_code": code, "period": month,
                    "value": done})
    return pd.DataFrame(out, columns=["indicator", "area_code", "period", "value"])


def observations(table: pd.DataFrame) -> pd.DataFrame:
    """Governance indicators (grid, street, district; departments are not areas) as rows
    ``indicator, area_code, period, value``."""
    out = []
    areas = table[table["level"].isin(["district", "street", "grid"])]
    for rec in areas.to_dict("records"):
        for col, code in INDICATORS.items():
            value = rec[col]
            if value is None or pd.isna(value):
                continue
            # the catalog's rates are percentages; the table keeps fractions
            scale = 100.0 if col in PERCENT else 1.0
            out.append({"indicator": code, "area_code": rec["code"], "period": rec["month"],
                        "value": float(value) * scale})
    return pd.DataFrame(out, columns=["indicator", "area_code", "period", "value"])


def recent_months(now: dt.datetime | None = None, n: int = 2) -> list[str]:
    d = (now or utcnow()).astimezone(TZ).date().replace(day=1)
    out = []
    for _ in range(n):
        out.append(d.strftime("%Y-%m"))
        d = (d - dt.timedelta(days=1)).replace(day=1)
    return sorted(out)


def write_evaluation(session: Session, settings: Any, months: list[str],
                     bus: Any = None, illustrative: bool = False) -> int:
    """Compute the evaluation of ``months`` and load it into the observation store as
    Governance-capacity (and helper) indicators. Returns the number of observations."""
    from citygrowth.ingest.service import load_observations

    actor = system_actor("governance evaluation")
    table = evaluate(session, actor, months)
    frame = pd.concat([observations(table), helper_frame(session, months)], ignore_index=True)
    if frame.empty:
        return 0
    load_observations(session, settings, actor, frame, dataset=None,
                      source="governance evaluation", bus=bus, illustrative=illustrative)
    return len(frame)

