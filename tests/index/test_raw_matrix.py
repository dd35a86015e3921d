"""``on: raw``: entropy and CRITIC weights and TOPSIS on the raw decision matrix, with cost
criteria as pymcdm's types — checked against pymcdm itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pymcdm import methods as pm_methods
from pymcdm import normalizations as pm_norm
from pymcdm import weights as pm_weights

from citygrowth.errors import ValidationFailed
from citygrowth.index.coin import Coin
from citygrowth.index.spec import spec_from_dict

RNG = np.random.default_rng(21)
DIRECTIONS = [-1, 1, -1, 1, 1]  # a (a cost, pymcdm's "C1 reversed"), b, c (a cost), d, e
CODES = list("abcde")
PYMCDM_WEIGHTS = {"entropy": pm_weights.entropy_weights, "critic": pm_weights.critic_weights}
PYMCDM_NORMS = {"minmax": pm_norm.minmax_normalization, "vector": pm_norm.vector_normalization}


def spec(weights: str, normalisation: str, on: str = "raw"):  # type: ignore[no-untyped-def]
    return spec_from_dict({"tree": [{"code": "I", "children": [
        {"code": c, "direction": d} for c, d in zip(CODES, DIRECTIONS, strict=True)]}],
        "index": {"weights": {"method": weights, "on": on},
                  "aggregate": {"method": "topsis", "on": on,
                                "normalisation": normalisation}}})


def panel(matrix: np.ndarray, periods: int = 1) -> pd.DataFrame:
    units = len(matrix) // periods
    idx = pd.MultiIndex.from_tuples([(f"u{i % units:02d}", str(2020 + i // units))
                                     for i in range(len(matrix))], names=["unit", "period"])
    return pd.DataFrame(matrix, index=idx, columns=CODES)


MATRICES = [RNG.uniform(1, 100, (12, 5)), RNG.lognormal(2, 1, (25, 5)),
            np.array([[250, 16, 12, 5, 7], [200, 16, 8, 3, 9], [300, 32, 16, 4, 2],
                      [275, 32, 8, 4, 5], [225, 16, 16, 2, 3]], dtype=float)]


@pytest.mark.parametrize("weighting", ["entropy", "critic"])
@pytest.mark.parametrize("normalisation", ["minmax", "vector"])
@pytest.mark.parametrize("m", MATRICES, ids=["uniform", "lognormal", "small"])
def test_weights_and_topsis_on_the_raw_matrix_are_pymcdms(
        weighting: str, normalisation: str, m: np.ndarray) -> None:
    coin = Coin.build(spec(weighting, normalisation), panel(m))
    w = PYMCDM_WEIGHTS[weighting](m)
    np.testing.assert_allclose([coin.weights[c] for c in CODES], w, atol=1e-12)
    types = np.array(DIRECTIONS)
    expected = pm_methods.TOPSIS(PYMCDM_NORMS[normalisation])(m, w, types)
    np.testing.assert_allclose(coin.results["I"].to_numpy(), expected, atol=1e-12)
    # the log says which matrix the weights came from
    node = next(e for e in coin.log if e.step == "aggregate").info["nodes"]["I"]
    assert node["weighting"]["method"] == weighting and node["weighting"]["on"] == "raw"


def test_on_normalised_scores_critic_sees_costs_reversed() -> None:
    """The default works on the normalised scores, where a cost is already reversed; its
    correlations change sign, and so do CRITIC's weights — the reason for ``on: raw``."""
    m = MATRICES[0]
    raw = Coin.build(spec("critic", "minmax"), panel(m)).weights
    scores = Coin.build(spec("critic", "minmax", on="normalised"), panel(m)).weights
    assert not np.allclose([raw[c] for c in CODES], [scores[c] for c in CODES], atol=1e-3)
    reversed_m = m * np.where(np.array(DIRECTIONS) < 0, -1, 1)
    np.testing.assert_allclose([scores[c] for c in CODES],
                               pm_weights.critic_weights(reversed_m), atol=1e-12)


def test_topsis_runs_per_period_and_weights_pool_the_periods() -> None:
    m = RNG.uniform(1, 50, (30, 5))  # 10 units × 3 periods
    coin = Coin.build(spec("entropy", "vector"), panel(m, periods=3))
    w = pm_weights.entropy_weights(m)
    np.testing.assert_allclose([coin.weights[c] for c in CODES], w, atol=1e-12)
    for p in range(3):
        block = m[p * 10:(p + 1) * 10]
        expected = pm_methods.TOPSIS(pm_norm.vector_normalization)(block, w,
                                                                   np.array(DIRECTIONS))
        got = coin.results["I"].xs(str(2020 + p), level=1).sort_index().to_numpy()
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_the_decision_matrix_is_the_data_as_they_enter_normalisation() -> None:
    m = MATRICES[1].copy()
    m[3, 1] = np.nan
    s = spec("entropy", "minmax").with_settings({"impute": {"method": "mean"}})
    coin = Coin.build(s, panel(m))
    filled = m.copy()
    filled[3, 1] = np.nanmean(m[:, 1])
    assert coin.decision_matrix().equals(coin.stage("Imputed"))
    np.testing.assert_allclose([coin.weights[c] for c in CODES],
                               pm_weights.entropy_weights(filled), atol=1e-12)


def test_a_bad_matrix_setting_and_negative_entropy_input_are_named() -> None:
    with pytest.raises(ValidationFailed):
        Coin.build(spec("entropy", "minmax", on="scores"), panel(MATRICES[0]))
    negative = MATRICES[0] - 50
    with pytest.raises(ValidationFailed) as err:
        Coin.build(spec("entropy", "minmax"), panel(negative))
    assert err.value.problems[0].params["node"] == "I"
