"""A small district with data in every domain the API serves, and keys of several roles.

``site`` migrates a temporary store, makes the factories' district (two streets, eight grid
cells) with departments, the case taxonomy and users, then fills it through the API itself:
reported and registered cases, pushed observations, a target with progress, a key project, an
approval, an enterprise with a lead, a help task and a dispatch rule. Operations that destroy
something are aimed at objects made for that (a user and a key nobody else needs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from citygrowth.app import create_app
from citygrowth.auth import service as auth
from citygrowth.auth.identity import new_api_key
from citygrowth.db import make_engine, make_sessionmaker, upgrade
from citygrowth.governance.taxonomy import ensure_taxonomy
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, STREET_B, make_areas, make_department, make_user

GRID_A = STREET_A + "001001"
POS_A = (120.305, 36.055)  # inside GRID_A
ROLES: dict[str, tuple[str, ...]] = {
    "admin": ("district_admin", DISTRICT),
    "urban": ("department_officer", DISTRICT, "urban"),
    "stats": ("department_officer", DISTRICT, "stats"),
    "machine": ("machine", DISTRICT),
    "cmd_b": ("street_commander", STREET_B),
    "grid": ("grid_worker", GRID_A),
    "resident": ("resident", DISTRICT),
    "victim": ("department_officer", DISTRICT, "market"),
}
DEPARTMENTS = ("urban", "stats", "market", "civil", "education", "ndrc", "science")


@dataclass
class Site:
    """The app, its settings, a key per role and the ids of what was made."""

    app: FastAPI
    settings: Settings
    keys: dict[str, str]
    ids: dict[str, Any] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who]}


def make_settings(root: Path) -> Settings:
    return Settings(data_dir=root / "var", database_url=f"sqlite:///{root / 'cg.db'}",
                    env="test", secret_key="api-test-secret", scheduler_enabled=False,
                    log_level="ERROR")


def seed_store(settings: Settings) -> dict[str, str]:
    """Areas, departments, the taxonomy and one user per role; their API keys."""
    settings.ensure_dirs()
    upgrade(settings.resolved_database_url)
    runtime = build_runtime(settings)
    engine = make_engine(settings.resolved_database_url)
    keys: dict[str, str] = {}
    with make_sessionmaker(engine)() as s:
        make_areas(s)
        for code in DEPARTMENTS:
            make_department(s, code, code, code)
        ensure_taxonomy(s, runtime)
        for name, grant in ROLES.items():
            user, _ = make_user(s, name, grant)  # type: ignore[arg-type]
            keys[name] = new_api_key(s, user, name)
        keys["spare"] = new_api_key(s, auth.get_user(s, "victim"), "spare")
        s.commit()
    engine.dispose()
    runtime.dispose()
    return keys


def fill_through_api(c: TestClient, site: Site) -> None:
    """What a district does in a day, through the API (each answer checked)."""
    admin, ids = site.h("admin"), site.ids
    today = dt.date.today()

    def ok(r: Any) -> Any:
        assert r.status_code in (200, 201), r.text
        return r.json()

    for i in range(3):
        ack = ok(c.post("/api/cases", headers=admin, json={
            "category_code": "E0101", "lon": POS_A[0], "lat": POS_A[1],
            "description": f"垃圾 {i}", "source": "api"}))
        ids.setdefault("cases", []).append(ack["id"])
        ids["token"] = ack["token"]
    ids["case_id"] = ids["cases"][0]
    ok(c.post(f"/api/cases/{ids['case_id']}/actions/register", headers=admin, json={}))
    ok(c.post("/api/ingest/stats", headers=site.h("stats"), json=[
        {"indicator": "ECO_GDP", "area_code": street, "period": f"2025-Q{q}",
         "value": 10 + q + n, "unit": "亿元"}
        for n, street in enumerate((STREET_A, STREET_B)) for q in range(1, 5)]))
    ids["load_id"] = ok(c.get("/api/ingest/loads", headers=admin))["items"][0]["load_id"]
    ids["run_id"] = ok(c.post("/api/index/runs", headers=admin, json={}))["run"]["id"]
    target = ok(c.post("/api/accountability/targets", headers=admin, json={
        "code": "T-API", "name_zh": "新建学校", "department_code": "education",
        "area_code": DISTRICT, "target_value": 10, "baseline": 0,
        "start_date": str(today.replace(month=1, day=1)),
        "deadline": str(today.replace(year=today.year + 1, month=12, day=31))}))
    ids["target_id"], ids["target_code"] = target["id"], target["code"]
    ok(c.post(f"/api/accountability/targets/{target['id']}/progress", headers=admin,
              json={"reported_on": str(today), "value": 3}))
    project = ok(c.post("/api/accountability/projects", headers=admin, json={
        "code": "P-API", "name_zh": "示例项目", "department_code": "ndrc",
        "area_code": STREET_A, "total_wan": 10000, "start_year": today.year,
        "end_year": today.year + 2}))
    ids["project_id"] = project["id"]
    approval = ok(c.post("/api/accountability/approvals", headers=admin, json={
        "code": "A-API", "name_zh": "示例审批", "department_code": "ndrc",
        "area_code": STREET_A, "submitted_at": f"{today}T09:00:00+08:00"}))
    ids["item_id"] = approval["id"]
    enterprise = ok(c.post("/api/accountability/enterprises", headers=admin, json={
        "name_zh": "示例企业", "area_code": STREET_A}))
    lead = ok(c.post("/api/accountability/leads", headers=admin, json={
        "enterprise_id": enterprise["id"], "title_zh": "落户项目", "department_code": "science",
        "area_code": STREET_A}))
    ids["enterprise_id"], ids["lead_id"] = enterprise["id"], lead["id"]
    rule = ok(c.post("/api/admin/cases/rules", headers=admin, json={
        "category_code": "E01", "area_prefix": STREET_B, "department_code": "urban"}))
    ids["rule_id"] = rule["rule"]["id"]
    keys = ok(c.get("/api/auth/users/victim/keys", headers=admin))["items"]
    ids["key_id"] = keys[-1]["id"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = make_settings(tmp_path_factory.mktemp("api-site"))
    keys = seed_store(settings)
    app = create_app(settings)
    out = Site(app, settings, keys)
    with TestClient(app) as c:
        fill_through_api(c, out)
    yield out
