"""The dense path: the same numbers as the coin, whatever the threads, on files through
``index run``; duplicates named; specs it cannot run sent to the coin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from citygrowth.errors import ValidationFailed
from citygrowth.index import dense
from citygrowth.index.coin import Coin
from citygrowth.index.engine import run_files
from citygrowth.index.spec import spec_from_dict
from tests.index.test_cli import HDI, data_csv  # noqa: F401  (fixture)
from tests.index.test_ibis import TREE, small_panel, to_long


def _dense_wide(spec, raw: pd.DataFrame) -> pd.DataFrame:
    out = dense.run_long(spec, to_long(raw))
    return out.pivot(index=["unit", "period"], columns="code", values="value")


@pytest.mark.parametrize("n_workers", [1, 2, 5])
def test_same_numbers_as_the_coin_with_any_number_of_threads(
        monkeypatch: pytest.MonkeyPatch, n_workers: int) -> None:
    monkeypatch.setattr(dense, "workers", lambda: n_workers)
    monkeypatch.setattr(dense, "SLAB_BYTES", 64)  # a slab per period: many tasks
    spec = spec_from_dict(TREE)
    raw = small_panel(5, units=30, periods=7)
    raw.iloc[3, 1] = np.nan
    raw.iloc[10:13, 0] = np.nan
    coin = Coin.build(spec, raw)
    got = _dense_wide(spec, raw)
    exp = coin.results[got.columns].reindex(got.index)
    assert got.shape[0] == 30 * 7 and set(got.columns) == set(coin.results.columns)
    np.testing.assert_allclose(got.to_numpy(float), exp.to_numpy(float), atol=1e-9)


def test_indicator_missing_from_the_data_and_min_coverage() -> None:
    tree = {**TREE, "index": {**TREE["index"], "aggregate": {
        "method": "arithmetic", "nodes": {"P2": {"min_coverage": 0.9}}}}}
    spec = spec_from_dict(tree)
    raw = small_panel(9).drop(columns=["d"])
    got = _dense_wide(spec, raw)
    coin = Coin.build(spec, raw)
    assert got.get("d") is None or got["d"].isna().all()
    assert coin.results["P2"].isna().all() and got.get("P2") is None  # 2 of 3 < 0.9
    np.testing.assert_allclose(got["IDX"].to_numpy(float),
                               coin.results["IDX"].reindex(got.index).to_numpy(float),
                               atol=1e-9)


def test_a_value_given_twice_is_named() -> None:
    with pytest.raises(ValidationFailed) as err:
        dense.pivot(np.array(["u1", "u2", "u1"]), np.array(["2024", "2024", "2024"]),
                    np.array(["a", "a", "a"]), np.array([1.0, 2.0, 3.0]))
    p = err.value.problems[0]
    assert p.params == {"unit": "u1", "period": "2024", "indicator": "a"} and p.row == 1


def test_capable_only_of_data_parallel_runs() -> None:
    assert dense.capable(spec_from_dict(TREE))
    for change in ({"impute": {"method": "mean"}}, {"treat": {"winmax": 2}},
                   {"weights": {"method": "entropy"}},
                   {"normalise": {"method": "rank"}},
                   {"aggregate": {"method": "topsis"}}):
        assert not dense.capable(spec_from_dict(TREE).with_settings(change)), change


def test_index_run_takes_the_dense_path_and_agrees_with_the_coin(
        data_csv: Path, tmp_path: Path) -> None:  # noqa: F811
    fast = run_files(HDI, data_csv, tmp_path / "fast.csv")
    slow = run_files(HDI, data_csv, tmp_path / "slow.csv", stages=tmp_path / "stages")
    assert (fast.engine, slow.engine) == ("dense", "coin")
    assert (fast.units, fast.rows) == (slow.units, slow.rows) == (3, 6 * 8)
    a = pd.read_csv(tmp_path / "fast.csv")
    b = pd.read_csv(tmp_path / "slow.csv")
    assert a[["unit", "period", "code"]].equals(b[["unit", "period", "code"]])
    np.testing.assert_allclose(a["value"], b["value"], atol=1e-9)
