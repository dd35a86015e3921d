"""Weights, aggregation, normalisation and imputation checked against independent references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pymcdm import methods as pm_methods
from pymcdm import weights as pm_weights

from citygrowth.errors import ValidationFailed
from citygrowth.index.aggregate import combine, topsis
from citygrowth.index.coin import Coin
from citygrowth.index.normalise import normalise_vector
from citygrowth.index.sensitivity import sobol_indices
from citygrowth.index.spec import load_spec, spec_from_dict
from citygrowth.index.steps import impute
from citygrowth.index.weights import SAATY_RI, ahp, critic, entropy, optimised, pca
from tests.conftest import DATA

RNG = np.random.default_rng(7)
MATRICES = [RNG.uniform(1, 100, (12, 4)), RNG.lognormal(0, 1, (30, 6)),
            np.array([[250, 16, 12, 5], [200, 16, 8, 3], [300, 32, 16, 4],
                      [275, 32, 8, 4], [225, 16, 16, 2]], dtype=float)]


def panel(values: dict[str, dict[tuple[str, str], float]]) -> pd.DataFrame:
    df = pd.DataFrame(values)
    df.index = pd.MultiIndex.from_tuples(df.index, names=["unit", "period"])
    return df


# --- HDI -----------------------------------------------------------------------------------

def test_hdi_reproduces_published_values() -> None:
    """HDR 2020, Table 1 (2019 data): life expectancy, expected and mean years of schooling,
    GNI per capita (2017 PPP $) → HDI to three decimals."""
    spec = load_spec(DATA / "index" / "hdi.yaml")
    published = {"NOR": ((82.4, 18.1, 12.9, 66494), 0.957),
                 "NER": ((62.4, 6.5, 2.1, 1201), 0.394)}
    raw = panel({c: {(u, "2019"): v[0][i] for u, v in published.items()}
                 for i, c in enumerate(["LE", "EYS", "MYS", "GNIpc"])})
    coin = Coin.build(spec, raw)
    res = coin.results
    for unit, (_, hdi) in published.items():
        assert round(float(res.loc[(unit, "2019"), "HDI"]), 3) == hdi
    nor = res.loc[("NOR", "2019")]
    assert nor["EYS"] == 1.0  # 18.1 years is capped at the 18-year goalpost
    assert nor["health"] == pytest.approx((82.4 - 20) / 65)
    assert nor["income"] == pytest.approx(np.log(66494 / 100) / np.log(750))
    assert nor["education"] == pytest.approx((1.0 + 12.9 / 15) / 2)


# --- weights and MCDM against pymcdm -------------------------------------------------------

@pytest.mark.parametrize("m", MATRICES)
def test_entropy_and_critic_agree_with_pymcdm(m: np.ndarray) -> None:
    # same conventions: entropy on sum-normalised columns (all values > 0 here), CRITIC on
    # min-max normalised columns with sample sd and Pearson r
    np.testing.assert_allclose(entropy(m), pm_weights.entropy_weights(m), atol=1e-12)
    np.testing.assert_allclose(critic(m), pm_weights.critic_weights(m), atol=1e-12)


@pytest.mark.parametrize("m", MATRICES)
def test_topsis_agrees_with_pymcdm(m: np.ndarray) -> None:
    w = np.arange(1, m.shape[1] + 1, dtype=float)
    w /= w.sum()
    types = np.array([1 if j % 2 == 0 else -1 for j in range(m.shape[1])])
    ours = topsis(m, w, types, normalisation="minmax")
    np.testing.assert_allclose(ours, pm_methods.TOPSIS()(m, w, types), atol=1e-12)


def test_ahp_consistency_ratio_follows_saaty() -> None:
    # Saaty's classic 3×3 example: consistent matrix → CR 0; an inconsistent one
    consistent = [[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]]
    w, lam, cr = ahp(consistent)
    np.testing.assert_allclose(w, [4 / 7, 2 / 7, 1 / 7], atol=1e-12)
    assert lam == pytest.approx(3.0) and cr == pytest.approx(0.0, abs=1e-12)
    m = np.array([[1, 3, 5, 9], [1 / 3, 1, 3, 5], [1 / 5, 1 / 3, 1, 3], [1 / 9, 1 / 5, 1 / 3, 1]])
    w, lam, cr = ahp(m)
    assert cr == pytest.approx((lam - 4) / 3 / 0.90)  # RI(4) = 0.90
    assert SAATY_RI[:10] == (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49)
    assert 0 < cr < 0.1
    with pytest.raises(ValidationFailed):
        ahp([[1, 2], [2, 1]])  # not reciprocal


def test_data_driven_weights_are_sane() -> None:
    m = MATRICES[1]
    for fn in (pca, optimised):
        w = fn(m)
        assert w.shape == (6,) and np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    # optimised weights equalise the correlations with the aggregate better than equal ones
    def spread(w: np.ndarray) -> float:
        y = m @ w
        return float(np.var([np.corrcoef(m[:, j], y)[0, 1] for j in range(6)]))
    assert spread(optimised(m)) < spread(np.full(6, 1 / 6))


# --- Sobol -----------------------------------------------------------------------------------

def test_sobol_of_linear_function() -> None:
    s = sobol_indices(lambda x: x @ np.array([1.0, 2.0, 3.0]), k=3, n=4096, n_boot=100)
    expected = np.array([1, 4, 9]) / 14
    np.testing.assert_allclose(s.first, expected, atol=0.01)
    np.testing.assert_allclose(s.total, expected, atol=0.01)
    assert np.all(s.first_ci[:, 0] <= expected) and np.all(expected <= s.first_ci[:, 1])
    assert s.samples.shape == (4096 * 5, 3)  # every evaluated point kept


# --- aggregation -----------------------------------------------------------------------------

def test_geometric_never_fails_on_zeros() -> None:
    x = np.array([[0.0, 50.0, 100.0], [10.0, 0.0, 0.0], [np.nan, 0.0, 20.0], [25.0, 25.0, 25.0]])
    w = np.array([1.0, 2.0, 1.0])
    with np.errstate(all="raise"):
        prop = combine(x, w, {"method": "geometric"})
        eps = combine(x, w, {"method": "geometric", "zeros": "epsilon", "epsilon": 1.0})
        shift = combine(x, w, {"method": "geometric", "zeros": "shift", "shift": 1.0})
    np.testing.assert_allclose(prop, [0, 0, 0, 25])
    assert eps[0] == pytest.approx((1 * 50**2 * 100) ** 0.25)
    assert shift[3] == pytest.approx(25.0)
    assert shift[0] == pytest.approx((1 * 51**2 * 101) ** 0.25 - 1)
    assert np.all(np.isfinite(np.concatenate([prop, eps, shift])))


def test_other_means_and_coverage() -> None:
    x = np.array([[1.0, 4.0], [2.0, np.nan]])
    w = np.array([1.0, 1.0])
    np.testing.assert_allclose(combine(x, w, {"method": "harmonic"}), [1.6, 2.0])
    np.testing.assert_allclose(combine(x, w, {"method": "generalised", "p": 2}),
                               [np.sqrt(8.5), 2.0])
    spec = spec_from_dict({"tree": [{"code": "I", "children": [{"code": "a"}, {"code": "b"}]}],
                           "index": {"aggregate": {"min_coverage": 1.0}}})
    raw = panel({"a": {("u", "1"): 1.0, ("v", "1"): 2.0, ("w", "1"): 3.0},
                 "b": {("u", "1"): 1.0, ("v", "1"): np.nan, ("w", "1"): 0.0}})
    res = Coin.build(spec, raw).results
    assert np.isnan(res.loc[("v", "1"), "I"]) and not np.isnan(res.loc[("u", "1"), "I"])


def test_copeland_and_topsis_nodes() -> None:
    spec = spec_from_dict({"tree": [{"code": "I", "children": [{"code": "a"}, {"code": "b"}]}],
                           "index": {"aggregate": {"method": "copeland"}}})
    raw = panel({"a": {("u", "1"): 3.0, ("v", "1"): 2.0, ("w", "1"): 1.0},
                 "b": {("u", "1"): 3.0, ("v", "1"): 1.0, ("w", "1"): 2.0}})
    res = Coin.build(spec, raw).results
    assert res["I"].tolist() == [2.0, -1.0, -1.0]  # u beats both; v and w tie
    res = Coin.build(spec.with_settings({"aggregate": {"method": "topsis"}}), raw).results
    assert res.loc[("u", "1"), "I"] == 1.0 and res["I"].between(0, 1).all()


# --- normalisation ---------------------------------------------------------------------------

def test_goalposts_hold_under_global_panel_normalisation() -> None:
    spec = spec_from_dict({"tree": [{"code": "I", "children": [
        {"code": "a", "goalposts": [10, 20]}, {"code": "b"}]}],
        "index": {"normalise": {"method": "minmax", "global": True, "range": [0, 100],
                                "overrides": {"a": {"method": "goalposts"}}}}})
    raw = panel({"a": {("u", "2020"): 5.0, ("v", "2020"): 15.0, ("u", "2021"): 25.0,
                       ("v", "2021"): 20.0},
                 "b": {("u", "2020"): 1.0, ("v", "2020"): 2.0, ("u", "2021"): 3.0,
                       ("v", "2021"): 5.0}})
    norm = Coin.build(spec, raw).stage("Normalised")
    assert norm["a"].tolist() == [0.0, 100.0, 50.0, 100.0]  # clipped at both goalposts
    # global: b's min and max come from the whole panel, so scores compare across periods
    assert norm["b"].tolist() == [0.0, 50.0, 25.0, 100.0]
    per_period = Coin.build(spec.with_settings({"normalise": {"global": False}}), raw)
    assert per_period.stage("Normalised")["b"].tolist() == [0.0, 0.0, 100.0, 100.0]
    assert per_period.stage("Normalised")["a"].tolist() == norm["a"].tolist()


def test_log_then_normalise_and_bad_log() -> None:
    x = np.array([1.0, np.e, np.e**2])
    assert normalise_vector(x, {"method": "minmax", "log": True, "range": [0, 1]}).tolist() == \
        [0, 0.5, 1]
    with pytest.raises(ValidationFailed):
        normalise_vector(np.array([0.0, 1.0]), {"method": "minmax", "log": True})


# --- imputation ------------------------------------------------------------------------------

def test_panel_imputation_never_alters_observed_values() -> None:
    nan = np.nan
    raw = panel({"a": {("u", "2020"): 1.0, ("u", "2021"): nan, ("u", "2022"): 3.0,
                       ("u", "2023"): nan, ("v", "2020"): nan, ("v", "2021"): 10.0,
                       ("v", "2022"): nan, ("v", "2023"): 14.0}})
    lin, _ = impute(raw, "linear")
    assert lin["a"].tolist() == [1, 2, 3, nan, nan, 10, 12, 14] or np.allclose(
        lin["a"], [1, 2, 3, nan, nan, 10, 12, 14], equal_nan=True)
    locf, info = impute(raw, ["linear", "locf"])
    np.testing.assert_allclose(locf["a"], [1, 2, 3, 3, nan, 10, 12, 14], equal_nan=True)
    assert info["still_missing"] == 1
    groups = pd.Series({"u": "x", "v": "x"})
    gm, _ = impute(raw, "group_median", groups)
    np.testing.assert_allclose(gm["a"], [1, 10, 3, 14, 1, 10, 3, 14])
    observed = raw["a"].notna()
    for out in (lin, locf, gm):
        assert out["a"][observed].tolist() == raw["a"][observed].tolist()
