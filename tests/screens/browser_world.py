"""A real server on a small demo world for the screens' browser tests.

The demo district's areas and users (``load_demo``), then three years of observations for a
few indicators of every pillar at street level and two at community level, two district
figures with targets (key-figure tiles), and the index computed for streets and communities.
Small on purpose: the whole world builds in a few seconds.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from citygrowth.areas.models import Area
from citygrowth.auth.actor import system_actor
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.settings import Settings
from tests.browser import DemoServer, load_demo
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
# district figures with a target in the catalog: they become key-figure tiles
DISTRICT_FIGURES = {"ECO_GDP_GROWTH": (5.1, 5.8, 6.2), "SOC_SCHOOLS_BUILT": (12, 15, 18)}
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
    actor = system_actor("test")
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine)() as s:
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
        load_observations(s, settings, actor, pd.concat(frames, ignore_index=True),
                          source="test")
        key = auth_svc.create_api_key(s, actor, "stats", "browser-test")
        s.commit()
        info = [{"code": a.code, "name_zh": a.name_zh, "name_en": a.name_en or a.name_zh}
                for a in sorted(areas, key=lambda a: a.code) if a.level == "street"]
    with make_sessionmaker(engine)() as s:
        compute_index(s, settings, actor, levels=("street", "community"))
        s.commit()
    engine.dispose()
    return info, key


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
