"""Target odds fall as the target gets harder, and respect direction and observed deadlines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citygrowth.analysis.odds import target_odds
from citygrowth.errors import ValidationFailed
from tests.analysis.synth import quarters


def _series() -> pd.Series:
    rng = np.random.default_rng(2)
    return pd.Series(100 + 6.0 * np.arange(12) + rng.normal(0, 3, 12),
                     index=quarters("2023-Q1", 12))


def test_odds_are_monotone_in_difficulty() -> None:
    s = _series()
    grid = np.linspace(140, 260, 41)
    up = [target_odds(s, t, "2026-Q4", "up") for t in grid]
    assert all(a >= b for a, b in zip(up, up[1:], strict=False))
    assert up[0] > 0.99 and up[-1] < 0.01
    down = [target_odds(s, t, "2026-Q4", "down") for t in grid]
    assert all(a <= b for a, b in zip(down, down[1:], strict=False))


def test_expected_value_gives_about_even_odds() -> None:
    s = _series()
    p = target_odds(s, 100 + 6.0 * 15, "2026-Q4", "up")
    assert 0.25 < p < 0.75


def test_deadline_inside_the_data_uses_the_observation() -> None:
    s = _series()
    assert target_odds(s, float(s["2024-Q2"]) - 1, "2024-Q2", "up") == 1.0
    assert target_odds(s, float(s["2024-Q2"]) + 1, "2024-Q2", "up") == 0.0


def test_bad_direction_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        target_odds(_series(), 10, "2026-Q4", "sideways")
