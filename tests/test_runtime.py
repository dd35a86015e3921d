"""One app, one Runtime: two apps built in one process keep their own configuration.

Each app gets the time zone, data folder, plugins and frameworks of its own settings; nothing
leaks through a module global (the month boundary of the Governance pillar, an approval's
working days and the framework in force all follow the app that computes them).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from citygrowth.app import create_app
from citygrowth.auth.actor import system_actor
from citygrowth.catalog.framework import DEFAULT_FILE
from citygrowth.governance.evaluation import evaluate
from citygrowth.governance.intake import ReportInput, submit_report
from citygrowth.index.publish import publish_framework
from citygrowth.runtime import Runtime
from citygrowth.settings import Settings
from tests.factories import DISTRICT, make_department
from tests.governance.conftest import POS_A, seed_store

SHANGHAI, LONDON = "Asia/Shanghai", "Europe/London"
# 2026-10-31 18:00 UTC: 1 November 02:00 in Shanghai, still 31 October in London
REPORTED = dt.datetime(2026, 10, 31, 18, 0, tzinfo=dt.UTC)


def _app(root: Path, template: Path, tz: str) -> FastAPI:
    root.mkdir()
    shutil.copy(template, root / "citygrowth.db")
    settings = Settings(data_dir=root / "var", database_url=f"sqlite:///{root / 'citygrowth.db'}",
                        env="test", secret_key="test-secret", scheduler_enabled=False,
                        timezone=tz)
    app = create_app(settings)
    keys = seed_store(app.state.runtime.sessionmaker)
    app.state.keys = keys
    with app.state.runtime.session() as s:
        make_department(s, "ndrc", "发改局", "Development and Reform")
    return app


@pytest.fixture
def two(tmp_path: Path, sqlite_template: Path) -> tuple[FastAPI, FastAPI]:
    return (_app(tmp_path / "shanghai", sqlite_template, SHANGHAI),
            _app(tmp_path / "london", sqlite_template, LONDON))


def _runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


def test_each_app_counts_governance_months_in_its_own_zone(
        two: tuple[FastAPI, FastAPI]) -> None:
    reported: dict[str, dict[str, float]] = {}
    for app in two:
        rt = _runtime(app)
        with rt.session() as s:
            submit_report(s, system_actor("test"), ReportInput(
                "E0101", lon=POS_A[0], lat=POS_A[1], description="垃圾"), runtime=rt,
                at=REPORTED)
            df = evaluate(s, system_actor("test"), ["2026-10", "2026-11"], rt.calendar)
        district = df[(df["level"] == "district") & (df["code"] == DISTRICT)]
        reported[rt.settings.timezone] = dict(zip(district["month"], district["reported"],
                                                  strict=True))
    assert reported[SHANGHAI].get("2026-11") == 1 and not reported[SHANGHAI].get("2026-10")
    assert reported[LONDON].get("2026-10") == 1 and not reported[LONDON].get("2026-11")


def test_each_app_times_approvals_in_its_own_zone(two: tuple[FastAPI, FastAPI]) -> None:
    # submitted Thursday 26 Nov 20:00 UTC, approved Friday 27 Nov 20:00 UTC: in Shanghai that
    # is Friday 04:00 to Saturday 04:00 (no working day in between), in London Thursday to
    # Friday (one working day)
    body = {"code": "AP-TZ-1", "name_zh": "时区测试", "department_code": "ndrc",
            "area_code": DISTRICT, "submitted_at": "2026-11-26T20:00:00Z",
            "approved_at": "2026-11-27T20:00:00Z"}
    days = {}
    for app in two:
        with TestClient(app) as client:
            r = client.post("/api/accountability/approvals", json=body,
                            headers={"X-API-Key": app.state.keys["admin"]})
            assert r.status_code == 201, r.text
            days[_runtime(app).settings.timezone] = r.json()["working_days"]
    assert days == {SHANGHAI: 0, LONDON: 1}


def test_each_app_has_its_own_framework_in_force(two: tuple[FastAPI, FastAPI]) -> None:
    shanghai, london = (_runtime(a) for a in two)
    doc = yaml.safe_load(DEFAULT_FILE.read_text("utf-8"))
    doc["version"] = "2026.8"
    with shanghai.session() as s:
        publish_framework(s, shanghai, system_actor("test"), yaml.safe_dump(doc))
    assert shanghai.frameworks.load().version == "2026.8"
    assert london.frameworks.load().version == london.frameworks.builtin.version
    assert (shanghai.data_dir / "frameworks" / "active.yaml").exists()
    assert not (london.data_dir / "frameworks").exists() or \
        not (london.data_dir / "frameworks" / "active.yaml").exists()
    for app in two:  # and each app's pages say so
        with TestClient(app) as client:
            version = client.get("/api/catalog/framework").json()["version"]
            assert version == _runtime(app).frameworks.load().version
