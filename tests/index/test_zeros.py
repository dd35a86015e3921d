"""Geometric and harmonic means over min-max scores: a zero sets a unit's score whatever its
other values. Found and named before it decides a rank, with remedies that work, on the coin
and the dense path alike, and in the uncertainty analysis.

``tests/data/index/shibei_streets.csv.gz`` is the street level of the demo district (22
streets, 2019–2026, the values ``citygrowth demo`` rolls up from its illustrative data): the
panel on which the workbench showed 17 of 22 streets tied at rank 6."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citygrowth.catalog.framework import builtin_framework
from citygrowth.errors import ValidationFailed
from citygrowth.index import dense
from citygrowth.index.aggregate import combine
from citygrowth.index.coin import Coin
from citygrowth.index.ibis_ops import compute_expr, memtable
from citygrowth.index.sensitivity import uncertainty
from citygrowth.index.service import level_spec
from citygrowth.index.spec import spec_for_framework, spec_from_dict
from citygrowth.index.zeros import NegativeInMean, describe
from tests.conftest import DATA
from tests.index.test_ibis import TREE, small_panel, to_long

GEOMETRIC_MINMAX = {"normalise": {"method": "minmax"}, "aggregate": {"method": "geometric"}}


@pytest.fixture(scope="module")
def streets() -> Coin:
    """The server's street-level run of the demo district (``compute_level``'s spec)."""
    rules = {i.code: i.rollup.rule for i in builtin_framework().indicators}
    spec = level_spec(spec_for_framework(builtin_framework()), rules)
    long = pd.read_csv(DATA / "index" / "shibei_streets.csv.gz",
                       dtype={"unit": str, "period": str})
    raw = long.pivot(index=["unit", "period"], columns="indicator", values="value")
    raw.columns.name = None
    return Coin.build(spec, raw)


def latest(coin: Coin) -> pd.Series:
    idx = coin.results[coin.spec.root]
    return idx.xs(max(idx.index.get_level_values(1)), level=1)


def test_geometric_over_minmax_ties_17_of_22_streets_and_says_so(streets: Coin) -> None:
    assert not streets.warnings  # the published run: arithmetic means, no warning
    alt = streets.regen(GEOMETRIC_MINMAX)
    cgi = latest(alt)
    ranks = cgi.rank(ascending=False, method="min")
    # the artefact as it was: 17 of 22 streets at 0, all tied at rank 6
    assert len(cgi) == 22 and int((cgi == 0).sum()) == 17
    assert sorted(ranks[cgi == 0].unique()) == [6.0]
    # … and now named before it decides a rank
    root = next(w for w in alt.warnings if w["node"] == "CGI")
    zeroed = set(cgi.index[cgi == 0])
    assert zeroed <= set(root["units"]) and "2026" in root["periods"]
    assert root["method"] == "geometric" and root["rows"] >= 17
    pillars = [w for w in alt.warnings if w["node"] in ("ECO", "IND", "APP", "SOC", "GOV")]
    assert pillars and all(w["indicators"] for w in pillars)
    assert all(i in alt.spec.indicators for i in root["indicators"])
    kinds = [r["kind"] for r in root["remedies"]]
    assert kinds == ["shift", "rescale"]
    text = describe(root)
    assert "CGI" in text and "shift" in text and "[1, 100]" in text
    assert alt.zero_affected is not None
    assert alt.zero_affected.xs("2026", level=1)[list(zeroed)].all()


@pytest.mark.parametrize("remedy", ["shift", "rescale"])
def test_each_remedy_gives_every_street_a_rank_of_its_own(streets: Coin, remedy: str) -> None:
    alt = streets.regen(GEOMETRIC_MINMAX)
    root = next(w for w in alt.warnings if w["node"] == "CGI")
    changes = next(r["changes"] for r in root["remedies"] if r["kind"] == remedy)
    fixed = alt.regen(changes)
    cgi = latest(fixed)
    assert not fixed.warnings and (cgi > 0).all()
    assert cgi.rank(ascending=False, method="min").nunique() == 22


def test_harmonic_and_low_order_generalised_means_warn_arithmetic_does_not() -> None:
    spec = spec_from_dict({"tree": [{"code": "I", "children": [{"code": "a"}, {"code": "b"}]}],
                           "index": {"normalise": {"method": "minmax"}}})
    raw = small_panel(4, units=6, periods=2)[["a", "b"]]
    coin = Coin.build(spec, raw)
    assert not coin.warnings
    for aggregate in ({"method": "harmonic"}, {"method": "generalised", "p": -1},
                      {"method": "geometric"}):
        alt = coin.regen({"aggregate": aggregate})
        (w,) = alt.warnings
        assert w["node"] == "I" and set(w["indicators"]) <= {"a", "b"}
        # two periods, each with a worst unit per indicator at 0
        assert 2 <= w["rows"] <= 4 and w["of"] == 12
        shifted = alt.regen({"aggregate": {"zeros": "shift", "shift": 1}})
        assert not shifted.warnings
        # only a unit at 0 on both indicators still scores 0 (it is the worst on both)
        both = (shifted.stage("Normalised")[["a", "b"]] == 0).all(axis=1)
        assert ((shifted.results["I"] == 0) == both).all()
    assert not coin.regen({"aggregate": {"method": "generalised", "p": 2}}).warnings


def test_harmonic_shift_is_the_shifted_mean() -> None:
    x = np.array([[0.0, 4.0], [1.0, 3.0]])
    w = np.array([1.0, 1.0])
    got = combine(x, w, {"method": "harmonic", "zeros": "shift", "shift": 1.0})
    np.testing.assert_allclose(got, [2 / (1 / 1 + 1 / 5) - 1, 2 / (1 / 2 + 1 / 4) - 1])


def test_a_geometric_mean_of_negative_scores_is_named_with_its_remedy() -> None:
    spec = spec_from_dict({"tree": [{"code": "I", "children": [{"code": "a"}, {"code": "b"}]}],
                           "index": {"normalise": {"method": "zscore"},
                                     "aggregate": {"method": "geometric"}}})
    raw = small_panel(4, units=6, periods=1)[["a", "b"]]
    with pytest.raises(NegativeInMean) as err:
        Coin.build(spec, raw)
    problem = err.value.problems[0]
    assert problem.params["node"] == "I" and problem.params["child"] in ("a", "b")
    assert problem.params["value"] < 0 and problem.params["unit"].startswith("u")
    shift = err.value.params["remedies"][0]["changes"]
    assert shift["aggregate"]["shift"] >= 1 - problem.params["value"]
    ok = Coin.build(spec.with_settings(shift), raw)
    assert not ok.warnings and ok.results["I"].notna().all()


def test_the_dense_path_warns_exactly_like_the_coin() -> None:
    spec = spec_from_dict(TREE).with_settings({"normalise": {"overrides": {}}})
    raw = small_panel(6, units=15, periods=3)
    coin = Coin.build(spec, raw)
    fast = dense.run(spec, to_long(raw))
    assert coin.warnings and fast.warnings == coin.warnings
    got = fast.long().pivot(index=["unit", "period"], columns="code", values="value")
    np.testing.assert_allclose(got.to_numpy(float),
                               coin.results[got.columns].reindex(got.index).to_numpy(float),
                               atol=1e-9)


def test_uncertainty_says_which_ranks_carry_the_artefact(streets: Coin) -> None:
    factors = [{"name": "aggregation", "path": "aggregate.method",
                "options": ["arithmetic", "geometric"]}]
    plain = uncertainty(streets, factors, n=8, seed=3)
    geometric_runs = int((plain.parameters["aggregation"] == "geometric").sum())
    assert 0 < geometric_runs < 8
    assert plain.zero_replications == geometric_runs
    last = plain.summary[plain.summary["period"] == "2026"]
    assert last["zero_share"].max() == pytest.approx(geometric_runs / 8)
    remedied = uncertainty(streets, factors, n=8, seed=3,
                           base={"aggregate": {"zeros": "shift", "shift": 1}})
    assert remedied.zero_replications == 0 and remedied.summary["zero_share"].eq(0).all()


def test_the_ibis_expressions_refuse_a_zeros_rule_they_cannot_apply() -> None:
    spec = spec_from_dict(TREE).with_settings(
        {"aggregate": {"nodes": {"P2": {"method": "harmonic", "zeros": "shift"}}}})
    weights = {c: n.weight for c, n in spec.nodes.items()}
    with pytest.raises(ValidationFailed) as err:
        compute_expr(memtable(to_long(small_panel())), spec, weights)
    assert err.value.problems[0].params["method"] == "harmonic/shift"
