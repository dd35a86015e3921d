"""The Ibis path gives the same numbers as the in-memory coin, on DuckDB and on Spark."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from citygrowth.errors import ValidationFailed
from citygrowth.index.coin import Coin
from citygrowth.index.ibis_ops import (
    compute_expr,
    memtable,
    quiet_backends,
    rollup_areas,
    to_pandas,
)
from citygrowth.index.spec import spec_from_dict

TREE = {
    "code": "T", "version": "1",
    "tree": [{"code": "IDX", "children": [
        {"code": "P1", "children": [{"code": "a"}, {"code": "b", "direction": -1}]},
        {"code": "P2", "weight": 2, "children": [
            {"code": "c", "goalposts": [0, 50]}, {"code": "d", "weight": 3},
            {"code": "e"}]}]}],
    "index": {
        "normalise": {"method": "minmax", "range": [0, 100],
                      "overrides": {"c": {"method": "goalposts"},
                                    "e": {"method": "zscore", "mean": 50, "sd": 10,
                                          "global": True}}},
        "aggregate": {"method": "arithmetic", "nodes": {"IDX": {"method": "geometric"},
                                                        "P2": {"method": "harmonic"}}},
    },
}


def small_panel(seed: int = 3, units: int = 12, periods: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.MultiIndex.from_product([[f"u{i:02d}" for i in range(units)],
                                      [str(2020 + p) for p in range(periods)]],
                                     names=["unit", "period"])
    df = pd.DataFrame(rng.uniform(1, 60, (len(idx), 5)), index=idx, columns=list("abcde"))
    df.iloc[4, 0] = np.nan  # a missing value: weights renormalise over the rest
    return df


def to_long(df: pd.DataFrame) -> pd.DataFrame:
    out = df.stack().reset_index()
    out.columns = ["unit", "period", "indicator", "value"]
    return out


def compare(con: ibis.BaseBackend, spec, raw: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    coin = Coin.build(spec, raw)
    expr = compute_expr(memtable(to_long(raw)), spec, coin.weights)
    with quiet_backends():
        got = con.to_pyarrow(expr).to_pandas()
    got = got.pivot(index=["unit", "period"], columns="code", values="value")
    exp = coin.results[got.columns]
    np.testing.assert_allclose(got.reindex(exp.index).to_numpy(float), exp.to_numpy(float),
                               atol=1e-9)
    assert set(got.columns) == set(spec.nodes)


def test_duckdb_matches_the_coin() -> None:
    compare(ibis.duckdb.connect(), spec_from_dict(TREE), small_panel())


def test_generalised_and_coverage_on_duckdb() -> None:
    spec = spec_from_dict(TREE).with_settings(
        {"aggregate": {"nodes": {"P2": {"method": "generalised", "p": 3},
                                 "P1": {"min_coverage": 1.0}}}})
    compare(ibis.duckdb.connect(), spec, small_panel(5))


def test_methods_the_backend_lacks_are_refused() -> None:
    spec = spec_from_dict(TREE).with_settings({"normalise": {"method": "rank"}})
    with pytest.raises(ValidationFailed):
        compute_expr(memtable(to_long(small_panel())), spec, {})


def test_rollup_areas_weighted_mean() -> None:
    t = memtable(pd.DataFrame({"unit": ["g1", "g2", "g3"], "period": ["2024"] * 3,
                                    "code": ["IDX"] * 3, "value": [10.0, 20.0, 40.0]}))
    parents = pd.DataFrame({"unit": ["g1", "g2", "g3"], "parent": ["c1", "c1", "c2"],
                            "pop": [1.0, 3.0, 5.0]})
    out = to_pandas(rollup_areas(t, parents, "pop")).sort_values("unit")
    assert out["value"].tolist() == [17.5, 40.0]


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_matches_the_coin(spark_con) -> None:  # type: ignore[no-untyped-def]
    compare(spark_con, spec_from_dict(TREE), small_panel(units=6, periods=2))
