"""Replays, audit, uncertainty and explanations on the ASEM index and a small panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citygrowth.index.audit import audit, cronbach_alpha, describe
from citygrowth.index.coin import Coin
from citygrowth.index.explain import compare_runs, contributions, strengths_weaknesses
from citygrowth.index.sensitivity import sensitivity, uncertainty
from citygrowth.index.spec import spec_from_coinr_meta, spec_from_dict
from tests.index.test_asem import ASEM, SETTINGS, wide

PANEL_TREE = {"tree": [{"code": "I", "children": [
    {"code": "P", "children": [{"code": "a"}, {"code": "b", "weight": 3}]},
    {"code": "Q", "children": [{"code": "c"}, {"code": "d"}]}]}],
    "index": {"normalise": {"method": "minmax", "global": True}}}


@pytest.fixture(scope="module")
def asem() -> Coin:
    spec = spec_from_coinr_meta(pd.read_csv(ASEM / "ASEM_iMeta.csv"))
    spec.settings = {**SETTINGS, "denominate": None}
    groups = wide("Raw").reset_index(level=1)[["Group_EurAsia"]]
    return Coin.build(spec, wide("Denominated")[spec.indicators], groups)


def panel(seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.MultiIndex.from_product([["x", "y", "z", "w"], ["2023", "2024"]],
                                     names=["unit", "period"])
    return pd.DataFrame(rng.uniform(0, 10, (8, 4)), index=idx, columns=list("abcd"))


def test_regen_replays_with_one_setting_changed(asem: Coin) -> None:
    z = asem.regen({"normalise": {"method": "zscore"}})
    assert z.log[3].settings["method"] == "zscore" and asem.log[3].settings["method"] == "minmax"
    np.testing.assert_allclose(z.stage("Treated"), asem.stage("Treated"))
    assert abs(z.stage("Normalised")["LPI"].mean()) < 1e-12
    no_treat = asem.regen({"treat": None})
    assert "Treated" not in no_treat.stages
    cmp = compare_runs(asem, z)
    assert set(cmp.columns) >= {"rank_a", "rank_b", "rank_change"} and len(cmp) == 51


def test_every_stage_is_exportable(asem: Coin, tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = asem.export(tmp_path)
    assert {p.name for p in paths} == {"Raw.csv", "Imputed.csv", "Treated.csv",
                                       "Normalised.csv", "Aggregated.csv", "log.json"}
    agg = pd.read_csv(tmp_path / "Aggregated.csv")
    assert list(agg.columns) == ["unit", "period", "code", "value"]
    assert len(agg[agg.code == "Index"]) == 51


def test_audit(asem: Coin) -> None:
    report = audit(asem)
    stats = pd.DataFrame(report["stats"]).set_index("code")
    assert stats.loc["LPI", "n"] == 51 and not stats.loc["Services", "outliers"]
    groups = pd.DataFrame(report["groups"]).set_index("code")
    assert 0 < groups.loc["Conn", "pc1_share"] <= 1
    assert {f["flag"] for f in report["flags"]} <= {"weak", "collinear", "negative"}
    block = asem.results[["Goods", "Services", "FDI", "PRemit", "ForPort"]]
    x = block.to_numpy()
    k = 5
    expected = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    assert cronbach_alpha(block) == pytest.approx(expected)
    d = describe(pd.DataFrame({"v": [1.0, 2, 3, 4, 100]}))
    assert d.loc[0, "skew"] == pytest.approx(pd.Series([1.0, 2, 3, 4, 100]).skew())


def test_contributions_add_up() -> None:
    spec = spec_from_dict(PANEL_TREE)
    coin = Coin.build(spec, panel())
    table = contributions(coin, "x", "2023", "2024")
    assert table.attrs["residual"] == pytest.approx(0, abs=1e-9)
    norm = coin.stage("Normalised")
    da = norm.loc[("x", "2024"), "a"] - norm.loc[("x", "2023"), "a"]
    row = table.set_index("indicator").loc["a"]
    assert row["contribution"] == pytest.approx(da * 0.25 * 0.5)  # weight 1/4 in P, P 1/2
    geo = Coin.build(spec.with_settings({"aggregate": {"method": "geometric"}}), panel())
    table = contributions(geo, "y", "2023", "2024", code="P")
    assert abs(table.attrs["residual"]) < 1e-4 * max(1, abs(table.attrs["node_change"]))


def test_strengths_and_weaknesses() -> None:
    coin = Coin.build(spec_from_dict(PANEL_TREE), panel())
    sw = strengths_weaknesses(coin, "x", "2024", n=2)
    ranks = [s["rank"] for s in sw["strengths"]]
    assert ranks == sorted(ranks) and sw["strengths"][0]["of"] == 4
    assert sw["weaknesses"][0]["rank"] >= sw["strengths"][-1]["rank"]


def test_monte_carlo_keeps_every_replication(asem: Coin) -> None:
    factors = [{"name": "weights", "kind": "weights", "noise": 0.25},
               {"name": "aggregation", "path": "aggregate.method",
                "options": ["arithmetic", "geometric"]}]
    res = uncertainty(asem, factors, n=12, seed=3)
    assert len(res.parameters) == 12 and set(res.parameters.columns) == {
        "weights", "aggregation", "zeros_decide"}
    # min-max puts each indicator's worst country at 0: geometric runs carry it, and say so
    geometric = res.parameters["aggregation"] == "geometric"
    assert (res.parameters.loc[geometric, "zeros_decide"] > 0).all()
    assert (res.parameters.loc[~geometric, "zeros_decide"] == 0).all()
    assert res.zero_replications == int(geometric.sum())
    s = res.summary.set_index("unit")
    assert (s["q05"] <= s["median"]).all() and (s["median"] <= s["q95"]).all()
    assert s.loc["CHE", "nominal"] == 1


def test_sensitivity_of_the_index_to_its_settings() -> None:
    coin = Coin.build(spec_from_dict(PANEL_TREE), panel())
    table, params = sensitivity(coin, [
        {"name": "agg", "path": "aggregate.method", "options": ["arithmetic", "harmonic"]},
        {"name": "nothing", "path": "screen.min_coverage", "options": [0.0, 0.1]}],
        n=16, n_boot=20)
    t = table.set_index("factor")
    assert t.loc["nothing", "total"] == pytest.approx(0, abs=1e-12)  # has no effect at all
    assert len(params) == 16 * 4
