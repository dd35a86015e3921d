"""The server's index runs through Ibis on DuckDB (and on Spark when configured) with the
coin's numbers; settings the expressions lack fall back to the coin, with a log line; a load
recomputes the index by itself, once across processes, reusing the levels it did not
touch."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth.actor import system_actor
from citygrowth.events import Event
from citygrowth.index import ibis_ops, jobs
from citygrowth.index.models import IndexRun
from citygrowth.index.service import (
    LEVELS,
    compute_index,
    compute_level_from_store,
    level_codes,
    level_spec,
    read_results,
)
from citygrowth.index.spec import spec_for_framework
from citygrowth.index.steps import impute
from citygrowth.ingest.service import load_observations
from citygrowth.observatory.demo import generate
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import Runtime
from tests.factories import STREET_A, make_areas


def world(session: Session, runtime: Runtime, holes: float = 0.2, seed: int = 5) -> None:
    """The test district with every default indicator at every level from 2019 (the demo's
    generator), a share of the values left out so imputation has gaps to fill."""
    make_areas(session)
    session.commit()
    areas = pd.DataFrame([(a.code, a.level, a.population) for a in session.scalars(
        select(Area))], columns=["code", "level", "population"])
    fw = runtime.frameworks.load()
    data = generate(areas, fw, runtime.today().replace(month=1, day=1))
    rng = np.random.default_rng(seed)
    data = data[rng.random(len(data)) >= holes]
    load_observations(session, runtime, system_actor("test"), data, source="test")
    session.commit()


def levels_by(store: ObservationStore, runtime: Runtime, engine: str,
              levels: tuple[str, ...] = LEVELS) -> dict[str, pd.DataFrame]:
    fw = runtime.frameworks.load()
    spec = spec_for_framework(fw)
    rules = {i.code: i.rollup.rule for i in fw.indicators}
    present = set(store.summary()["indicator"])
    out = {}
    for level in levels:
        res = compute_level_from_store(store, fw, level_spec(spec, rules), level,
                                       level_codes(fw, spec, level, present), engine)
        assert res is not None
        assert res.engine == (store.backend_name if engine == "ibis" else "coin")
        out[level] = res.results
    return out


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    m = a.merge(b, on=["unit", "period", "code"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"].head()
    np.testing.assert_allclose(m["value_x"], m["value_y"], rtol=0, atol=1e-9)
    assert (m["rank_x"].astype(int) == m["rank_y"].astype(int)).all()


def test_duckdb_gives_the_coins_results(sqlite_session: Session, runtime: Runtime) -> None:
    world(sqlite_session, runtime)
    store = ObservationStore(runtime.settings)
    ibis_ = levels_by(store, runtime, "ibis")
    coin = levels_by(store, runtime, "coin")
    for level in LEVELS:
        assert len(ibis_[level]) > 100
        same(ibis_[level], coin[level])


def test_imputation_like_the_coin() -> None:
    """Gaps inside a unit's range interpolated by position, after it carried forward,
    before it left missing; the mean of the period where asked."""
    panel = pd.DataFrame({
        "unit": ["a"] * 5 + ["b"] * 3, "period": ["2019", "2020", "2021", "2022", "2023",
                                                  "2019", "2020", "2021"],
        "indicator": ["x", "y", "x", "y", "x", "x", "x", "y"],
        "value": [1.0, 5.0, 3.0, 9.0, 11.0, 2.0, np.nan, 4.0]})
    con = ibis.duckdb.connect()
    for methods in (["linear", "locf"], ["locf"], ["linear"], ["mean"], ["linear", "mean"]):
        got = con.execute(ibis_ops.impute_expr(ibis_ops.memtable(panel), methods))
        got = got.set_index(["unit", "period", "indicator"])["value"].sort_index()
        wide = panel.pivot_table(index=["unit", "period"], columns="indicator",
                                 values="value")
        exp = impute(wide, methods)[0].stack().dropna().sort_index()
        exp.index = exp.index.set_names(["unit", "period", "indicator"])
        pd.testing.assert_series_equal(got, exp, check_names=False, atol=1e-12)


def test_fallback_to_the_coin_is_logged(sqlite_session: Session, runtime: Runtime,
                                        caplog: pytest.LogCaptureFixture) -> None:
    world(sqlite_session, runtime)
    spec = spec_for_framework(runtime.frameworks.load())
    assert ibis_ops.unsupported(spec) is None
    assert ibis_ops.unsupported(spec.with_settings({"treat": {"winmax": 3}})) \
        == "outlier treatment"
    assert ibis_ops.unsupported(spec.with_settings({"weights": {"method": "entropy"}})) \
        == "weights entropy"
    assert "median" in (ibis_ops.unsupported(spec.with_settings(
        {"impute": {"method": ["median"]}})) or "")
    geo = spec.with_settings({"aggregate": {"method": "geometric", "zeros": "epsilon"}})
    assert ibis_ops.unsupported(geo)
    fw = runtime.frameworks.load()
    store = ObservationStore(runtime.settings)
    codes = level_codes(fw, spec, "street", set(store.summary()["indicator"]))
    res = compute_level_from_store(store, fw, spec.with_settings({"treat": {"winmax": 3}}),
                                   "street", codes)
    assert res is not None and res.engine == "coin"


def test_a_load_recomputes_by_itself(sqlite_session: Session, runtime: Runtime) -> None:
    """The event of a committed load wakes the runtime's trigger; the run that follows
    computes only the levels the load touched and publishes index.computed."""
    world(sqlite_session, runtime, holes=0.0)
    first = jobs.refresh(runtime)
    assert first is not None and jobs.refresh(runtime) is None  # nothing new
    trigger = jobs.arm(runtime)
    seen: list[Event] = []
    queue_thread_done = threading.Event()

    def listen() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            seen.extend(e for e in runtime.bus.recent if e.topic == "index.computed"
                        and e not in seen)
            if any(e.payload.get("run_id") != first.id for e in seen):
                break
            time.sleep(0.05)
        queue_thread_done.set()

    t0 = time.monotonic()
    thread = threading.Thread(target=listen)
    thread.start()
    year = str(runtime.today().year - 1)
    load_observations(sqlite_session, runtime, system_actor("test"), pd.DataFrame(
        {"indicator": ["APP_MUSEUMS"], "area_code": [STREET_A], "period": [year],
         "value": [99.0]}), source="test")
    sqlite_session.commit()
    queue_thread_done.wait(30)
    thread.join()
    took = time.monotonic() - t0
    runs = sqlite_session.scalars(select(IndexRun).order_by(IndexRun.id)).all()
    assert len(runs) == 2 and trigger.runs == 1, took
    second = runs[-1]
    detail = json.loads((Path(second.results_path) / "run.json").read_text())["levels_detail"]
    assert detail["street"]["engine"] == "duckdb"
    assert detail["community"]["engine"] == detail["grid"]["engine"] == "previous run"
    street = read_results(runtime, level="street", period=year)
    assert street[(street["unit"] == STREET_A) & (street["code"] == "APP_MUSEUMS")][
        "value"].iloc[0] == 100.0  # the best museum count of the panel now
    grid_before = pd.read_parquet(Path(first.results_path) / "grid.parquet")
    pd.testing.assert_frame_equal(read_results(runtime, level="grid"), grid_before)


def test_one_recompute_at_a_time(sqlite_session: Session, runtime: Runtime) -> None:
    world(sqlite_session, runtime, holes=0.0)
    lock = jobs.RecomputeLock(runtime.engine, runtime.settings.store_dir)
    with lock.held(0) as got:
        assert got
        assert jobs.refresh(runtime, wait=0.0) is None  # another holds it: not now
        with lock.held(0.1) as again:
            assert not again
    results: list[IndexRun | None] = []
    threads = [threading.Thread(target=lambda: results.append(jobs.refresh(runtime)))
               for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(r is not None for r in results) == 1  # the second found it done
    assert len(sqlite_session.scalars(select(IndexRun)).all()) == 1


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_gives_the_coins_results(sqlite_session: Session, runtime: Runtime,
                                       spark_con) -> None:  # type: ignore[no-untyped-def]
    """Spark reads the Parquet batches itself and computes the same results."""
    world(sqlite_session, runtime, holes=0.15)
    spark = ObservationStore(runtime.settings, backend="pyspark",
                             spark_session=spark_con._session)
    duck = ObservationStore(runtime.settings)
    got = levels_by(spark, runtime, "ibis", ("grid",))
    exp = levels_by(duck, runtime, "coin", ("grid",))
    same(got["grid"], exp["grid"])


def test_whole_runs_equal_on_both_engines(sqlite_session: Session, runtime: Runtime) -> None:
    world(sqlite_session, runtime)
    run = compute_index(sqlite_session, runtime, system_actor("test"))
    info = json.loads((Path(run.results_path) / "run.json").read_text())
    assert {d["engine"] for d in info["levels_detail"].values()} == {"duckdb"}
    assert run.levels == json.dumps(["district", *LEVELS])
