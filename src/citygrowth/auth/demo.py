"""Demo users: one per role, with memorable passwords, for the demo district.

Street commanders get the first two streets under the district (by code), the grid worker and
the helper the first grid cell of the first street. The machine client (the city-level
platform) logs in with an API key only; a key is made and printed the first time.
"""

from __future__ import annotations

from dataclasses import dataclass

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth import service as svc
from citygrowth.auth.actor import Actor
from citygrowth.auth.models import ApiKey, Department, RoleGrant, User
from citygrowth.auth.passwords import hash_password, verify_password
from citygrowth.errors import NotFound
from citygrowth.i18n import N_, _
from citygrowth.runtime import Runtime

DEPARTMENTS = (
    ("stats", "统计局", "Statistics Bureau"),
    ("urban", "城管局", "Urban Management Bureau"),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str | None
    role: str
    area_code: str
    department_code: str | None = None
    display_name: str = ""


def demo_logins(session: Session, district: str) -> list[DemoLogin]:
    """The demo accounts, placed in the areas found in the store."""
    streets = list(session.scalars(
        select(Area.code).where(Area.level == "street", Area.parent_code == district)
        .order_by(Area.code).limit(2)))
    if session.get(Area, district) is None or len(streets) < 2:
        raise NotFound("Load the demo areas first: district {code} needs two streets.",
                       code=district)
    grid = session.scalar(select(Area.code).where(
        Area.level == "grid", Area.code.startswith(streets[0])).order_by(Area.code).limit(1))
    grid = grid or streets[0]
    return [
        DemoLogin("admin", "admin-demo-2026", "district_admin", district, None, "区管理员"),
        DemoLogin("analyst", "analyst-demo-2026", "analyst", district, None, "分析员"),
        DemoLogin("stats", "stats-demo-2026", "department_officer", district, "stats",
                  "统计局数据专员"),
        DemoLogin("urban", "urban-demo-2026", "department_officer", district, "urban",
                  "城管局数据专员"),
        DemoLogin("street1", "street1-demo-2026", "street_commander", streets[0], None,
                  "街道指挥中心一"),
        DemoLogin("street2", "street2-demo-2026", "street_commander", streets[1], None,
                  "街道指挥中心二"),
        DemoLogin("grid1", "grid1-demo-2026", "grid_worker", grid, None, "网格员"),
        DemoLogin("helper", "helper-demo-2026", "helper", grid, None, "志愿者"),
        DemoLogin("resident", "resident-demo-2026", "resident", district, None, "居民"),
        DemoLogin("platform", None, "machine", district, None, "市级平台"),
    ]


def ensure_departments(session: Session) -> None:
    for code, zh, en in DEPARTMENTS:
        if session.get(Department, code) is None:
            session.add(Department(code=code, name_zh=zh, name_en=en))
    session.flush()


def ensure_user(session: Session, actor: Actor, login: DemoLogin) -> bool:
    """Create the demo user or bring it back to its demo state; True when created."""
    grant = svc.GrantInput(login.role, login.area_code, login.department_code)
    user = session.scalar(select(User).where(User.username == login.username))
    if user is None:
        svc.create_user(session, actor, login.username, [grant], login.password,
                        login.display_name)
        return True
    user.active = True
    if login.password and not verify_password(user.password_hash, login.password):
        user.password_hash = hash_password(login.password)
    if not any((g.role, g.area_code, g.department_code) == (
            login.role, login.area_code, login.department_code) for g in user.grants):
        user.grants.append(RoleGrant(role=login.role, area_code=login.area_code,
                                     department_code=login.department_code))
    session.flush()
    return False


def load_demo_users(session: Session, actor: Actor, district: str) -> str | None:
    """Create every demo user; returns the machine client's API key when one was made."""
    ensure_departments(session)
    new_key = None
    for login in demo_logins(session, district):
        ensure_user(session, actor, login)
        if login.role == "machine":
            user = svc.get_user(session, login.username)
            live = session.scalar(select(ApiKey.id).where(ApiKey.user_id == user.id,
                                                          ApiKey.revoked.is_(False)))
            if live is None:
                new_key = svc.create_api_key(session, actor, login.username, "demo")
    return new_key


def run_demo_step(runtime: Runtime, actor: Actor) -> None:
    with runtime.session() as session:
        key = load_demo_users(session, actor, runtime.settings.district_code)
    if key:
        click.echo(_("API key of the machine client (shown only once): {key}").format(key=key))


DESCRIPTION = N_("Demo users, one for each role")
