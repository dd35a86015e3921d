"""COINr's ASEM index reproduced stage by stage (tests/data/index/asem, COINr commit b968203)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citygrowth.index.coin import Coin
from citygrowth.index.spec import spec_from_coinr_meta
from tests.conftest import DATA

ASEM = DATA / "index" / "asem"
SETTINGS = {
    "impute": {"method": "group_mean", "group": "Group_EurAsia"},
    "treat": {"method": "winsorise", "winmax": 6, "skew": 2, "kurtosis": 3.5},
    "normalise": {"method": "minmax", "range": [0, 100]},
    "aggregate": {"method": "arithmetic"},
}


def wide(name: str) -> pd.DataFrame:
    df = pd.read_csv(ASEM / f"expected_{name}.csv")
    df["period"] = df["Year"].astype(int).astype(str)
    return df.set_index(["UnitCode", "period"]).rename_axis(["unit", "period"]).sort_index()


@pytest.fixture(scope="module")
def spec():  # type: ignore[no-untyped-def]
    s = spec_from_coinr_meta(pd.read_csv(ASEM / "ASEM_iMeta.csv"))
    s.settings = dict(SETTINGS)
    return s


@pytest.fixture(scope="module")
def groups() -> pd.DataFrame:
    return wide("Raw").reset_index(level=1)[["Group_EurAsia"]]


def denominators() -> pd.DataFrame:
    d = pd.read_csv(ASEM / "ASEM_iData.csv")
    d["period"] = d["Time"].astype(int).astype(str)
    return d.set_index(["uCode", "period"])[["Area", "Energy", "GDP", "Population"]]


def check(got: pd.DataFrame, expected: pd.DataFrame, atol: float = 1e-9,
          rtol: float = 0.0) -> int:
    cols = [c for c in expected.columns if c in got.columns
            and pd.api.types.is_numeric_dtype(expected[c])]
    e = expected[cols].to_numpy(float)
    g = got.reindex(expected.index)[cols].to_numpy(float)
    assert np.array_equal(np.isnan(e), np.isnan(g))
    np.testing.assert_allclose(g, e, atol=atol, rtol=rtol)
    return len(cols)


def test_denominated_from_raw(spec, groups) -> None:  # type: ignore[no-untyped-def]
    coin = Coin.build(spec, wide("Raw"), groups, denominators(), until="Denominated")
    # The COINr 1.0 denominators carry GDP to ~10 significant digits (relative 4e-10 from the
    # 0.6 object's), so this first stage is compared relatively.
    assert check(coin.stage("Denominated"), wide("Denominated"), atol=0, rtol=1e-9) == 49


@pytest.mark.parametrize(("start", "stage"), [("Denominated", "Imputed"),
                                              ("Imputed", "Treated"),
                                              ("Treated", "Normalised"),
                                              ("Normalised", "Aggregated")])
def test_each_stage_from_the_previous(spec, groups, start, stage) -> None:  # type: ignore[no-untyped-def]
    steps = {"Imputed": "impute", "Treated": "treat", "Normalised": "normalise",
             "Aggregated": "aggregate"}
    keep = {v for k, v in steps.items() if k == stage} | {"normalise", "aggregate"}
    changes = {s: None for s in ("denominate", "impute", "treat") if s not in keep}
    s = spec.with_settings(changes)
    if stage == "Aggregated":  # start from normalised values: the identity on 0-100
        # (already oriented: no reversal of negative indicators this time)
        s = s.with_settings({"normalise": {"method": "minmax", "range": [0, 100],
                                           "direction": 1}})
        prev = wide(start)
        coin = Coin.build(s, prev[spec.indicators], groups)
        # Expected Normalised is already 0-100 with min 0 and max 100 in every column
        assert check(coin.stage("Normalised"), prev) == 49
    else:
        coin = Coin.build(s, wide(start)[spec.indicators], groups, until=stage)
    assert check(coin.stage(stage), wide(stage)) >= 49


def test_whole_run_from_denominated(spec, groups) -> None:  # type: ignore[no-untyped-def]
    coin = Coin.build(spec.with_settings({"denominate": None}),
                      wide("Denominated")[spec.indicators], groups)
    assert [e.stage for e in coin.log] == ["Raw", "Imputed", "Treated", "Normalised",
                                           "Aggregated"]
    assert check(coin.results, wide("Aggregated")) == 60
    summary = pd.read_csv(ASEM / "expected_TreatSummary.csv", keep_default_na=False)
    summary = summary.set_index("IndCode")
    treated = coin.log[2].info["summary"]
    for code, row in summary.iterrows():
        n = int(row["Treatment"].split()[1]) if row["Treatment"] != "None" else 0
        assert treated[code].get("winsorised", 0) == n, code
        assert treated[code].get("high", 0) == row["High"]
        assert treated[code].get("low", 0) == row["Low"]


def test_whole_run_from_raw_with_denominators(spec, groups) -> None:  # type: ignore[no-untyped-def]
    coin = Coin.build(spec, wide("Raw"), groups, denominators())
    idx = coin.results["Index"].reindex(wide("Aggregated").index)
    np.testing.assert_allclose(idx, wide("Aggregated")["Index"], atol=1e-8)
    assert coin.ranks().loc[("CHE", "2018"), "Index"] == 1  # Switzerland leads ASEM 2018
    assert [e.stage for e in coin.log][1] == "Denominated"
