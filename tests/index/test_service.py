"""The server computes the district's index from the observation store, stores it by
framework version and data vintage, and serves it over HTTP with permissions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from citygrowth.auth.actor import system_actor
from citygrowth.catalog.framework import builtin_framework
from citygrowth.errors import Forbidden, NotFound
from citygrowth.index import jobs
from citygrowth.index.models import IndexRun
from citygrowth.index.service import compute_index, read_results, results_for
from citygrowth.ingest.service import load_observations
from citygrowth.runtime import Runtime
from tests.factories import STREET_A, STREET_B, make_areas, make_user

INDICATORS = {  # street-level indicators of the default framework, values per street
    "ECO_GDP": (300.0, 450.0), "APP_MUSEUMS": (12.0, 10.0), "SOC_VOLUNTEER_ORGS": (280, 320),
    "GOV_APPROVAL_DAYS": (3.0, 1.0), "IND_LISTED_COMPANIES": (40.0, 58.0),
}


def observations(year: int, bump: float = 1.0) -> pd.DataFrame:
    fw = builtin_framework()
    rows = []
    for code, vals in INDICATORS.items():
        freq = fw.indicator(code).frequency
        period = {"A": str(year), "Q": f"{year}-Q4", "M": f"{year}-12"}[freq]
        for street, v in zip((STREET_A, STREET_B), vals, strict=True):
            rows.append({"indicator": code, "area_code": street, "period": period,
                         "value": float(v) * bump})
    return pd.DataFrame(rows)


def load(session: Session, runtime: Runtime, frame: pd.DataFrame) -> None:
    load_observations(session, runtime, system_actor("test"), frame, source="test")
    session.commit()


def test_compute_store_and_read(session: Session, runtime: Runtime) -> None:
    make_areas(session)
    session.commit()
    load(session, runtime, pd.concat([observations(2024), observations(2025, 1.1)]))
    run = compute_index(session, runtime, system_actor("test"))
    session.commit()
    assert run.status == "done" and "street" in run.levels and run.framework_code == "CGI"
    res = read_results(runtime, framework="default", level="street", period="2025")
    assert list(res.columns) == ["unit", "period", "code", "value", "rank"]
    assert set(res["unit"]) == {STREET_A, STREET_B}
    idx = res[res["code"] == "CGI"].set_index("unit")
    assert idx["rank"].tolist() in ([1, 2], [2, 1]) and idx["value"].between(0, 100).all()
    gdp = res[res["code"] == "ECO_GDP"].set_index("unit")["value"]
    # GDP is summed up the area tree, so the district's goalposts do not apply to streets:
    # min-max over the whole panel (2024: 300 and 450, 2025: 330 and 495)
    assert gdp[STREET_A] == pytest.approx((330 - 300) / (495 - 300) * 100)
    assert gdp[STREET_B] == 100.0
    days = res[res["code"] == "GOV_APPROVAL_DAYS"].set_index("unit")["value"]
    # a mean keeps the catalog's goalposts (1–20 days, fewer is better): 3.3 and 1.1 days
    assert days[STREET_A] == pytest.approx((20 - 3.3) / 19 * 100)
    assert days[STREET_B] == pytest.approx((20 - 1.1) / 19 * 100)
    assert run.vintage in str(run.results_path) or run.results_path
    assert session.query(IndexRun).count() == 1


def test_permissions_and_scope(session: Session, runtime: Runtime) -> None:
    make_areas(session)
    _, commander = make_user(session, "cmd", ("street_commander", STREET_A))
    _, resident = make_user(session, "res", ("resident", STREET_B))
    session.commit()
    load(session, runtime, observations(2024))
    with pytest.raises(Forbidden):
        compute_index(session, runtime, commander)
    compute_index(session, runtime, system_actor("test"))
    seen = results_for(runtime, commander, level="street")
    assert set(seen["unit"]) == {STREET_A}
    assert set(results_for(runtime, resident)["unit"]) == {STREET_B}


def test_nothing_computed_yet(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        read_results(runtime, level="street")


def test_recompute_after_observations_loaded(sqlite_session: Session, runtime: Runtime) -> None:
    session = sqlite_session  # the runtime's own store
    make_areas(session)
    session.commit()
    load(session, runtime, observations(2024))
    assert jobs.recompute_job(runtime) is True
    assert not jobs.recompute_job(runtime)  # nothing new
    load(session, runtime, observations(2025, 1.2))
    assert jobs.recompute_job(runtime) is True
    periods = set(read_results(runtime, level="street")["period"])
    assert periods == {"2024", "2025"}


def test_http_api(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from citygrowth.auth.identity import new_api_key

    with runtime.sessionmaker() as s:
        make_areas(s)
        users = {n: make_user(s, n, grant)[0] for n, grant in
                 (("admin", ("district_admin", "370203")), ("worker", ("grid_worker", STREET_A)))}
        keys = {n: {"X-API-Key": new_api_key(s, user, n)} for n, user in users.items()}
        s.commit()
        load(s, runtime, pd.concat([observations(2024), observations(2025, 1.3)]))
    admin, worker = keys["admin"], keys["worker"]
    assert client.get("/api/index/results").status_code == 401
    assert client.post("/api/index/runs", json={"framework": "default"},
                       headers=worker).status_code == 403
    assert client.get("/api/index/results", headers=admin).status_code == 404  # not yet
    r = client.post("/api/index/runs", json={"framework": "default"}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["run"]["status"] == "done"
    rows = client.get("/api/index/results", params={"code": "CGI", "period": "2025"},
                      headers=admin).json()["items"]
    assert {row["unit"] for row in rows} == {STREET_A, STREET_B}
    mine = client.get("/api/index/results", params={"code": "CGI"}, headers=worker).json()
    assert {row["unit"] for row in mine["items"]} == {STREET_A}
    csv = client.get("/api/index/results", params={"format": "csv"}, headers=admin)
    assert csv.text.startswith("\ufeff区域代码,统计期,节点,数值,排名"), csv.text[:200]
    assert client.get("/api/index/runs", headers=worker).json()["items"][0]["status"] == "done"
    audit = client.get("/api/index/audit", headers=admin).json()
    assert audit["ok"] and "CGI" in {g["code"] for g in audit["groups"]}
    unc = client.get("/api/index/uncertainty", params={"runs": 5}, headers=admin).json()
    assert len(unc["items"]) == 4 and all(r["q05"] <= r["q95"] for r in unc["items"])
    assert unc["replications"] == 5 and 0 <= unc["zero_replications"] <= 5
    assert all(0 <= r["zero_share"] <= 1 for r in unc["items"])
    fixed = client.get("/api/index/uncertainty", params={"runs": 5, "remedy": "shift"},
                       headers=admin).json()
    assert fixed["zero_replications"] == 0
    ex = client.get("/api/index/explanations", params={
        "unit": STREET_B, "start": "2024", "end": "2025"}, headers=admin).json()
    assert ex["ok"] and abs(ex["residual"]) < 1e-6
    assert abs(sum(r["contribution"] for r in ex["rows"]) - ex["change"]) < 1e-6
    st = client.get("/api/index/strengths", params={"unit": STREET_B, "period": "2025"},
                    headers=admin)
    assert st.status_code == 200 and st.json()["strengths"]
    assert client.get("/api/index/results", params={"level": "planet"},
                      headers=admin).status_code == 422
    missing = client.get("/api/index/explanations", params={
        "unit": "370203999", "start": "2024", "end": "2025"}, headers=admin)
    assert missing.status_code == 422 and missing.json()["ok"] is False
    assert np.isfinite(ex["change"])
