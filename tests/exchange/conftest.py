"""A running citygrowth server on loopback with a small district's observations, shared by
every exchange test of one worker, plus helpers to make a second, empty installation."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from citygrowth.auth import service as auth
from citygrowth.auth.actor import system_actor
from citygrowth.auth.identity import new_api_key
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.ingest.service import load_observations
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, STREET_B, TEST_AUDIT, make_areas
from tests.serve import serve_app

# Quarterly GDP (亿元) for the district and both streets, monthly retail sales for the
# district, all in 2024; annual financial institutions (家) for street A in 2023 and 2024.
GDP = {DISTRICT: [180.0, 185.5, 190.25, 200.85], STREET_A: [100.0, 101.5, 104.0, 110.0],
       STREET_B: [80.0, 84.0, 86.25, 90.85]}


def observations() -> pd.DataFrame:
    rows = []
    for area, values in GDP.items():
        for q, v in enumerate(values, start=1):
            rows.append(("ECO_GDP", area, f"2024-Q{q}", v))
    for m in range(1, 13):
        rows.append(("ECO_RETAIL_SALES", DISTRICT, f"2024-{m:02d}", 60.0 + m))
    rows += [("ECO_FIN_INSTITUTIONS", STREET_A, "2023", 90.0),
             ("ECO_FIN_INSTITUTIONS", STREET_A, "2024", 96.0)]
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])


@dataclass
class World:
    settings: Settings
    base_url: str
    machine_key: str
    street_key: str


def make_settings(root: Path, template: Path) -> Settings:
    root.mkdir(parents=True, exist_ok=True)
    db = root / "citygrowth.db"
    shutil.copy(template, db)
    settings = Settings(data_dir=root / "var", database_url=f"sqlite:///{db}", env="test",
                        secret_key="exchange-secret", scheduler_enabled=False,
                        log_level="ERROR")
    settings.ensure_dirs()
    return settings


def seed_areas(settings: Settings) -> None:
    """The test district's areas only (a second, empty installation)."""
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        make_areas(s)
        s.commit()
    engine.dispose()


def seed(settings: Settings) -> dict[str, str]:
    """Areas, a machine client and a street user with API keys, and the observations."""
    engine = make_engine(settings.resolved_database_url)
    keys: dict[str, str] = {}
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        make_areas(s)
        sys = system_actor("test")
        auth.create_user(s, sys, "city-platform", [auth.GrantInput("machine", DISTRICT)])
        auth.create_user(s, sys, "street-a", [auth.GrantInput("street_commander", STREET_A)],
                         password="secret-pass-1")
        keys["machine"] = auth.create_api_key(s, sys, "city-platform", "exchange")
        # a test credential for a street user (the service makes keys for officers and
        # machines only): it stands for the user's browser session
        keys["street"] = new_api_key(s, auth.get_user(s, "street-a"), "exchange")
        s.commit()
        load_observations(s, build_runtime(settings), sys, observations(), source="test")
        s.commit()
    engine.dispose()
    return keys


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    """One live server per test worker, on a loopback port of its own."""
    settings = make_settings(tmp_path_factory.mktemp("exchange-server"), sqlite_template)
    keys = seed(settings)
    with serve_app(settings, log_level="error") as url:
        yield World(settings, url, keys["machine"], keys["street"])
