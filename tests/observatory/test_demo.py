from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import system_actor
from citygrowth.catalog.framework import builtin_framework
from citygrowth.ingest.demo import run_demo
from citygrowth.observatory.demo import DEMO_SOURCE, area_frame, generate
from citygrowth.observatory.models import ObservationLoad
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import build_runtime
from tests.factories import make_areas
from tests.ingest.conftest import settings_for


def test_demo_generation_matches_the_seed_figures(sqlite_session: Session) -> None:
    make_areas(sqlite_session)
    data = generate(area_frame(sqlite_session, "370203"), builtin_framework(),
                    until=dt.date(2026, 10, 31))
    district = data[data["area_code"] == "370203"]

    def total(code: str, year: str) -> float:
        rows = district[(district["indicator"] == code) & district["period"].str.startswith(year)]
        return float(rows["value"].sum())

    assert total("ECO_GDP", "2024") == pytest.approx(756.6)
    assert total("ECO_BUDGET_REVENUE", "2024") == pytest.approx(106.9)
    assert total("ECO_RETAIL_SALES", "2024") == pytest.approx(750)
    assert total("ECO_GDP_GROWTH", "2024") == pytest.approx(7.4)
    assert total("ECO_FOREIGN_CAPITAL", "2024") == pytest.approx(4.9)
    assert total("APP_MUSEUMS", "2024") == 22
    months = sorted(set(district[district["indicator"] == "GOV_CASE_SATISFACTION"]["period"]))
    assert months[0] == "2019-01" and months[-1] == "2026-10" and len(months) == 94
    grids = data[(data["indicator"] == "SOC_HELPER_HOURS") & (data["area_code"].str.len() == 15)]
    assert grids["area_code"].nunique() == 8


def test_demo_step_loads_consistent_illustrative_data(sqlite_session: Session,
                                                      tmp_path: Path) -> None:
    make_areas(sqlite_session)
    sqlite_session.commit()
    runtime = build_runtime(settings_for(sqlite_session, tmp_path))
    run_demo(runtime, system_actor("demo"))
    run_demo(runtime, system_actor("demo"))  # idempotent
    with runtime.session() as s:
        loads = s.scalars(select(ObservationLoad)).all()
        assert {x.source for x in loads} == {DEMO_SOURCE} and all(x.illustrative for x in loads)
        assert s.scalar(select(func.count()).select_from(ObservationLoad)) == len(
            {x.dataset for x in loads})
    store = ObservationStore(runtime.settings)
    for code in ("ECO_RETAIL_SALES", "GOV_CASE_SATISFACTION", "SOC_FAMILY_DOCTOR",
                 "GOV_CASE_ONTIME_RATE"):
        rolled = store.rollup(code, "district", start="2024-01", end="2024-12",
                              framework=builtin_framework())
        stored = store.query([code], ["370203"], start="2024-01", end="2024-12")
        assert rolled["value"].tolist() == pytest.approx(stored["value"].tolist(), abs=1e-3)
