"""Against the real system: loads go into a temporary store through ``load_observations``;
the briefing's figures are checked against the store; load-time anomaly checks; the web
pages and API."""

from __future__ import annotations

import datetime as dt
import math
import re
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from citygrowth.analysis.briefing.service import briefing_json, make_briefing
from citygrowth.analysis.jobs import monthly_briefings, previous_month
from citygrowth.analysis.models import BriefingRecord
from citygrowth.analysis.service import anomalies_for_load, check_load_frame, forecast_for
from citygrowth.auth.actor import system_actor
from citygrowth.auth.identity import new_api_key
from citygrowth.catalog.framework import builtin_framework
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.index.service import compute_index
from citygrowth.ingest.service import load_observations
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import Runtime
from tests.analysis.synth import months
from tests.factories import DISTRICT, STREET_A, STREET_B, TEST_AUDIT, make_areas, make_user

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
    """Every number of a briefing made from the running system is the store's: stored values
    as they are, yearly values as the year's sum of its months, key figures as the sum of the
    year's months so far; the index period is the latest complete year."""
    settings = runtime.settings
    _setup(sqlite_session, runtime)
    compute_index(sqlite_session, runtime, SYS, levels=("street",))
    rec = make_briefing(sqlite_session, SYS, runtime, DISTRICT, "2026-10", "en",
                        formats=("json",))
    data = briefing_json(rec)
    store = ObservationStore(settings)

    def stored(code: str, area: str, start: str, end: str) -> pd.DataFrame:
        return store.query(indicators=[code], area_codes=[area], start=start, end=end)

    kinds: dict[str, int] = {}
    for fig in data["figures"].values():
        src = fig["source"]
        kinds[src["kind"]] = kinds.get(src["kind"], 0) + 1
        if src["kind"] == "observation":
            rows = stored(src["indicator"], src["area_code"], src["period"], src["period"])
            assert len(rows) == 1 and float(rows["value"].iloc[0]) == fig["value"]
            assert str(rows["vintage"].iloc[0]) == src["vintage"]
        elif src["kind"] == "annual":  # flows: the year's sum; rates and levels: its mean
            year = src["period"]
            rows = stored(src["indicator"], src["area_code"], f"{year}-01", f"{year}-12")
            rule = builtin_framework().indicator(src["indicator"]).rollup.rule
            whole = rows["value"].sum() if rule == "sum" else rows["value"].mean()
            assert len(rows) == 12 and math.isclose(whole, fig["value"])
    assert kinds.get("observation", 0) >= 2 and kinds.get("annual", 0) >= 2
    assert kinds.get("index", 0) >= 2 and data["index_period"] == "2025"
    retail = next(k for k in data["key_figures"] if k["code"] == "ECO_RETAIL_SALES")
    assert retail["period"] == "2026-10" and retail["period_text"] == "Jan–Oct 2026"
    assert math.isclose(retail["value"], stored("ECO_RETAIL_SALES", DISTRICT, "2026-01",
                                                "2026-10")["value"].sum())
    text = " ".join(s["text"] for sec in data["sections"] for s in sec["sentences"])
    assert "Resident satisfaction" in text and "in 2025" in text
    assert "Commerce Bureau" in " ".join(s["text"] for s in data["sources"])
    folder = settings.data_dir / "exports" / "briefings" / DISTRICT / "2026-10" / "en"
    assert (folder / "briefing.json").exists() and (folder / "chart-trend.png").exists()


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

    done = decide_anomaly(sqlite_session, SYS, rows[0].id, "returned", "please check",
                          framework=runtime.frameworks.load())
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
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
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
    assert r.json()["sections"][0]["sentences"] and r.json()["sources"]
    page = client.get(f"/briefings/{bid}", headers=h)
    assert page.status_code == 200 and "月度简报" in page.text and "数据来源" in page.text
    assert "2026年10月" in page.text and "本简报为2026年10月月度简报" in page.text
    assert "_now" not in page.text and "driver_" not in page.text
    for name in re.findall(r'/api/analysis/briefings/\d+/chart/([a-z]+)"', page.text):
        png = client.get(f"/api/analysis/briefings/{bid}/chart/{name}", headers=h)
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert client.get(f"/api/analysis/briefings/{bid}/chart/nope", headers=h).status_code == 404
    listing = client.get("/briefings", headers=h)
    assert f"/briefings/{bid}" in listing.text and "data-testid=\"make-briefing\"" in listing.text
    pdf = client.get(f"/api/analysis/briefings/{bid}/file/pdf", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    docx = client.get(f"/api/analysis/briefings/{bid}/file/docx", headers=h)
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    # a street commander sees neither the district's briefing nor may make it
    assert client.get(f"/api/analysis/briefings/{bid}", headers=api["street"]).status_code == 403
    assert client.get("/api/analysis/briefings", headers=api["street"]).json()["items"] == []
    bad = client.post("/api/analysis/briefings", json={"area_code": DISTRICT,
                                                       "month": "2026-13"}, headers=h)
    assert bad.status_code == 422


def test_the_make_briefing_form(client: TestClient, api: dict[str, dict[str, str]]) -> None:
    """The page's form: both languages from one click, listed as new; without the
    permission for the area, refused and nothing made."""
    form = {"area_code": DISTRICT, "month": "2026-10", "lang": "both"}
    r = client.post("/briefings", data=form, headers=api["analyst"], follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/briefings?made=")
    listing = client.get(r.headers["location"], headers=api["analyst"])
    assert listing.text.count('class="new"') == 2 and "中文" in listing.text
    htmx = client.post("/briefings", data=form | {"lang": "en"},
                       headers=api["analyst"] | {"HX-Request": "true"})
    assert htmx.status_code == 200 and 'id="briefing-list"' in htmx.text
    assert "<html" not in htmx.text and 'data-testid="made"' in htmx.text
    street = client.get("/briefings", headers=api["street"])
    assert "data-testid=\"make-briefing\"" in street.text  # for its own street
    assert f'value="{DISTRICT}"' not in street.text.split("make-briefing", 1)[1].split("</form>")[0]
    refused = client.post("/briefings", data=form, headers=api["street"],
                          follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/api/analysis/briefings", headers=api["analyst"]).json()[
        "items"][0]["month"] == "2026-10"


def test_anomaly_review_page(client: TestClient, runtime: Runtime,
                             api: dict[str, dict[str, str]]) -> None:
    settings = runtime.settings
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        spike = pd.DataFrame([("APP_PM25", DISTRICT, "2026-11", 90.0)],
                             columns=["indicator", "area_code", "period", "value"])
        load_id = load_observations(s, runtime, SYS, spike, source="test").load_id
        s.commit()
    engine.dispose()
    h = api["analyst"]
    page = client.get(f"/anomalies/{load_id}", headers=h)
    assert page.status_code == 200 and "PM2.5" in page.text and "2026年11月" in page.text
    wid = int(re.search(r'id="w(\d+)"', page.text).group(1))
    assert f'action="/anomalies/{load_id}/{wid}"' in page.text and 'name="csrf_token"' in page.text
    assert load_id in client.get("/anomalies", headers=h).text
    r = client.post(f"/anomalies/{load_id}/{wid}", data={"decision": "returned",
                                                         "note": "请核实"},
                    headers=h, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/anomalies/{load_id}#w{wid}"
    after = client.get(f"/anomalies/{load_id}", headers=h).text
    assert "已退回" in after and "请核实" in after
    # a street commander may look (its scope has none of the district's warnings), not decide
    assert client.post(f"/anomalies/{load_id}/{wid}", data={"decision": "accepted"},
                       headers=api["street"]).status_code == 403
    assert client.post(f"/anomalies/other/{wid}", data={"decision": "accepted"},
                       headers=h).status_code == 404


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


def test_the_monthly_schedule_makes_the_latest_complete_month_once(
        sqlite_session: Session, runtime: Runtime) -> None:
    """Just after midnight on 1 December in the district's zone (still 30 November in UTC)
    the previous month is November; the job makes each missing briefing once, in both
    languages, from one gathering per area."""
    settings = runtime.settings
    tz = ZoneInfo(settings.timezone)
    first = dt.datetime(2026, 12, 1, 0, 30, tzinfo=tz)
    assert first.astimezone(dt.UTC).day == 30 and previous_month(runtime, first) == "2026-11"
    assert previous_month(runtime, first - dt.timedelta(hours=1)) == "2026-10"
    _setup(sqlite_session, runtime)
    maker = make_sessionmaker(make_engine(settings.resolved_database_url))
    made = monthly_briefings(runtime, month="2026-10")
    assert sorted(made) == sorted(f"{a}/2026-10/{loc}" for a in (DISTRICT, STREET_A, STREET_B)
                                  for loc in ("zh_CN", "en"))
    assert monthly_briefings(runtime, month="2026-10") == []
    listed = briefing_list_for(maker)
    assert len(listed) == 6 and all(r.formats == ["json", "pdf", "docx"] for r in listed)


def briefing_list_for(maker: sessionmaker[Session]) -> list[BriefingRecord]:
    with maker() as s:
        return list(s.scalars(select(BriefingRecord)))
