"""Against the real system: loads go into a temporary store through ``load_observations``;
the briefing's figures are checked against the store; load-time anomaly checks; the web
pages and API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from citygrowth.analysis.briefing.service import make_briefing
from citygrowth.analysis.service import anomalies_for_load, check_load_frame, forecast_for
from citygrowth.auth.actor import system_actor
from citygrowth.auth.identity import new_api_key
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.ingest.service import load_observations
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import Runtime
from tests.analysis.synth import months
from tests.factories import DISTRICT, STREET_A, STREET_B, make_areas, make_user

SYS = system_actor("test")
MONTHS = months("2023-01", 46)  # up to 2026-10


def history(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for area, scale in ((DISTRICT, 2.0), (STREET_A, 1.0), (STREET_B, 1.0)):
        for i, m in enumerate(MONTHS):
            season = 1 + 0.1 * np.sin(2 * np.pi * i / 12)
            rows.append(("ECO_RETAIL_SALES", area, m,
                         round(scale * 30 * 1.005**i * season * np.exp(rng.normal(0, .01)), 4)))
    for i, m in enumerate(MONTHS):
        rows.append(("APP_PM25", DISTRICT, m, round(35 - 0.1 * i + rng.normal(0, 0.5), 3)))
        rows.append(("GOV_CASE_SATISFACTION", DISTRICT, m, round(90 + rng.normal(0, 1), 2)))
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])


def _setup(session: Session, runtime: Runtime) -> None:
    make_areas(session)
    load_observations(session, runtime, SYS, history(), source="test")
    session.commit()


def test_briefing_figures_equal_the_store(sqlite_session: Session, runtime: Runtime) -> None:
    settings = runtime.settings
    _setup(sqlite_session, runtime)
    rec = make_briefing(sqlite_session, SYS, runtime, DISTRICT, "2026-10", "en",
                        formats=("json",))
    from citygrowth.analysis.briefing.service import briefing_json

    data = briefing_json(rec)
    store = ObservationStore(settings)
    checked = 0
    for fig in data["figures"].values():
        src = fig["source"]
        if src["kind"] != "observation":
            continue
        q = fig["query"]
        rows = store.query(indicators=q["indicators"], area_codes=q["area_codes"],
                           start=q["start"], end=q["end"])
        assert len(rows) == 1
        assert float(rows["value"].iloc[0]) == fig["value"]
        assert str(rows["vintage"].iloc[0]) == src["vintage"]
        checked += 1
    assert checked >= 4
    text = " ".join(s["text"] for sec in data["sections"] for s in sec["sentences"])
    assert "Resident satisfaction" in text or "satisfaction" in text.lower()
    assert (settings.data_dir / "exports" / "briefings" / DISTRICT / "2026-10" / "en"
            / "briefing.json").exists()


def test_load_time_check_catches_a_unit_slip_and_keeps_clean_data(
        sqlite_session: Session, runtime: Runtime) -> None:
    _setup(sqlite_session, runtime)
    clean = pd.DataFrame([("ECO_RETAIL_SALES", STREET_A, "2026-11", 36.0),
                          ("ECO_RETAIL_SALES", STREET_B, "2026-11", 36.5)],
                         columns=["indicator", "area_code", "period", "value"])
    assert check_load_frame(sqlite_session, runtime, clean) == []
    slipped = clean.assign(value=[36.0 * 10000, 36.5])
    warnings = check_load_frame(sqlite_session, runtime, slipped)
    assert [(w.kind, w.area_code) for w in warnings] == [("unit_slip", STREET_A)]


def test_anomalies_of_an_accepted_load_are_kept_and_decided(
        sqlite_session: Session, runtime: Runtime) -> None:
    _setup(sqlite_session, runtime)
    spike = pd.DataFrame([("APP_PM25", DISTRICT, "2026-11", 90.0)],
                         columns=["indicator", "area_code", "period", "value"])
    res = load_observations(sqlite_session, runtime, SYS, spike, source="test")
    sqlite_session.commit()
    rows = anomalies_for_load(sqlite_session, SYS, runtime, res.load_id)
    assert [(r.kind, r.period) for r in rows] == [("jump", "2026-11")]
    from citygrowth.analysis.service import decide_anomaly

    done = decide_anomaly(sqlite_session, SYS, rows[0].id, "returned", "please check")
    assert done.decision == "returned" and done.decided_by == "test"


def test_forecast_from_the_store(sqlite_session: Session, runtime: Runtime) -> None:
    _setup(sqlite_session, runtime)
    fc = forecast_for(sqlite_session, SYS, runtime, "APP_PM25", DISTRICT, 3)
    assert fc.periods == ["2026-11", "2026-12", "2027-01"]
    assert 28 < fc.mean[0] < 34 and fc.lower95[0] < fc.mean[0] < fc.upper95[0]


@pytest.fixture
def api(runtime: Runtime) -> dict[str, dict[str, str]]:
    settings = runtime.settings
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine)() as s:
        _setup(s, runtime)
        admin, _a = make_user(s, "analyst1", ("analyst", DISTRICT))
        street, _b = make_user(s, "streetb", ("street_commander", STREET_B))
        keys = {"analyst": new_api_key(s, admin, "t"), "street": new_api_key(s, street, "t")}
        s.commit()
    engine.dispose()
    return {k: {"X-API-Key": v} for k, v in keys.items()}


def test_briefing_api_and_pages(client: TestClient, api: dict[str, dict[str, str]]) -> None:
    h = api["analyst"]
    r = client.post("/api/analysis/briefings", json={"area_code": DISTRICT, "month": "2026-10",
                                                      "lang": "zh_CN"}, headers=h)
    assert r.status_code == 200, r.text
    bid = r.json()["id"]
    assert r.json()["sections"][0]["sentences"]
    page = client.get(f"/briefings/{bid}", headers=h)
    assert page.status_code == 200 and "月度简报" in page.text and "数字及其来源" in page.text
    listing = client.get("/briefings", headers=h)
    assert f"/briefings/{bid}" in listing.text
    pdf = client.get(f"/api/analysis/briefings/{bid}/file/pdf", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    docx = client.get(f"/api/analysis/briefings/{bid}/file/docx", headers=h)
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    # a street commander sees neither the district's briefing nor may make it
    assert client.get(f"/api/analysis/briefings/{bid}", headers=api["street"]).status_code == 403
    assert client.get("/api/analysis/briefings", headers=api["street"]).json() == {
        "briefings": []}
    bad = client.post("/api/analysis/briefings", json={"area_code": DISTRICT,
                                                       "month": "2026-13"}, headers=h)
    assert bad.status_code == 422


def test_forecast_api_and_errors(client: TestClient, api: dict[str, dict[str, str]]) -> None:
    h = api["analyst"]
    r = client.get("/api/analysis/forecast", params={"indicator": "APP_PM25", "area": DISTRICT,
                                                     "horizon": 2}, headers=h)
    assert r.status_code == 200 and r.json()["periods"] == ["2026-11", "2026-12"]
    assert "mase" in next(iter(r.json()["backtest"].values()))
    r = client.get("/api/analysis/forecast", params={"indicator": "NOPE", "area": DISTRICT},
                   headers=h)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert client.get("/api/analysis/forecast", params={"indicator": "APP_PM25",
                                                        "area": DISTRICT}).status_code == 401


def test_breaks_and_relation_api(client: TestClient, api: dict[str, dict[str, str]]) -> None:
    h = api["analyst"]
    r = client.get("/api/analysis/breaks", params={"indicator": "APP_PM25", "area": DISTRICT},
                   headers=h)
    assert r.status_code == 200 and isinstance(r.json()["breaks"], list)
    r = client.get("/api/analysis/relation", params={"x": "ECO_RETAIL_SALES", "y": "APP_PM25",
                                                     "area": DISTRICT, "max_lag": 3},
                   headers=h)
    assert r.status_code == 200
    text = r.json()["text"]  # Chinese by default; worded as association, never as cause
    assert ("并不证明因果" in text) or text.startswith("未发现")
    assert "ECO_RETAIL_SALES" in text and "APP_PM25" in text
