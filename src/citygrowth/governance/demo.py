"""The demo's case history: ~18 months of illustrative cases for the demo district.

Generated, not real: deterministic (a fixed seed, anchored on today's date), with seasonality
per category (garbage and street vending peak in summer, waterlogging in the rainy season,
fewer reports over the Spring Festival), more cases where more people live, a share handled
late, some returned for rework, extended, postponed, supervised, cancelled as duplicates, and
residents' ratings. Every case and helper task is flagged ``illustrative``. Rows are inserted
in bulk; events are built with the same lifecycle rules and SLA clock as live cases.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Any, cast

import click
from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.models import Department, User
from citygrowth.auth.permissions import require
from citygrowth.db import utcnow
from citygrowth.errors import CityGrowthError
from citygrowth.governance.dispatch import route
from citygrowth.governance.evaluation import month_of, write_evaluation
from citygrowth.governance.lifecycle import base_limit, clock
from citygrowth.governance.models import Case, CaseEvent, DispatchRule, Helper, HelpTask
from citygrowth.governance.sla import WorkCalendar
from citygrowth.governance.taxonomy import ensure_taxonomy, leaf_categories
from citygrowth.i18n import N_, _
from citygrowth.runtime import Runtime
from citygrowth.workdays import is_workday

SEED = 370203
MONTHS = 18
PER_10K_PER_MONTH = 9.0  # reports per 10,000 residents and month, before seasonality
SUMMER = {"E0101", "E0102", "E0103", "E0501", "E0503", "E0601", "E0602", "C0302"}
RAINY = {"E0402", "E0401", "C0103"}
BUILDING = {"E0301", "E0302", "C0501"}
WEIGHTS = {"E0101": 9, "E0102": 6, "E0103": 4, "E0501": 8, "E0502": 10, "E0503": 5,
           "E0201": 6, "E0202": 2, "E0301": 3, "E0302": 1, "E0601": 3, "E0602": 2,
           "C0101": 3, "C0102": 3, "C0103": 2, "C0105": 4, "C0302": 3, "C0401": 2}


def _season(code: str, month: int) -> float:
    summer = 1 + 0.45 * math.cos((month - 7) / 12 * 2 * math.pi)
    if code in SUMMER:
        return summer
    if code in RAINY:
        return 2.5 if month in (7, 8) else 1.3 if month in (6, 9) else 0.4
    if code in BUILDING:
        return 1.3 if month in (3, 4, 5, 9, 10) else 0.8
    return 1.0


@dataclass
class Sim:
    rng: random.Random
    cal: WorkCalendar
    now: dt.datetime
    depts: dict[str, str]
    limits: dict[str, float]
    events: list[dict[str, Any]] = field(default_factory=list)
    t: dt.datetime = field(default_factory=utcnow)
    status: str | None = None

    def step(self, action: str, to: str, who: str, after: float, **detail: Any) -> bool:
        """Advance ``after`` working hours, then record an event (False past 'now')."""
        at = self.cal.add_working_hours(self.t, max(after, 0.02))
        if at > self.now:
            return False
        self.events.append({"seq": len(self.events) + 1, "at": at, "actor": who,
                            "actor_user_id": None, "action": action,
                            "from_status": self.status, "to_status": to, "note": "",
                            "photos": [], "detail": detail})
        self.t, self.status = at, to
        return True


def _simulate(sim: Sim, cat: str, street: str, dept: str) -> dict[str, Any]:
    """Walk one case through the loop; returns the case's state fields."""
    r = sim.rng
    cmd, grid_w, off = f"demo-command-{street[-3:]}", f"demo-grid-{street[-3:]}", f"demo-{dept}"
    out: dict[str, Any] = {"department_code": None, "rework_count": 0, "supervised": False,
                           "escalation_level": 0, "satisfaction": None, "closed_at": None}
    if r.random() < 0.04:
        sim.step("cancel", "cancelled", cmd, r.uniform(0.1, 1.5))
        return out
    if not sim.step("register", "registered", cmd, r.uniform(0.1, 1.0)):
        return out
    limit = sim.limits[cat]
    if not sim.step("dispatch", "dispatched", cmd, r.uniform(0.05, 0.5), department_code=dept,
                    limit_hours=limit):
        return out
    out["department_code"] = dept
    late = r.random() < 0.09
    rounds = 2 if r.random() < 0.06 else 1
    for i in range(rounds):
        if not sim.step("accept", "handling", off, r.uniform(0.1, 0.2 * limit)):
            return out
        if i == 0 and r.random() < 0.03:
            if not (sim.step("request_extension", "handling", off, 0.3, hours=limit)
                    and sim.step("approve_extension", "handling", cmd, 0.5, hours=limit)):
                return out
        share = r.uniform(1.05, 2.2) if late else r.uniform(0.25, 0.8) / rounds
        if not sim.step("handle", "handled", off, share * limit):
            return out
        if i + 1 < rounds:
            out["rework_count"] += 1
            if not sim.step("rework", "dispatched", grid_w, r.uniform(0.5, 3)):
                return out
    if late and r.random() < 0.5:
        out["supervised"] = True
    if not (sim.step("verify", "verified", grid_w, r.uniform(0.5, 6))
            and sim.step("close", "closed", cmd, r.uniform(0.2, 3))):
        return out
    out["closed_at"] = sim.t
    if r.random() < 0.45:
        base = 4.6 - 1.2 * late - 0.8 * out["rework_count"]
        out["satisfaction"] = max(1, min(5, round(r.gauss(base, 0.7))))
        sim.step("rate", "closed", "resident", r.uniform(1, 30), rating=out["satisfaction"])
    return out


def _report_time(rng: random.Random, day: dt.date, tz: Any) -> dt.datetime:
    hour = min(max(rng.gauss(11.5, 3.2), 6.5), 21.5)
    local = dt.datetime.combine(day, dt.time(0), tz) + dt.timedelta(hours=hour)
    return local.astimezone(dt.UTC)


def _plan(rng: random.Random, grids: list[Area], cats: list[str], start: dt.date,
          end: dt.date) -> list[tuple[dt.date, Area, str]]:
    """Which reports are made: (day, grid cell, category), by population and season."""
    pops = [g.population or 1500 for g in grids]
    daily = sum(pops) / 1e4 * PER_10K_PER_MONTH / 30
    plan: list[tuple[dt.date, Area, str]] = []
    day = start
    while day <= end:
        holiday = not is_workday(day) and day.weekday() < 5
        factor = 0.35 if holiday else 0.75 if day.weekday() >= 5 else 1.0
        weights = [WEIGHTS.get(c, 1) * _season(c, day.month) for c in cats]
        mean_season = sum(weights) / sum(WEIGHTS.get(c, 1) for c in cats)
        n = _poisson(rng, daily * factor * mean_season)
        picked_grids = rng.choices(grids, weights=pops, k=n)
        picked_cats = rng.choices(cats, weights=weights, k=n)
        plan.extend((day, g, c) for g, c in zip(picked_grids, picked_cats, strict=True))
        day += dt.timedelta(days=1)
    return plan


def _poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw (normal approximation for large means)."""
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    if lam <= 0:
        return 0
    k, p, limit = 0, rng.random(), math.exp(-lam)
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _case_row(sim: Sim, rng: random.Random, grid: Area, cat: str, kind: str,
              reported: dt.datetime, st: dict[str, Any]) -> dict[str, Any]:
    c = clock(sim.events, None, sim.cal)
    due = c.due_at
    if due is None and c.limit_hours is not None and c.last_stretch:  # its last deadline
        start, used = c.last_stretch
        due = sim.cal.add_working_hours(start, max(c.limit_hours - used, 0.0))
    warn = None
    if c.due_at is not None and c.running_since is not None and c.limit_hours:
        warn = sim.cal.add_working_hours(c.running_since,
                                         max(c.limit_hours * 0.8 - c.elapsed_hours, 0.0))
    lon = (grid.centroid_lon or 120.37) + rng.uniform(-0.0015, 0.0015)
    lat = (grid.centroid_lat or 36.09) + rng.uniform(-0.0012, 0.0012)
    return {
        "token": f"{rng.getrandbits(96):024x}", "idempotency_key": None, "fingerprint": None,
        "category_code": cat, "kind": kind, "component_id": None, "area_code": grid.code,
        "department_code": st["department_code"], "status": sim.status or "reported",
        "pending": None, "pending_hours": None, "source": rng.choice(
            ["patrol", "patrol", "patrol", "resident", "hotline", "open311"]),
        "description": _("Illustrative case (generated for the demo)"), "address": "",
        "lon": round(lon, 6), "lat": round(lat, 6), "photos": [], "attributes": {},
        "reporter_user_id": None, "reporter_contact": "", "device_id": "", "account_id": "",
        "reported_at": reported, "updated_at": sim.t, "due_at": due, "warn_at": warn,
        "closed_at": st["closed_at"], "limit_hours": sim.limits[cat] if due else None,
        "supervised": st["supervised"], "escalation_level": st["escalation_level"],
        "rework_count": st["rework_count"], "reopen_count": 0,
        "satisfaction": st["satisfaction"], "illustrative": True}


def generate(session: Session, runtime: Runtime, now: dt.datetime | None = None,
             months: int = MONTHS) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """Case rows and their events (not yet inserted), deterministic for a given day."""
    now = (now or runtime.now()).replace(minute=0, second=0, microsecond=0)
    rng = random.Random(SEED)
    cal = runtime.calendar
    grids = list(session.scalars(select(Area).where(Area.level == "grid").order_by(Area.code)))
    cats = {c.code: c for c in leaf_categories(session)}
    depts = set(session.scalars(select(Department.code)))
    default_hours = runtime.cases.default_time_limit_hours
    limits = {code: base_limit(session, code, default_hours) for code in cats}
    dept_of = {}
    for g in {g.code[:9] for g in grids}:
        for code in cats:
            d = route(session, code, g + "001001")
            dept_of[(g, code)] = d if d in depts else "urban"
    end = now.astimezone(cal.tz).date()
    start = (end.replace(day=1) - dt.timedelta(days=31 * (months - 1))).replace(day=1)
    rows, events = [], []
    for day, grid, cat in _plan(rng, grids, sorted(cats), start, end):
        reported = _report_time(rng, day, cal.tz)
        if reported > now:
            continue
        sim = Sim(rng, cal, now, {}, limits, t=reported, status="reported")
        sim.events.append({"seq": 1, "at": reported, "actor": "demo-report",
                           "actor_user_id": None, "action": "report", "from_status": None,
                           "to_status": "reported", "note": "", "photos": [], "detail": {}})
        st = _simulate(sim, cat, grid.code[:9], dept_of[(grid.code[:9], cat)])
        rows.append(_case_row(sim, rng, grid, cat, cats[cat].kind, reported, st))
        events.append(sim.events)
    _leave_to_accept(rows, events, Sim(rng, cal, now, {}, limits), grids)
    return rows, events


def _leave_to_accept(rows: list[dict[str, Any]], events: list[list[dict[str, Any]]],
                     sim: Sim, grids: list[Area]) -> None:
    """Leave every department one case to accept: where the simulated history left none
    dispatched and waiting (after a weekend, say, every case dispatched before it was
    accepted in time), its newest dispatched case stops at the dispatch, so that an
    officer trying the demo has the first step of their job to take."""
    waiting = {r["department_code"] for r in rows if r["status"] == "dispatched"}
    cells = {g.code: g for g in grids}
    for i in sorted(range(len(rows)), key=lambda i: rows[i]["reported_at"], reverse=True):
        row, evs = rows[i], events[i]
        dept = row["department_code"]
        if dept is None or dept in waiting or row["status"] in ("closed", "cancelled"):
            continue
        cut = next((k for k, e in enumerate(evs) if e["action"] == "dispatch"), None)
        if cut is None:
            continue
        waiting.add(dept)
        kept = evs[:cut + 1]
        again = Sim(sim.rng, sim.cal, sim.now, {}, sim.limits, events=kept, t=kept[-1]["at"],
                    status="dispatched")
        st = {"department_code": dept, "rework_count": 0, "supervised": False,
              "escalation_level": 0, "satisfaction": None, "closed_at": None}
        fresh = _case_row(again, sim.rng, cells[row["area_code"]], row["category_code"],
                          row["kind"], row["reported_at"], st)
        rows[i] = {**fresh, **{k: row[k] for k in ("token", "source", "lon", "lat")}}
        events[i] = kept


def _insert(session: Session, rows: list[dict[str, Any]],
            events: list[list[dict[str, Any]]]) -> int:
    table = cast(Table, Case.__table__)
    ids: list[int] = []
    for i in range(0, len(rows), 2000):
        res = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                              rows[i:i + 2000])
        ids.extend(r[0] for r in res)
    flat = [{**e, "case_id": cid} for cid, evs in zip(ids, events, strict=True) for e in evs]
    for i in range(0, len(flat), 5000):
        session.execute(insert(cast(Table, CaseEvent.__table__)), flat[i:i + 5000])
    return len(flat)


def _helpers(session: Session, rng: random.Random, now: dt.datetime) -> int:
    grids = list(session.scalars(select(Area).where(Area.level == "grid").order_by(Area.code)))
    tasks = []
    for g in grids[::3]:
        helper_ids = []
        for k in range(rng.randint(1, 3)):
            h = Helper(kind=rng.choice(["party_member", "volunteer"]),
                       label=f"{g.code[-6:]}-{k + 1}", area_code=g.code, active=True,
                       illustrative=True, registered_at=now - dt.timedelta(days=600))
            session.add(h)
            session.flush()
            helper_ids.append(h.id)
        for m in range(MONTHS):
            for _n in range(rng.randint(0, 4)):
                done = now - dt.timedelta(days=30 * m + rng.uniform(0, 29))
                tasks.append({"area_code": g.code, "title": _("Help an elderly resident"),
                              "description": "", "status": "done",
                              "helper_id": rng.choice(helper_ids), "case_id": None,
                              "hours": rng.choice([1.0, 1.5, 2.0, 3.0]),
                              "created_at": done - dt.timedelta(days=2),
                              "taken_at": done - dt.timedelta(days=1), "done_at": done,
                              "illustrative": True})
    if tasks:
        session.execute(insert(cast(Table, HelpTask.__table__)), tasks)
    return len(tasks)


DEMO_HELPER = "helper"  # the demo login of the helper role (auth.demo)
DEMO_TASKS = ((N_("Accompany an elderly resident to the clinic"), "elderly_care"),
              (N_("Help a family fill in the residence permit forms"), "paperwork"),
              (N_("Tidy the bicycle shed of building 3"), "environment"))


def ensure_demo_helper(session: Session, now: dt.datetime) -> int:
    """Register the demo helper login in its grid cell and give its community open tasks to
    take (once; returns how many tasks were added)."""
    user = session.scalar(select(User).where(User.username == DEMO_HELPER))
    grant = next((g for g in user.grants if g.role == "helper"), None) if user else None
    if user is None or grant is None or len(grant.area_code) != 15 or session.scalar(
            select(Helper.id).where(Helper.user_id == user.id)) is not None:
        return 0
    session.add(Helper(user_id=user.id, kind="volunteer", label=_("Demo helper"),
                       area_code=grant.area_code, active=True, illustrative=True,
                       registered_at=now, skills=["elderly_care", "paperwork"],
                       registered_by="demo"))
    for i, (title, skill) in enumerate(DEMO_TASKS):
        session.add(HelpTask(area_code=grant.area_code, title=_(title), description="",
                             status="open", hours=0.0, illustrative=True, skill=skill,
                             note="", created_by="demo",
                             created_at=now - dt.timedelta(hours=3 * (i + 1))))
    session.flush()
    return len(DEMO_TASKS)


def load_demo(session: Session, actor: Actor, runtime: Runtime, now: dt.datetime | None = None,
              months: int = MONTHS, evaluation: bool = True) -> dict[str, int]:
    """Load the illustrative history once (a second run changes nothing); with
    ``evaluation``, also its monthly evaluation into the observation store."""
    require(actor, "case.taxonomy", None)
    ensure_taxonomy(session, runtime)
    ensure_demo_helper(session, now or runtime.now())
    if session.scalar(select(func.count()).select_from(Case).where(Case.illustrative)) or 0:
        return {"cases": 0, "events": 0, "tasks": 0, "observations": 0}
    if not session.scalar(select(func.count()).select_from(DispatchRule)):
        first = session.scalar(select(Area.code).where(Area.level == "street")
                               .order_by(Area.code).limit(1))
        if first and session.get(Department, "market") is not None:
            session.add(DispatchRule(category_code="E05", area_prefix=first,
                                     department_code="market", priority=0,
                                     note="Street order in this street goes to market "
                                          "regulation (example rule)"))
            session.flush()
    rows, events = generate(session, runtime, now, months)
    n_events = _insert(session, rows, events)
    n_tasks = _helpers(session, random.Random(SEED + 1), now or runtime.now())
    session.flush()
    stored = 0
    if evaluation and rows:
        months_done = sorted({m for r in rows if (m := month_of(r["reported_at"], runtime.tz))})
        stored = write_evaluation(session, runtime, months_done, illustrative=True)
    return {"cases": len(rows), "events": n_events, "tasks": n_tasks, "observations": stored}


def run_demo(runtime: Runtime, actor: Actor) -> None:
    """The ``cases`` step of ``citygrowth demo``."""
    with runtime.session() as session:
        try:
            out = load_demo(session, actor, runtime)
        except CityGrowthError as exc:  # the store may lack a piece; say so, keep the cases
            session.rollback()
            click.echo(_("Case evaluation not stored: {error}").format(
                error=exc.render_message()))
            out = load_demo(session, actor, runtime, evaluation=False)
    click.echo(_("{cases} illustrative cases, {events} events, {tasks} help tasks, "
                 "{observations} observations.").format(**out))
