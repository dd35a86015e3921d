from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from citygrowth.auth.actor import system_actor
from citygrowth.catalog.framework import builtin_framework
from citygrowth.ingest.service import load_observations
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import Runtime
from tests.observatory.conftest import sample_frame

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

FW = builtin_framework()


def _same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> None:
    a = a.sort_values(keys).reset_index(drop=True)
    b = b.sort_values(keys).reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        if col == "value":
            assert a[col].tolist() == pytest.approx(b[col].tolist(), rel=1e-12)
        elif col == "vintage":
            assert pd.to_datetime(a[col], utc=True).tolist() == pd.to_datetime(
                b[col], utc=True).tolist()
        else:
            assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col


def test_duckdb_and_spark_agree(loaded: tuple[Session, Runtime], spark) -> None:  # type: ignore[no-untyped-def]
    session, runtime = loaded
    settings = runtime.settings
    first = load_observations(session, runtime, system_actor("t"),
                              sample_frame().assign(value=lambda d: d["value"] + 1), source="t")
    session.commit()
    duck = ObservationStore(settings)
    sp = ObservationStore(settings, backend="pyspark", spark_session=spark)
    keys = ["indicator", "area_code", "period"]
    _same(duck.query(), sp.query(), keys)
    _same(duck.query(as_of=first.vintage), sp.query(as_of=first.vintage), keys)
    _same(duck.query(indicators=["GOV_CASES_DUE"], level="grid", start="2025-03"),
          sp.query(indicators=["GOV_CASES_DUE"], level="grid", start="2025-03"), keys)
    inds = sorted(set(duck.query()["indicator"]))
    _same(duck.frame(inds, level="grid"), sp.frame(inds, level="grid"), keys)
    _same(duck.frame(inds, as_of=first.vintage), sp.frame(inds, as_of=first.vintage), keys)
    for code in ("SOC_HELPER_HOURS", "GOV_CASE_SATISFACTION", "SOC_FAMILY_DOCTOR",
                 "GOV_CASE_ONTIME_RATE"):
        for level in ("street", "district"):
            _same(duck.rollup(code, level, framework=FW), sp.rollup(code, level, framework=FW),
                  keys)
