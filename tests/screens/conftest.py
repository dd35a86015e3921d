"""A small district with observations and a computed index, for the screens' tests."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from citygrowth.auth.actor import system_actor
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, STREET_B, make_areas, make_user

# one annual indicator per pillar, at street level
INDICATORS = {
    "ECO_FIN_INSTITUTIONS": {STREET_A: [10, 12, 15], STREET_B: [14, 13, 13]},
    "IND_LISTED_COMPANIES": {STREET_A: [3, 4, 6], STREET_B: [5, 5, 5]},
    "APP_MUSEUMS": {STREET_A: [2, 2, 3], STREET_B: [4, 4, 4]},
    "SOC_VOLUNTEER_ORGS": {STREET_A: [20, 25, 31], STREET_B: [30, 28, 27]},
    "GOV_ILLEGAL_BUILDING_REMOVED": {STREET_A: [1.0, 2.0, 4.0], STREET_B: [3.0, 3.0, 2.5]},
}
YEARS = ("2023", "2024", "2025")
PASSWORD = "screens-pass-1"


def login(client: TestClient, user: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "login form has a CSRF token"
    r = client.post("/login", data={"username": user, "password": password,
                                    "csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text


def build_indexed(root: Path, sqlite_template: Path) -> Settings:
    """Areas, users and three years of street data in ``root``, with the index computed."""
    from citygrowth.index.service import compute_index
    from citygrowth.ingest.service import load_observations

    shutil.copy(sqlite_template, root / "citygrowth.db")
    settings = Settings(data_dir=root / "var", database_url=f"sqlite:///{root / 'citygrowth.db'}",
                        env="test", secret_key="test-secret", scheduler_enabled=False)
    settings.ensure_dirs()

    rows = [(code, street, year, float(v)) for code, by_street in INDICATORS.items()
            for street, values in by_street.items() for year, v in zip(YEARS, values,
                                                                        strict=True)]
    runtime = build_runtime(settings)
    with runtime.session() as s:
        make_areas(s)
        make_user(s, "leader", ("district_admin", DISTRICT), password=PASSWORD)
        make_user(s, "streeta", ("street_commander", STREET_A), password=PASSWORD)
        make_user(s, "resident", ("resident", DISTRICT), password=PASSWORD)
        frame = pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])
        load_observations(s, runtime, system_actor("test"), frame, source="test")
    with runtime.session() as s:
        compute_index(s, runtime, system_actor("test"), levels=("district", "street"))
    runtime.dispose()
    return settings


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Settings:
    """The indexed district, once per module: the tests only read it."""
    return build_indexed(tmp_path_factory.mktemp("screens"), sqlite_template)


@pytest.fixture
def client(indexed: Settings) -> Iterator[TestClient]:
    """A client of an app on the indexed district (replaces the default ``client``)."""
    from citygrowth.app import create_app

    with TestClient(create_app(indexed)) as c:
        yield c
