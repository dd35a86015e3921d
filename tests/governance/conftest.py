"""A small governed district: areas, departments, the default taxonomy and one actor per role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor, system_actor
from citygrowth.governance.intake import ReportInput, submit_report
from citygrowth.governance.models import Case
from citygrowth.governance.taxonomy import ensure_taxonomy
from tests.factories import DISTRICT, STREET_A, STREET_B, make_areas, make_department, make_user

GRID_A = STREET_A + "001001"  # lon 120.30–120.31, lat 36.05–36.06
GRID_B = STREET_B + "001001"  # lon 120.34–120.35, lat 36.05–36.06
POS_A = (120.305, 36.055)
POS_B = (120.345, 36.055)
DEPTS = ("urban", "housing", "ecology", "market", "civil")


@dataclass
class World:
    session: Session
    actors: dict[str, Actor]
    system: Actor

    def report(self, pos: tuple[float, float] = POS_A, category: str = "E0101",
               actor: Actor | None = None, **kw: object) -> Case:
        inp = ReportInput(category_code=category, lon=pos[0], lat=pos[1],
                          description=str(kw.pop("description", "垃圾")), **kw)  # type: ignore[arg-type]
        return submit_report(self.session, actor or self.actors["worker_a"], inp,
                             district_code=DISTRICT).case


def build_world(session: Session) -> World:
    make_areas(session)
    for d in DEPTS:
        make_department(session, d, d, d)
    ensure_taxonomy(session)
    actors: dict[str, Actor] = {}
    for name, grants in {
        "admin": [("district_admin", DISTRICT)],
        "cmd_a": [("street_commander", STREET_A)],
        "cmd_b": [("street_commander", STREET_B)],
        "urban": [("department_officer", DISTRICT, "urban")],
        "market": [("department_officer", DISTRICT, "market")],
        "worker_a": [("grid_worker", GRID_A)],
        "worker_b": [("grid_worker", GRID_B)],
        "analyst": [("analyst", DISTRICT)],
        "helper": [("helper", GRID_A)],
        "resident": [("resident", DISTRICT)],
        "machine": [("machine", DISTRICT)],
    }.items():
        actors[name] = make_user(session, name, *grants)[1]  # type: ignore[arg-type]
    session.flush()
    return World(session, actors, system_actor("test"))


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


@pytest.fixture
def sworld(sqlite_session: Session) -> World:
    return build_world(sqlite_session)
