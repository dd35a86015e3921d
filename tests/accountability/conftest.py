"""Fixtures of the accountability tests: the domain's plugin registered, departments, users."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from citygrowth.accountability.demo import seed_demo
from citygrowth.accountability.schemas import TargetIn
from citygrowth.accountability.targets import create_target
from citygrowth.auth.actor import system_actor
from citygrowth.auth.identity import new_api_key
from citygrowth.auth.models import RoleGrant, User
from citygrowth.db import make_engine, make_sessionmaker
from tests.factories import DISTRICT, STREET_A, TEST_AUDIT, local_today, make_areas, make_department

DEPTS = (("education", "教体局"), ("housing", "住建局"), ("urban", "城管局"), ("health", "卫健局"),
         ("science", "科技局"), ("industry", "经信局"), ("invest", "投资促进局"),
         ("ndrc", "发改局"), ("civil", "民政局"), ("hrss", "人社局"), ("finance", "财政局"),
         ("market", "市场监管局"))


def setup_district(session: Session) -> None:
    make_areas(session)
    for code, zh in DEPTS:
        make_department(session, code, zh, code.title())


def school_target(session: Session, **over: Any) -> Any:
    data = {"code": "T-SCHOOLS", "name_zh": "三年新建学校20所", "name_en": "20 new schools",
            "department_code": "education", "co_owners": ["housing"], "area_code": DISTRICT,
            "baseline": 0, "target_value": 20, "start_date": dt.date(2025, 1, 1),
            "deadline": dt.date(2027, 12, 31),
            "milestones": [{"due_date": dt.date(2026, 12, 15), "planned_value": 12,
                            "title_zh": "年度节点"}]}
    data.update(over)
    return create_target(session, system_actor(), TargetIn(**data))


# users of the seeded store: name → (role, department, area)
USERS = {"admin": ("district_admin", None, DISTRICT), "analyst": ("analyst", None, DISTRICT),
         "edu": ("department_officer", "education", DISTRICT),
         "urban": ("department_officer", "urban", DISTRICT),
         "science": ("department_officer", "science", DISTRICT),
         "industry": ("department_officer", "industry", DISTRICT),
         "streeta": ("street_commander", None, STREET_A)}


def _user(session: Session, name: str, role: str, dept: str | None, area: str) -> str:
    user = User(username=name, display_name=name, password_hash=None)
    user.grants.append(RoleGrant(role=role, area_code=area, department_code=dept))
    session.add(user)
    session.flush()
    return new_api_key(session, user, "test")


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory,
                    sqlite_template: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    """The demo (as of today) loaded once per test worker into a copy of the migrated store,
    with users; returns the file and each user's API-key header."""
    path = tmp_path_factory.mktemp("accountability") / "seeded.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        setup_district(s)
        seed_demo(s, system_actor("demo"), DISTRICT, local_today(), ZoneInfo("Asia/Shanghai"))
        keys = {n: {"X-API-Key": _user(s, n, *v)} for n, v in USERS.items()}
        s.commit()
    with engine.connect() as c:
        c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path, keys


@pytest.fixture
def seeded_sqlite_url(tmp_path: Path, seeded_template: tuple[Path, dict[str, Any]]) -> str:
    """A fresh copy of the seeded store (modules use it to override ``sqlite_url``)."""
    path = tmp_path / "citygrowth.db"
    shutil.copy(seeded_template[0], path)
    return f"sqlite:///{path}"
