"""Structural breaks and cautiously worded lead/lag relations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from citygrowth.analysis.changes import (
    binary_segmentation,
    breaks,
    chow_test,
    cusum_test,
    relation,
)
from citygrowth.i18n import translate
from tests.analysis.synth import months


def test_a_level_shift_is_found_where_it_happened() -> None:
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(10, 1, 30), rng.normal(16, 1, 30)])
    assert cusum_test(y).significant
    assert binary_segmentation(y) == [30]
    f, p = chow_test(y, 30)
    assert p < 0.001
    found = breaks(pd.Series(y, index=months("2020-01", 60)))
    assert found[0]["period"] == "2022-07" and round(found[0]["after"] - found[0]["before"]) == 6


def test_no_break_in_noise() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(0, 1, 60)
    assert not cusum_test(y).significant
    assert binary_segmentation(y) == []


def test_leading_relation_is_worded_as_association() -> None:
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(0, 1, 80))
    y = np.concatenate([[0, 0], x[:-2]]) + rng.normal(0, 0.2, 80)
    idx = months("2019-01", 80)
    rel = relation(pd.Series(x, index=idx), pd.Series(y, index=idx), "A", "B")
    assert rel["lag"] == 2 and rel["r"] > 0.8
    assert min(rel["granger"].values()) < 0.01
    text = translate(rel["message"], "en").format(**rel["params"])
    assert "associated" in text and "cause" in text
    assert "caus" not in text.replace("not evidence of cause", "")
