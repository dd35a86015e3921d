"""A real server on a small demo world for the screens' browser tests.

The demo district's areas and users (``load_demo``), then three years of observations for a
few indicators of every pillar at street level and two at community level; district GDP by
quarter (a key figure), the on-time case rate by month up to a month still running (whose low
month-to-date value must not be shown), a target that follows the on-time rate and a key
project; and the index computed for streets and communities. Small on purpose: the whole world
builds in a few seconds.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.models import ProgressReport
from citygrowth.accountability.projects import apply_project
from citygrowth.accountability.schemas import ProjectIn, TargetIn
from citygrowth.accountability.targets import apply_target
from citygrowth.areas.models import Area
from citygrowth.auth.actor import system_actor
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.browser import DemoServer, load_demo
from tests.factories import TEST_AUDIT
from tests.serve import serve_app

DISTRICT = "370203"
YEARS = ("2023", "2024", "2025")
# street-level indicators (two per pillar) and community-level ones
STREET_INDICATORS = (
    "ECO_FIN_INSTITUTIONS", "ECO_KEY_PROJECT_INVEST",
    "IND_LISTED_COMPANIES", "IND_HIGHTECH_FIRMS",
    "APP_MUSEUMS", "APP_GREEN_COVERAGE",
    "SOC_VOLUNTEER_ORGS", "SOC_ELDERLY_BEDS",
    "GOV_ILLEGAL_BUILDING_REMOVED", "GOV_APPROVAL_DAYS",
)
COMMUNITY_INDICATORS = ("APP_OLD_COMPOUNDS_RENOVATED", "IND_MARKET_ENTITIES")
# district figures with a target in the catalog
DISTRICT_FIGURES = {"ECO_GDP_GROWTH": (5.1, 5.8, 6.2), "SOC_SCHOOLS_BUILT": (12, 15, 18)}
GDP_QUARTER = 150.0  # district GDP of every quarter of YEARS (a key figure, summed by year)
ONTIME_MONTHS = (93.0, 94.0, 96.5)  # the last three complete months; the running one: 40.0
ONTIME_RUNNING = 40.0
ADMIN = ("admin", "admin-demo-2026")
ANALYST = ("analyst", "analyst-demo-2026")


@dataclass
class ScreensServer(DemoServer):
    streets: list[dict[str, str]]
    stats_key: str


def _value(code: str, area: str, year_index: int) -> float:
    """A deterministic, varied value per indicator, area and year."""
    seed = sum(ord(ch) for ch in code) + int(area[-3:]) * 7 + int(area[6:9]) * 3
    base = 5 + seed % 40
    return round(base * (1 + 0.08 * year_index) + (seed % 5) * year_index, 2)


def _frame(codes: tuple[str, ...], areas: list[str], periods: tuple[str, ...]) -> pd.DataFrame:
    rows = [(c, a, p, _value(c, a, i)) for c in codes for a in areas
            for i, p in enumerate(periods)]
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])


def _period(code: str, year: str) -> str:
    from citygrowth.catalog.framework import builtin_framework

    freq = builtin_framework().indicator(code).frequency
    return {"A": year, "Q": f"{year}Q4", "M": f"{year}-12"}[freq]


def build_world(settings: Settings) -> tuple[list[dict[str, str]], str]:
    """Load the world into ``settings``' data folder; returns the streets and an API key of
    the statistics department's officer (for pushing new data)."""
    from citygrowth.auth import service as auth_svc
    from citygrowth.index.service import compute_index
    from citygrowth.ingest.service import load_observations

    load_demo(settings)
    runtime = build_runtime(settings)
    actor = system_actor("test")
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        areas = list(s.scalars(select(Area).where(Area.code.startswith(DISTRICT))))
        streets = sorted(a.code for a in areas if a.level == "street")
        communities = sorted(a.code for a in areas if a.level == "community")
        frames = []
        for code in STREET_INDICATORS:
            f = _frame((code,), streets, YEARS)
            f["period"] = f["period"].map(lambda y, c=code: _period(c, y))
            frames.append(f)
        for code in COMMUNITY_INDICATORS:
            f = _frame((code,), communities, YEARS)
            f["period"] = f["period"].map(lambda y, c=code: _period(c, y))
            frames.append(f)
        for code, values in DISTRICT_FIGURES.items():
            frames.append(pd.DataFrame(
                [(code, DISTRICT, _period(code, y), float(v)) for y, v in zip(YEARS, values,
                                                                             strict=True)],
                columns=["indicator", "area_code", "period", "value"]))
        frames.append(district_series(dt.date.today()))
        load_observations(s, runtime, actor, pd.concat(frames, ignore_index=True),
                          source="test")
        add_target_and_project(s, dt.date.today())
        key = auth_svc.create_api_key(s, actor, "stats", "browser-test")
        s.commit()
        info = [{"code": a.code, "name_zh": a.name_zh, "name_en": a.name_en or a.name_zh}
                for a in sorted(areas, key=lambda a: a.code) if a.level == "street"]
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        compute_index(s, runtime, actor, levels=("street", "community"))
        s.commit()
    engine.dispose()
    runtime.dispose()
    return info, key


def district_series(today: dt.date) -> pd.DataFrame:
    """GDP by quarter of YEARS, and the on-time case rate of the last three complete months
    and of the month still running."""
    rows = [("ECO_GDP", DISTRICT, f"{y}-Q{q}", GDP_QUARTER) for y in YEARS for q in range(1, 5)]
    month = dt.date(today.year, today.month, 1)
    for back, value in ((3, ONTIME_MONTHS[0]), (2, ONTIME_MONTHS[1]), (1, ONTIME_MONTHS[2]),
                        (0, ONTIME_RUNNING)):
        m = (month.year * 12 + month.month - 1) - back
        rows.append(("GOV_CASE_ONTIME_RATE", DISTRICT, f"{m // 12}-{m % 12 + 1:02d}", value))
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])


def add_target_and_project(session: Session, today: dt.date) -> None:
    """A target to keep the on-time rate at or above 95 % (two reports above it) and one key
    project of 12.5 亿元."""
    start = today - dt.timedelta(days=200)
    target = apply_target(session, TargetIn(
        code="T-ONTIME", name_zh="按期结案率保持95%以上", name_en="Keep cases closed on time "
        "at 95% or more", department_code="urban", area_code=DISTRICT, unit_zh="%",
        baseline=93.0, target_value=95.0, kind="hold_above", start_date=start,
        deadline=today + dt.timedelta(days=160), indicator_code="GOV_CASE_ONTIME_RATE"))
    target.reports = [ProgressReport(reported_on=start + dt.timedelta(days=d), value=v,
                                     reported_by="test")
                      for d, v in ((60, 95.5), (120, 96.0), (180, 96.5))]
    apply_project(session, ProjectIn(
        code="P-TEST", name_zh="测试重点项目", department_code="ndrc", area_code=DISTRICT,
        industry="blue_economy", stage="construction", total_wan=125_000, start_year=today.year,
        end_year=today.year + 2))


@pytest.fixture(scope="session")
def screens_server(tmp_path_factory: pytest.TempPathFactory,
                   sqlite_template: Path) -> Iterator[ScreensServer]:
    root = tmp_path_factory.mktemp("screens-server")
    shutil.copy(sqlite_template, root / "citygrowth.db")  # migrated once per worker
    settings = Settings(data_dir=root / "var", database_url=f"sqlite:///{root / 'citygrowth.db'}",
                        env="test", secret_key="screens-browser-secret",
                        scheduler_enabled=False, log_level="WARNING")
    streets, key = build_world(settings)
    shots = root / "screenshots"
    shots.mkdir()
    with serve_app(settings) as url:
        yield ScreensServer(url, settings, shots, streets, key)
