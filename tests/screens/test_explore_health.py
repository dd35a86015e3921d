"""Explorer series/map and the data-health page read real loads from the observation store."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from citygrowth.auth.actor import system_actor
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.ingest.service import load_observations
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, STREET_B, make_areas, make_user


def _load(settings: Settings, rows: list[tuple[str, str, str, float]]) -> None:
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine)() as s:
        load_observations(s, settings, system_actor("test"),
                          pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"]),
                          source="test")
        s.commit()
    engine.dispose()


@pytest.fixture
def world(settings: Settings) -> dict[str, str]:
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine)() as s:
        make_areas(s)
        make_user(s, "analyst", ("analyst", DISTRICT), password="analyst-pass-1")
        make_user(s, "resident", ("resident", DISTRICT), password="resident-pass-1")
        s.commit()
    engine.dispose()
    _load(settings, [
        ("ECO_FIN_INSTITUTIONS", STREET_A, "2024", 10.0),
        ("ECO_FIN_INSTITUTIONS", STREET_B, "2024", 14.0),
        ("ECO_FIN_INSTITUTIONS", STREET_A, "2025", 12.0),
        ("ECO_FIN_INSTITUTIONS", STREET_B, "2025", 13.0),
    ])
    return {"analyst": "analyst-pass-1"}


def _login(client: TestClient, user: str, password: str) -> None:
    client.headers["X-API-Key"] = ""
    del client.headers["X-API-Key"]
    page = client.get("/login")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    r = client.post("/login", data={"username": user, "password": password,
                                    "csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text


def test_series_aligns_periods_and_names_its_source(client: TestClient, world: dict) -> None:
    _login(client, "analyst", world["analyst"])
    r = client.get(f"/api/explore/series?indicator=ECO_FIN_INSTITUTIONS&areas={STREET_A},{STREET_B}")
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["periods"] == ["2024", "2025"]
    assert [s["values"] for s in d["series"]] == [[10.0, 12.0], [14.0, 13.0]]
    assert d["indicator"]["unit"] == "家" and d["indicator"]["citation"]
    assert d["option"]["series"][0]["data"] == [10.0, 12.0]
    csv = client.get(f"/api/explore/series?indicator=ECO_FIN_INSTITUTIONS&areas={STREET_A}"
                     "&format=csv")
    assert csv.status_code == 200 and "ECO_FIN_INSTITUTIONS" in csv.content.decode("utf-8-sig")


def test_map_takes_the_latest_period(client: TestClient, world: dict) -> None:
    _login(client, "analyst", world["analyst"])
    d = client.get(f"/api/explore/map?indicator=ECO_FIN_INSTITUTIONS&level=street"
                   f"&parent={DISTRICT}").json()
    assert d["period"] == "2025"
    assert {i["code"]: i["value"] for i in d["items"]} == {STREET_A: 12.0, STREET_B: 13.0}
    xlsx = client.get(f"/api/explore/map?indicator=ECO_FIN_INSTITUTIONS&parent={DISTRICT}"
                      "&format=xlsx")
    assert xlsx.content[:2] == b"PK"


def test_bad_requests_get_clear_errors(client: TestClient, world: dict) -> None:
    _login(client, "analyst", world["analyst"])
    r = client.get("/api/explore/series?indicator=NOPE&areas=370203")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.get("/api/explore/series?indicator=ECO_GDP&areas=370203999")
    assert r.status_code == 404 and "370203999" in r.json()["error"]
    r = client.get("/api/explore/series?indicator=ECO_GDP&areas=abc")
    assert r.status_code == 422


def test_anonymous_is_sent_to_login_and_api_refuses(client: TestClient) -> None:
    r = client.get("/explore", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert client.get("/api/explore/map?indicator=ECO_GDP").status_code == 401


def test_data_health_lists_late_indicators_and_departments(
    client: TestClient, world: dict, sqlite_session: Session
) -> None:
    _login(client, "analyst", world["analyst"])
    d = client.get("/api/data/health").json()
    rows = {r["indicator"]: r for r in d["indicators"]}
    assert rows["ECO_FIN_INSTITUTIONS"]["last_period"] == "2025"
    assert rows["ECO_GDP"]["stale"] is True  # never loaded
    assert any(dep["department"] == rows["ECO_GDP"]["department"] for dep in d["departments"])
    page = client.get("/data/health")
    assert page.status_code == 200 and "数据健康" in page.text
