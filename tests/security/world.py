"""A seeded store for the attack tests: two streets (A, B) and two departments (urban, market),
one user per role and area, and in each street and department objects of every kind, each
carrying a *marker* — a unique string in a text field — so that a leak is concrete: a marker of
an object the caller may not see appearing anywhere in an answer.

Street A's objects belong to the urban department and street B's to market; each street also
has a case of the *other* department, so that the street and the department scopes differ.

Which markers are foreign to a caller follows from the objects' scopes and the app's own
permission table (``Marker.foreign_to``), never from a list of routes.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from citygrowth.accountability.approvals import record_approval
from citygrowth.accountability.investment import create_enterprise, create_lead
from citygrowth.accountability.projects import create_project, raise_problem
from citygrowth.accountability.schemas import (
    ApprovalIn,
    EnterpriseIn,
    LeadIn,
    ProblemIn,
    ProjectIn,
    TargetIn,
)
from citygrowth.accountability.targets import create_target
from citygrowth.analysis.models import AnomalyRecord
from citygrowth.auth.actor import Actor, Grant, system_actor
from citygrowth.auth.identity import new_api_key
from citygrowth.auth.models import RoleGrant, User
from citygrowth.auth.permissions import PermissionTable
from citygrowth.db import upgrade
from citygrowth.governance.helpers import create_task
from citygrowth.governance.intake import ReportInput, submit_report
from citygrowth.governance.lifecycle import transition
from citygrowth.governance.taxonomy import ensure_taxonomy
from citygrowth.ingest.service import load_observations
from citygrowth.runtime import Runtime, build_runtime
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, STREET_B, make_areas, make_department

SIDES = {"A": (STREET_A, "urban", (120.305, 36.055)), "B": (STREET_B, "market", (120.345, 36.055))}
OTHER = {"A": "B", "B": "A"}
WORLD_SECRET = "world-secret"  # noqa: S105 - a test store's key
GRID = {"A": STREET_A + "001001", "B": STREET_B + "001001"}
DEPTS = ("urban", "housing", "ecology", "market", "civil")
# the kinds of object, with the permission that reads them and whether their department
# scopes them (as the app's lists do: cases by assignment, loads and warnings by the load's)
KINDS: dict[str, tuple[str, bool, bool]] = {  # kind → (view permission, by area, by department)
    "case": ("case.view", True, True),
    "target": ("accountability.view", True, False),
    "project": ("accountability.view", True, False),
    "approval": ("accountability.view", True, False),
    "lead": ("investment.view", True, False),
    "task": ("help.view", True, False),
    "load": ("data.view", False, True),
    "warning": ("analysis.view", True, True),
}
# callers: name → grants (role, area[, department]); None: the anonymous caller
CALLERS: dict[str, list[tuple[str, ...]]] = {
    "admin": [("district_admin", DISTRICT)],
    "analyst": [("analyst", DISTRICT)],
    "machine": [("machine", DISTRICT)],
    "cmd_a": [("street_commander", STREET_A)], "cmd_b": [("street_commander", STREET_B)],
    "worker_a": [("grid_worker", GRID["A"])], "worker_b": [("grid_worker", GRID["B"])],
    "helper_a": [("helper", GRID["A"])], "helper_b": [("helper", GRID["B"])],
    "resident_a": [("resident", STREET_A)], "resident_b": [("resident", STREET_B)],
    "urban": [("department_officer", DISTRICT, "urban")],
    "market": [("department_officer", DISTRICT, "market")],
}


@dataclass(frozen=True)
class Marker:
    """A unique string in one object: its kind, street (area code) and department."""

    text: str
    kind: str
    area: str | None
    department: str | None

    def foreign_to(self, actor: Actor | None, table: PermissionTable) -> bool:
        """True when ``actor`` may not see the object: no grant of it reads the kind within
        the object's area and, for department-bound kinds, for its department."""
        if actor is None:
            return True
        perm, by_area, by_dept = KINDS[self.kind]
        for g in actor.grants:
            if perm not in table.get(g.role, frozenset()):
                continue
            if by_area and self.area is not None and not self.area.startswith(g.area_code):
                continue
            if by_dept and g.department_code and g.department_code != self.department:
                continue
            return False
        return True


@dataclass
class World:
    url: str
    settings: Settings
    keys: dict[str, str]
    actors: dict[str, Actor]
    markers: list[Marker]
    ids: dict[str, dict[str, list[int | str]]] = field(default_factory=dict)  # side → kind → ids
    user_ids: dict[str, int] = field(default_factory=dict)
    key_ids: dict[str, int] = field(default_factory=dict)
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)  # marker → (kind, object id)

    def bind(self, kind: str, ref: int | str, *texts: str) -> None:
        """Record that the markers ``texts`` are in the object ``ref`` of ``kind``."""
        for t in texts:
            self.refs[t] = (kind, str(ref))

    def foreign(self, caller: str | None, table: PermissionTable) -> list[Marker]:
        actor = self.actors.get(caller) if caller else None
        return [m for m in self.markers if m.foreign_to(actor, table)]


def _mark(kind: str, side: str, dept: str | None, world: World, area: str | None) -> str:
    text_ = f"MK{side}{kind}{dept or ''}{secrets.token_hex(4)}"
    world.markers.append(Marker(text_, kind, area, dept))
    return text_


def build_world(root: Path) -> World:
    """Migrate a SQLite store under ``root`` and seed it (all through the services, as the
    system actor)."""
    root.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{root / 'citygrowth.db'}"
    upgrade(url)
    settings = Settings(data_dir=root / "var", database_url=url, env="test",
                        secret_key=WORLD_SECRET, scheduler_enabled=False, log_level="ERROR")
    runtime = build_runtime(settings)
    world = World(url, settings, {}, {}, [])
    try:
        with runtime.session() as s:
            make_areas(s)
            for d in DEPTS:
                make_department(s, d, d, d)
            ensure_taxonomy(s, runtime)
            for name, grants in CALLERS.items():
                user = User(username=name, display_name=name)
                for g in grants:
                    user.grants.append(RoleGrant(role=g[0], area_code=g[1],
                                                 department_code=g[2] if len(g) > 2 else None))
                s.add(user)
                s.flush()
                world.keys[name] = new_api_key(s, user, "attack")
                world.user_ids[name] = user.id
                world.key_ids[name] = int(s.execute(text(
                    "SELECT max(id) FROM api_keys WHERE user_id = :u"), {"u": user.id}).scalar())
                world.actors[name] = Actor(user.id, name, tuple(
                    Grant(g[0], g[1], g[2] if len(g) > 2 else None) for g in grants),
                    permissions=runtime.permissions)
            for side in SIDES:
                _seed_side(s, runtime, world, side)
    finally:
        runtime.dispose()
    return world


def _seed_side(s: Session, runtime: Runtime, world: World, side: str) -> None:
    street, dept, pos = SIDES[side]
    other_dept = SIDES[OTHER[side]][1]
    system = system_actor("world")
    ids = world.ids.setdefault(side, {})
    today = runtime.today()
    # cases: one of the street's department, one of the other department, one not dispatched
    for case_dept in (dept, other_dept, None):
        marker = _mark("case", side, case_dept or "none", world, GRID[side])
        inp = ReportInput(category_code="E0101", lon=pos[0], lat=pos[1], description=marker,
                          address=f"{marker} road", contact=f"{marker}@example.org")
        case = submit_report(s, system, inp, runtime=runtime).case
        transition(s, system, case, "register", runtime=runtime, publish=False)
        if case_dept is not None:
            transition(s, system, case, "dispatch", runtime=runtime, publish=False,
                       department_code=case_dept)
        world.bind("case", case.id, marker)
        ids.setdefault("case", []).append(case.id)
        ids.setdefault("token", []).append(case.token)
    # accountability: a target, a project with a problem, an approval, an enterprise's lead
    target = create_target(s, system, TargetIn(
        code=f"T-{side}", name_zh=_mark("target", side, None, world, street),
        department_code=dept, area_code=street, target_value=10,
        start_date=dt.date(today.year, 1, 1), deadline=dt.date(today.year + 1, 12, 31)))
    world.bind("target", target.id, target.name_zh)
    ids["target"] = [target.id]
    project = create_project(s, system, ProjectIn(
        code=f"P-{side}", name_zh=_mark("project", side, None, world, street),
        department_code=dept, area_code=street, total_wan=100, start_year=today.year,
        end_year=today.year + 1))
    world.bind("project", project.id, project.name_zh)
    ids["project"] = [project.id]
    problem = raise_problem(s, system, project.id, ProblemIn(
        description=_mark("project", side, None, world, street), owner_department_code=dept,
        deadline=today + dt.timedelta(days=30)))
    world.bind("problem", problem.id, problem.description)
    ids["problem"] = [problem.id]
    approval = record_approval(s, system, ApprovalIn(
        code=f"A-{side}", name_zh=_mark("approval", side, None, world, street),
        department_code=dept, area_code=street,
        submitted_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3)))
    world.bind("approval", approval.id, approval.name_zh)
    ids["approval"] = [approval.id]
    enterprise = create_enterprise(s, system, EnterpriseIn(
        name_zh=_mark("lead", side, None, world, street), area_code=street))
    lead = create_lead(s, system, LeadIn(
        enterprise_id=enterprise.id, title_zh=_mark("lead", side, None, world, street),
        department_code=dept, area_code=street))
    world.bind("enterprise", enterprise.id, enterprise.name_zh)
    world.bind("lead", lead.id, lead.title_zh)
    ids["lead"] = [lead.id]
    # a help task in the street's grid cell
    task = create_task(s, system, GRID[side], _mark("task", side, None, world, GRID[side]),
                       description=_mark("task", side, None, world, GRID[side]))
    world.bind("task", task.id, task.title, task.description)
    ids["task"] = [task.id]
    # a load of the street's department, with a warning on it
    indicator = {"urban": "GOV_CASES_DUE", "market": "IND_NEW_ENTITIES"}[dept]
    frame = pd.DataFrame([{"indicator": indicator, "area_code": street + "001",
                           "period": "2025-06", "value": 3.0}])
    load = load_observations(s, runtime, system, frame, source="upload",
                             file_name=_mark("load", side, dept, world, None) + ".csv")
    world.bind("load", load.load_id, world.markers[-1].text)
    ids["load"] = [load.load_id]
    warning = AnomalyRecord(load_id=load.load_id, key=f"w-{side}", kind="jump",
                            indicator=indicator, area_code=street + "001", period="2025-06",
                            value=3.0, expected=1.0, severity=1.0, message="jump",
                            params={}, decision="pending",
                            note=_mark("warning", side, dept, world, street + "001"))
    s.add(warning)
    s.flush()
    world.bind("warning", warning.id, warning.note or "")
    ids["warning"] = [warning.id]
