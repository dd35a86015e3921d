"""Factories for test data: a small area tree, users with grants, departments."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import AUDIT_KEY, anchor_key
from citygrowth.auth.identity import actor_for_user
from citygrowth.auth.models import Department, RoleGrant, User
from citygrowth.auth.passwords import hash_password
from citygrowth.settings import Settings

DISTRICT = "370203"
STREET_A = "370203001"
STREET_B = "370203002"

#: the secret of the tests' settings; sessions the tests open directly on an app's store sign
#: the audit chain's anchor with the same key as that app (``auth/audit.py``)
TEST_SECRET = "test-secret"
TEST_AUDIT = {AUDIT_KEY: anchor_key(Settings(secret_key=TEST_SECRET))}


def _square(lon: float, lat: float, size: float) -> str:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size],
            [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def make_areas(session: Session) -> dict[str, Area]:
    """District 370203 with two streets, each with two communities of two grid cells.

    Geometry: squares on a 0.01° lattice starting at (120.30, 36.05); street A is west of B.
    """
    areas: dict[str, Area] = {}

    def add(code: str, level: str, parent: str | None, zh: str, en: str, lon: float,
            lat: float, size: float, pop: int) -> None:
        a = Area(code=code, level=level, parent_code=parent, name_zh=zh, name_en=en,
                 geometry=_square(lon, lat, size), population=pop, area_km2=size * size * 1e4,
                 centroid_lon=lon + size / 2, centroid_lat=lat + size / 2,
                 illustrative=True, source="test")
        session.add(a)
        areas[code] = a

    add(DISTRICT, "district", None, "测试区", "Test District", 120.30, 36.05, 0.08, 8000)
    session.flush()
    for si, street in enumerate((STREET_A, STREET_B)):
        add(street, "street", DISTRICT, f"街道{si + 1}", f"Street {si + 1}",
            120.30 + 0.04 * si, 36.05, 0.04, 4000)
        session.flush()
        for ci in range(2):
            comm = f"{street}{ci + 1:03d}"
            add(comm, "community", street, f"社区{si + 1}-{ci + 1}", f"Community {si + 1}-{ci + 1}",
                120.30 + 0.04 * si + 0.02 * ci, 36.05, 0.02, 2000)
            session.flush()
            for gi in range(2):
                add(f"{comm}{gi + 1:03d}", "grid", comm, f"网格{si + 1}-{ci + 1}-{gi + 1}",
                    f"Grid {si + 1}-{ci + 1}-{gi + 1}", 120.30 + 0.04 * si + 0.02 * ci,
                    36.05 + 0.01 * gi, 0.01, 1000)
    session.flush()
    return areas


def make_department(session: Session, code: str = "urban", zh: str = "城管局",
                    en: str = "Urban Management Bureau") -> Department:
    dept = session.get(Department, code)
    if dept is None:
        dept = Department(code=code, name_zh=zh, name_en=en)
        session.add(dept)
        session.flush()
    return dept


def make_user(session: Session, username: str, *grants: tuple[str, str] | tuple[str, str, str],
              password: str = "secret-pass-1") -> tuple[User, Actor]:
    """A user with grants given as (role, area_code[, department_code])."""
    user = User(username=username, display_name=username, password_hash=hash_password(password))
    for g in grants:
        dept = g[2] if len(g) > 2 else None  # type: ignore[misc]
        if dept:
            make_department(session, dept, dept, dept)
        user.grants.append(RoleGrant(role=g[0], area_code=g[1], department_code=dept))
    session.add(user)
    session.flush()
    session.refresh(user)
    return user, actor_for_user(user)


def local_today(tz: str = "Asia/Shanghai") -> dt.date:
    """Today in the demo district's zone (the default ``Settings.timezone``)."""
    return dt.datetime.now(ZoneInfo(tz)).date()
