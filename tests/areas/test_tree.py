"""The in-memory tree and roll-ups with exact numbers."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from citygrowth.areas.tree import AreaTree, rollup, rollup_all
from citygrowth.errors import ValidationFailed
from tests.factories import DISTRICT, STREET_A, STREET_B, make_areas

A1, A2 = f"{STREET_A}001", f"{STREET_A}002"
B1, B2 = f"{STREET_B}001", f"{STREET_B}002"


@pytest.fixture
def tree(sqlite_session: Session) -> AreaTree:
    make_areas(sqlite_session)
    t = AreaTree.load(sqlite_session)
    # give communities different populations so that weighting matters
    t.population.update({A1: 1000, A2: 3000, B1: 2000, B2: 2000})
    return t


def test_tree_navigation(tree: AreaTree) -> None:
    assert len(tree) == 15
    assert tree.children[STREET_A] == [A1, A2]
    assert tree.ancestors(f"{A1}001") == [A1, STREET_A, DISTRICT]
    assert tree.descendants(DISTRICT, "community") == [A1, A2, B1, B2]
    assert tree.descendants(STREET_B) == [B1, f"{B1}001", f"{B1}002", B2, f"{B2}001",
                                          f"{B2}002"]
    assert tree.codes("street") == [STREET_A, STREET_B]
    assert list(tree.population_frame().columns) == ["area_code", "level", "population"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"area_code": [A1, A2, B1, B2], "value": [10.0, 20.0, 30.0, None],
                         "numerator": [1, 3, 5, 7], "denominator": [10, 10, 20, 0]})


def test_sum(tree: AreaTree) -> None:
    out = rollup(_frame(), "sum", "street", tree)
    assert out.to_dict("records") == [
        {"area_code": STREET_A, "value": 30.0, "count": 2, "expected": 2},
        {"area_code": STREET_B, "value": 30.0, "count": 1, "expected": 2},
    ]
    assert rollup(_frame(), "sum", "district")["value"].tolist() == [60.0]


def test_mean(tree: AreaTree) -> None:
    out = rollup(_frame(), "mean", "street")
    assert out["value"].tolist() == [15.0, 30.0]
    assert "expected" not in out.columns


def test_population_weighted_mean(tree: AreaTree) -> None:
    out = rollup(_frame(), "population_weighted_mean", "street", tree)
    # street A: (10·1000 + 20·3000) / 4000 = 17.5; street B: only B1 has a value → 30
    assert out["value"].tolist() == [17.5, 30.0]
    district = rollup(_frame(), "population_weighted_mean", "district", tree)
    # (10·1000 + 20·3000 + 30·2000) / 6000 = 21.666…
    assert district["value"].iloc[0] == pytest.approx(130000 / 6000)


def test_explicit_weight_column_wins(tree: AreaTree) -> None:
    frame = _frame().assign(weight=[1, 1, 1, 1])
    out = rollup(frame, "population_weighted_mean", "street", tree)
    assert out["value"].tolist() == [15.0, 30.0]


def test_ratio_of_sums(tree: AreaTree) -> None:
    out = rollup(_frame(), "ratio_of_sums", "street")
    # A: (1+3)/(10+10) = 0.2; B: (5+7)/(20+0) = 0.6
    assert out["value"].tolist() == [0.2, 0.6]
    zero = pd.DataFrame({"area_code": [A1], "numerator": [1], "denominator": [0]})
    assert math.isnan(rollup(zero, "ratio_of_sums", "street")["value"].iloc[0])


def test_group_columns_are_kept(tree: AreaTree) -> None:
    frame = pd.concat([_frame().assign(period="2024"), _frame().assign(period="2025")])
    frame.loc[frame["period"] == "2025", "value"] *= 2
    out = rollup(frame, "sum", "district", tree, by=["period"])
    assert out[["period", "area_code", "value", "expected"]].values.tolist() == [
        ["2024", DISTRICT, 60.0, 4], ["2025", DISTRICT, 120.0, 4]]


def test_all_missing_sums_to_nan_not_zero(tree: AreaTree) -> None:
    frame = pd.DataFrame({"area_code": [B2], "value": [None]})
    out = rollup(frame, "sum", "street")
    assert math.isnan(out["value"].iloc[0]) and out["count"].iloc[0] == 0


def test_rollup_all_levels(tree: AreaTree) -> None:
    out = rollup_all(_frame(), "sum", tree)
    assert out[["level", "area_code"]].values.tolist() == [
        ["district", DISTRICT], ["street", STREET_A], ["street", STREET_B],
        ["community", A1], ["community", A2], ["community", B1], ["community", B2]]
    assert out["value"].tolist()[:6] == [60.0, 30.0, 30.0, 10.0, 20.0, 30.0]
    assert math.isnan(out["value"].iloc[-1])
    assert out["count"].tolist() == [3, 2, 1, 1, 1, 1, 0]


@pytest.mark.parametrize(("frame", "rule", "level", "fragment"), [
    (pd.DataFrame({"area_code": [A1], "value": [1]}), "median", "street", "Unknown roll-up"),
    (pd.DataFrame({"area_code": [A1], "value": [1]}), "sum", "planet", "Unknown level"),
    (pd.DataFrame({"area_code": [A1]}), "sum", "street", "no value column"),
    (pd.DataFrame({"area_code": [A1], "value": [1]}), "ratio_of_sums", "street",
     "no numerator column"),
    (pd.DataFrame({"area_code": [A1, STREET_A], "value": [1, 2]}), "sum", "district",
     "one level; found street, community"),
    (pd.DataFrame({"area_code": [STREET_A], "value": [1]}), "sum", "community",
     "finer level community"),
    (pd.DataFrame({"area_code": ["1234"], "value": [1]}), "sum", "district", "malformed"),
])
def test_bad_rollups_are_explained(frame: pd.DataFrame, rule: str, level: str,
                                   fragment: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        rollup(frame, rule, level)
    assert fragment in info.value.problems[0].render("en")["message"]


def test_weighted_mean_needs_weights() -> None:
    with pytest.raises(ValidationFailed):
        rollup(pd.DataFrame({"area_code": [A1], "value": [1]}), "population_weighted_mean",
               "street")
