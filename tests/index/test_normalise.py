"""Every normaliser in both directions: hand-computed values, COINr's conventions (its
``n_*`` formulas, applied the way ``Normalise.numeric`` applies a direction: x × direction
first) on the ASEM data, pymcdm's normalisations, and the same numbers on every path."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from pymcdm import normalizations as pm

from citygrowth.errors import ValidationFailed
from citygrowth.index import dense
from citygrowth.index.coin import Coin
from citygrowth.index.ibis_ops import compute_expr, memtable, quiet_backends
from citygrowth.index.normalise import normalise_vector
from citygrowth.index.spec import spec_from_dict
from tests.conftest import DATA
from tests.index.test_ibis import small_panel, to_long

X = np.array([2.0, 4.0, 6.0, 10.0])
TIED = np.array([2.0, 4.0, 4.0, 10.0])
SD = np.sqrt(35 / 3)  # sample sd of X: squared deviations 12.25 + 2.25 + 0.25 + 20.25

# (settings, values, reference unit, direction +1, direction −1), worked by hand
CASES = [
    ({"method": "minmax", "range": [0, 1]}, X, None, [0, 0.25, 0.5, 1], [1, 0.75, 0.5, 0]),
    ({"method": "minmax"}, X, None, [0, 25, 50, 100], [100, 75, 50, 0]),
    ({"method": "dist_max", "range": [0, 1]}, X, None, [0, 0.25, 0.5, 1], [1, 0.75, 0.5, 0]),
    ({"method": "zscore"}, X, None, (X - 5.5) / SD, (5.5 - X) / SD),
    ({"method": "zscore", "mean": 50, "sd": 10}, X, None, 50 + 10 * (X - 5.5) / SD,
     50 + 10 * (5.5 - X) / SD),
    # the reference is the second unit (4): best = 4, worst = min (+1) or max (−1)
    ({"method": "dist_ref"}, X, 1, [0, 1, 2, 4], [8 / 6, 1, 4 / 6, 0]),
    ({"method": "dist_ref", "cap": True}, X, 1, [0, 1, 1, 1], [1, 1, 4 / 6, 0]),
    ({"method": "dist_target", "target": 6}, X, None, [0, 0.5, 1, 1], [1, 1, 1, 0]),
    ({"method": "dist_target", "target": 4, "cap": False}, X, None, [0, 1, 2, 4],
     [8 / 6, 1, 4 / 6, 0]),
    # the cheapest unit of a cost scores 1, one five times as costly 0.2
    ({"method": "fraction_max"}, X, None, [0.2, 0.4, 0.6, 1], [1, 0.5, 2 / 6, 0.2]),
    ({"method": "rank"}, TIED, None, [1, 2, 2, 4], [4, 2, 2, 1]),
    ({"method": "rank", "ties": "average"}, TIED, None, [1, 2.5, 2.5, 4], [4, 2.5, 2.5, 1]),
    ({"method": "percentile"}, TIED, None, [0, 100 / 3, 100 / 3, 100],
     [100, 100 / 3, 100 / 3, 0]),
    ({"method": "borda"}, TIED, None, [0, 1, 1, 3], [3, 1, 1, 0]),
    ({"method": "goalposts", "goalposts": [4, 8]}, X, None, [0, 0, 50, 100],
     [100, 100, 50, 0]),
    ({"method": "goalposts", "goalposts": [4, 8], "clip": False, "range": [0, 1]}, X, None,
     [-0.5, 0, 0.5, 1.5], [1.5, 1, 0.5, -0.5]),
]


@pytest.mark.parametrize(("cfg", "x", "ref", "up", "down"), CASES,
                         ids=[f"{c[0]['method']}-{i}" for i, c in enumerate(CASES)])
def test_each_normaliser_in_both_directions(cfg: dict, x: np.ndarray, ref: int | None,
                                            up: list[float], down: list[float]) -> None:
    np.testing.assert_allclose(normalise_vector(x, cfg, 1, ref), up, atol=1e-12)
    np.testing.assert_allclose(normalise_vector(x, cfg, -1, ref), down, atol=1e-12)
    # a cost criterion: the cheapest unit (the first) is never behind the dearest
    got = normalise_vector(x, cfg, -1, ref)
    assert got[0] >= got[-1] and got[0] > got[-1] - 1e-12


def test_undefined_cases_are_named() -> None:
    with pytest.raises(ValidationFailed) as err:
        normalise_vector(np.array([0.0, 2.0, 5.0]), {"method": "fraction_max"}, -1, code="COST")
    assert err.value.problems[0].params["code"] == "COST"
    with pytest.raises(ValidationFailed):  # the reference unit is the worst: no distance
        normalise_vector(X, {"method": "dist_ref"}, 1, ref_index=0)
    with pytest.raises(ValidationFailed):
        normalise_vector(X, {"method": "rank", "ties": "dense"})
    with pytest.raises(ValidationFailed):
        normalise_vector(X, {"method": "nope"})


# --- COINr's conventions on the ASEM data -------------------------------------------------
# COINr's Normalise.numeric multiplies x by the direction, then calls n_<method>(x, ...):
# n_minmax (x − min)/(max − min)·(u − l) + l; n_zscore (x − mean)/sd·s + m;
# n_dist2max 1 − (max − x)/(max − min); n_dist2ref 1 − (x_ref − x)/(x_ref − min), capped
# with cap_max; n_dist2targ 1 − (t − x)/(t − min) (t given in the flipped scale);
# n_fracmax x / max; n_rank rank(ties "min"); n_prank (rank − 1)/(n − 1); n_borda rank − 1;
# n_goalposts (x − l)/(u − l) truncated to [0, 1] (for −1 the goalposts flip as well).

def _coinr(method: str, x: np.ndarray, **p: float) -> np.ndarray:
    lo, hi = np.nanmin(x), np.nanmax(x)
    rank = pd.Series(x).rank(method="min").to_numpy()
    n = np.sum(~np.isnan(x))
    out = {
        "minmax": lambda: (x - lo) / (hi - lo) * 100,
        "zscore": lambda: (x - np.nanmean(x)) / np.nanstd(x, ddof=1),
        "dist_max": lambda: 1 - (hi - x) / (hi - lo),
        "dist_ref": lambda: 1 - (x[int(p["iref"])] - x) / (x[int(p["iref"])] - lo),
        "dist_target": lambda: 1 - (p["targ"] - x) / (p["targ"] - lo),
        "fraction_max": lambda: x / hi,
        "rank": lambda: rank,
        "percentile": lambda: (rank - 1) / (n - 1),
        "borda": lambda: rank - 1,
    }[method]()
    return np.asarray(out)


@pytest.fixture(scope="module")
def asem() -> tuple[pd.DataFrame, dict[str, int]]:
    df = pd.read_csv(DATA / "index" / "asem" / "expected_Treated.csv")
    meta = pd.read_csv(DATA / "index" / "asem" / "ASEM_iMeta.csv")
    ind = meta[meta["Type"] == "Indicator"]
    directions = dict(zip(ind["iCode"], ind["Direction"].astype(int), strict=True))
    return df[df["Year"] == df["Year"].max()], directions


OURS = {"minmax": {"method": "minmax"}, "zscore": {"method": "zscore"},
        "dist_max": {"method": "dist_max", "range": [0, 1]},
        "fraction_max": {"method": "fraction_max"}, "rank": {"method": "rank"},
        "percentile": {"method": "percentile", "range": [0, 1]},
        "borda": {"method": "borda"}}


@pytest.mark.parametrize("method", list(OURS))
def test_coinr_conventions_on_asem(asem: tuple[pd.DataFrame, dict[str, int]],
                                   method: str) -> None:
    data, directions = asem
    checked = 0
    for code, direction in directions.items():
        x = data[code].to_numpy(float)
        if np.nanmax(x) == np.nanmin(x) or (method == "fraction_max" and np.nanmin(x) <= 0):
            continue
        ours = normalise_vector(x, OURS[method], direction)
        if method == "fraction_max" and direction == -1:
            # COINr's x/max of −x is x/min: the cheapest unit would score lowest. Ours is
            # pymcdm's linear normalisation of a cost, min/x: the cheapest scores 1.
            theirs = _coinr(method, -x)
            cheapest = np.nanargmin(x)
            assert np.nanargmin(theirs) == cheapest and ours[cheapest] == np.nanmax(ours) == 1
            ok = ~np.isnan(x)
            np.testing.assert_allclose(ours[ok], pm.linear_normalization(x[ok], cost=True))
        else:
            np.testing.assert_allclose(ours, _coinr(method, x * direction), atol=1e-12)
        checked += 1
    assert checked >= 35  # of 49 (a few are constant or hold zeros)


def test_coinr_distances_on_asem(asem: tuple[pd.DataFrame, dict[str, int]]) -> None:
    data, directions = asem
    units = data["UnitCode"].tolist()
    ref = units.index("DEU")
    for code, direction in directions.items():
        x = data[code].to_numpy(float)
        flipped = x * direction
        if np.isnan(flipped[ref]) or flipped[ref] == np.nanmin(flipped):
            continue
        ours = normalise_vector(x, {"method": "dist_ref"}, direction, ref)
        np.testing.assert_allclose(ours, _coinr("dist_ref", flipped, iref=ref), atol=1e-12)
        target = float(np.nanquantile(x, 0.8 if direction == 1 else 0.2))
        ours = normalise_vector(x, {"method": "dist_target", "target": target, "cap": False},
                                direction)
        theirs = _coinr("dist_target", flipped, targ=target * direction)
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_minmax_and_fraction_max_are_pymcdms_normalisations() -> None:
    rng = np.random.default_rng(11)
    for x in (rng.uniform(1, 50, 9), rng.lognormal(0, 1, 20)):
        for cost in (False, True):
            d = -1 if cost else 1
            np.testing.assert_allclose(
                normalise_vector(x, {"method": "minmax", "range": [0, 1]}, d),
                pm.minmax_normalization(x, cost=cost), atol=1e-12)
            np.testing.assert_allclose(normalise_vector(x, {"method": "fraction_max"}, d),
                                       pm.linear_normalization(x, cost=cost), atol=1e-12)


# --- the same numbers on every path ------------------------------------------------------

COSTS = {"code": "T", "tree": [{"code": "IDX", "children": [
    {"code": "P1", "children": [{"code": "a", "direction": -1}, {"code": "b"}]},
    {"code": "P2", "children": [{"code": "c", "direction": -1}, {"code": "d"},
                                {"code": "e", "direction": -1}]}]}],
    "index": {"normalise": {"method": "fraction_max",
                            "overrides": {"e": {"method": "fraction_max", "global": True}}},
              "aggregate": {"method": "arithmetic",
                            "nodes": {"IDX": {"method": "geometric"}}}}}


def test_fraction_of_the_best_cost_is_the_same_on_every_path() -> None:
    spec = spec_from_dict(COSTS)
    raw = small_panel(8, units=10, periods=3)
    coin = Coin.build(spec, raw)
    norm = coin.stage("Normalised")
    for _period, block in raw.groupby(level=1):
        a = block["a"].dropna()
        assert norm.loc[a.idxmin(), "a"] == 1.0  # the cheapest scores 1
        np.testing.assert_allclose(norm.loc[a.index, "a"], a.min() / a)
    long = to_long(raw)
    fast = dense.run_long(spec, long).pivot(index=["unit", "period"], columns="code",
                                            values="value")
    exp = coin.results[fast.columns].reindex(fast.index)
    np.testing.assert_allclose(fast.to_numpy(float), exp.to_numpy(float), atol=1e-9)
    with quiet_backends():
        got = ibis.duckdb.connect().to_pyarrow(
            compute_expr(memtable(long), spec, coin.weights)).to_pandas()
    got = got.pivot(index=["unit", "period"], columns="code", values="value")
    np.testing.assert_allclose(got.reindex(exp.index)[exp.columns].to_numpy(float),
                               exp.to_numpy(float), atol=1e-9)


def test_a_cost_at_zero_is_refused_alike_by_the_coin_and_the_dense_path() -> None:
    spec = spec_from_dict(COSTS)
    raw = small_panel(8, units=10, periods=3)
    raw.iloc[5, 2] = 0.0  # indicator c (a cost) at zero
    for run in (lambda: Coin.build(spec, raw), lambda: dense.run_long(spec, to_long(raw))):
        with pytest.raises(ValidationFailed) as err:
            run()
        assert err.value.problems[0].params["code"] == "c"
