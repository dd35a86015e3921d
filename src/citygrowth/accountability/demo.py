"""Demo step ``accountability``: the seed's plans as targets, 119 key projects, approvals, desk.

Real (from the source article): the plans used as targets (20 new schools in three years with
6 so far, 2,300 households moved back this year, 5,000 resettlement units started, 4,000
parking spaces, 29 roads, 23 choke points, family-doctor coverage ≥ 60 %, 900+ old compounds,
560,000 m² illegal construction removed, 49,000 shantytown households waiting), the count
and total of the key projects (119, 1530 亿元), the three leading industries, and the approval
story (20 working days → 1; nearly 100 projects approved this year).

Illustrative (generated deterministically, flagged ``illustrative=True``): progress reports
between the start and today, every project's name, amount, stage and location, the approval
items, enterprises, leads and service requests. Dates are placed relative to today's date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.common import today_local
from citygrowth.accountability.demo_data import (
    seed_approvals,
    seed_desk,
    seed_projects,
)
from citygrowth.accountability.measures import publish_measures
from citygrowth.accountability.models import ProgressReport, Project, Target
from citygrowth.accountability.schemas import TargetIn
from citygrowth.accountability.targets import apply_target, mark_milestones
from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import require
from citygrowth.errors import NotFound
from citygrowth.logging_setup import get_logger
from citygrowth.settings import Settings

log = get_logger(__name__)


@dataclass(frozen=True)
class DemoTarget:
    code: str
    name_zh: str
    name_en: str
    dept: str
    co: tuple[str, ...]
    unit: tuple[str, str]
    baseline: float
    goal: float
    years: tuple[int, int]  # start year offset, deadline year offset (0 = this year)
    now: float  # value reached by today
    indicator: str | None = None
    illustrative: bool = False
    note: str = ""
    kind: str = "reach"


TARGETS: tuple[DemoTarget, ...] = (
    DemoTarget("T-SCHOOLS", "三年新建学校20所", "20 new schools in three years", "education",
               ("housing",), ("所", "schools"), 0, 20, (-1, 1), 6),
    DemoTarget("T-MOVEBACK", "棚改居民回迁2300户", "2,300 households moved back this year",
               "housing", ("civil",), ("户", "households"), 0, 2300, (0, 0), 2160),
    DemoTarget("T-RESETTLE", "安置房开工5000套", "5,000 resettlement units started",
               "housing", ("ndrc",), ("套", "units"), 0, 5000, (0, 0), 4450),
    DemoTarget("T-PARKING", "新增停车泊位4000个", "4,000 parking spaces added", "urban", (),
               ("个", "spaces"), 0, 4000, (0, 0), 3720),
    DemoTarget("T-ROADS", "整修道路29条", "29 roads repaired", "urban", ("housing",),
               ("条", "roads"), 0, 29, (0, 0), 27),
    DemoTarget("T-CHOKE", "打通交通堵点23处", "23 traffic choke points fixed", "urban", (),
               ("处", "points"), 0, 23, (0, 0), 14),
    DemoTarget("T-DOCTOR", "重点人群家庭医生签约覆盖率保持60%以上",
               "Family-doctor coverage of key groups kept at 60% or more", "health", ("civil",),
               ("%", "%"), 60.6, 60, (0, 0), 61.8, indicator="SOC_FAMILY_DOCTOR",
               kind="hold_above"),
    DemoTarget("T-COMPOUNDS", "改造老旧小区900个以上", "900+ old residential compounds renovated",
               "housing", ("urban",), ("个", "compounds"), 0, 900, (-2, 0), 842),
    DemoTarget("T-ILLEGAL", "拆除违法建设56万平方米", "560,000 m² of illegal construction removed",
               "urban", (), ("平方米", "m²"), 0, 560000, (0, 0), 541000),
    DemoTarget("T-SHANTY", "棚户区4.9万户待改造居民清零",
               "49,000 waiting shantytown households cleared",
               "housing", ("ndrc", "civil"), ("户", "households"), 49000, 0, (0, 4), 39000,
               illustrative=True, note="Deadline illustrative: the article gives 49,000 waiting."),
    DemoTarget("T-APPROVAL", "项目核准备案1个工作日办结", "Project approval within 1 working day",
               "ndrc", ("invest",), ("工作日", "working days"), 3, 1, (0, 0), 1,
               indicator="GOV_APPROVAL_DAYS"),
)


def _start_deadline(year: int, t: DemoTarget) -> tuple[dt.date, dt.date]:
    return dt.date(year + t.years[0], 1, 1), dt.date(year + t.years[1], 12, 31)


def _report_days(start: dt.date, today: dt.date, quarterly: bool) -> list[dt.date]:
    days, y, m = [], start.year, start.month
    while True:
        day = dt.date(y, m, 25)
        if day >= today:
            break
        if not quarterly or m in (3, 6, 9, 12):
            days.append(day)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return days


def target_input(t: DemoTarget, today: dt.date, district: str) -> TargetIn:
    start, deadline = _start_deadline(today.year, t)
    span = (deadline - start).days
    miles = []
    for year in range(start.year, deadline.year + 1):
        for month, day in ((6, 30), (12, 15)):
            due = dt.date(year, month, day)
            if start < due < deadline:
                planned = t.goal if t.kind != "reach" else (
                    t.baseline + (t.goal - t.baseline) * (due - start).days / span)
                miles.append({"due_date": due, "planned_value": round(planned, 1),
                              "title_zh": f"{year}年{month}月节点",
                              "title_en": f"{year}-{month:02d} checkpoint"})
    return TargetIn(
        code=t.code, name_zh=t.name_zh, name_en=t.name_en, department_code=t.dept,
        co_owners=list(t.co), area_code=district, unit_zh=t.unit[0], unit_en=t.unit[1],
        baseline=t.baseline, target_value=t.goal, start_date=start, deadline=deadline,
        plan="linear", kind=t.kind, indicator_code=t.indicator, description=t.note,
        milestones=miles, illustrative=t.illustrative)


def seed_targets(session: Session, district: str, today: dt.date) -> list[Target]:
    out = []
    for t in TARGETS:
        target = apply_target(session, target_input(t, today, district))
        days = _report_days(target.start_date, today, quarterly=t.years[0] < 0)
        elapsed = max((today - target.start_date).days, 1)
        for day in days:
            share = (day - target.start_date).days / elapsed
            value = t.baseline + (t.now - t.baseline) * share
            whole = abs(t.goal - t.baseline) >= 20
            value = round(value) if whole else round(value, 1)
            target.reports.append(ProgressReport(reported_on=day, value=value,
                                                 department_code=t.dept, reported_by="demo"))
        if days:
            target.reports[-1].value = t.now
        _mark_done(target)
        out.append(target)
    session.flush()
    return out


def _mark_done(target: Target) -> None:
    for r in target.reports:
        mark_milestones(target, r)


def ensure_departments(session: Session) -> None:
    from citygrowth.areas.demo import DEPARTMENTS

    for code, zh, en in DEPARTMENTS:
        if session.get(Department, code) is None:
            session.add(Department(code=code, name_zh=zh, name_en=en))
    session.flush()


def seed_demo(session: Session, actor: Actor, district: str, today: dt.date) -> dict[str, Any]:
    """Load the demo records unless they are there already; returns what it created."""
    require(actor, "target.manage", district)
    if session.get(Area, district) is None:
        raise NotFound("Load the demo areas first: district {code} is missing.", code=district)
    if session.scalar(select(Project.id).limit(1)) is not None:
        return {"created": False}
    ensure_departments(session)
    streets = list(session.scalars(select(Area).where(
        Area.level == "street", Area.parent_code == district).order_by(Area.code)))
    targets = seed_targets(session, district, today)
    projects = seed_projects(session, district, streets, today)
    approvals = seed_approvals(session, district, streets, projects, today)
    leads = seed_desk(session, district, streets, today)
    _key_invest_target(session, district, projects, today)
    record(session, actor, "accountability.demo", "demo",
           {"targets": len(targets) + 1, "projects": len(projects),
            "approvals": approvals, "leads": leads})
    return {"created": True, "targets": len(targets) + 1, "projects": len(projects),
            "approvals": approvals, "leads": leads}


def _key_invest_target(session: Session, district: str, projects: list[Project],
                       today: dt.date) -> Target:
    """This year's key-project investment target, reported from the projects' own figures."""
    year = today.year
    monthly: dict[int, int] = {}
    for p in projects:
        for inv in p.investments:
            if inv.period.startswith(f"{year}-"):
                m = int(inv.period[5:])
                monthly[m] = monthly.get(m, 0) + inv.completed_wan
    done = sum(monthly.values()) / 10_000
    goal = round(done * 12 / max(len(monthly), 1) * 0.98)
    data = TargetIn(code="T-KEYINVEST", name_zh="重点项目年度完成投资", name_en=
                    "Investment completed in key projects this year", department_code="ndrc",
                    co_owners=["invest"], area_code=district, unit_zh="亿元", unit_en="100M CNY",
                    baseline=0, target_value=goal, start_date=dt.date(year, 1, 1),
                    deadline=dt.date(year, 12, 31), indicator_code="ECO_KEY_PROJECT_INVEST",
                    illustrative=True, description="Reported from the key projects' figures.")
    target = apply_target(session, data)
    total = 0
    for m in sorted(monthly):
        day = dt.date(year, m, 25)
        if day >= today:
            break
        total += monthly[m]
        target.reports.append(ProgressReport(reported_on=day, value=round(total / 10_000, 2),
                                             department_code="ndrc", reported_by="demo"))
    session.flush()
    return target


def run_demo(cx: Any, actor: Actor) -> None:
    """The demo step: seed (once), then publish the measures into the observation store."""
    settings: Settings = cx.settings
    today = today_local(settings.timezone)
    with cx.session() as session:
        result = seed_demo(session, actor, settings.district_code, today)
    log.info("accountability demo", **{k: v for k, v in result.items()})
    with cx.session() as session:
        publish_measures(session, settings, actor, cx.bus, today)

