"""Forecasts against series whose future is known: a seasonal series and a trend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citygrowth.analysis.forecast import ForecastCache, forecast_series
from citygrowth.errors import ValidationFailed
from tests.analysis.synth import months


def _seasonal(n: int) -> np.ndarray:
    t = np.arange(n)
    return 200 + 0.5 * t + 20 * np.sin(2 * np.pi * t / 12)


def test_seasonal_series_is_forecast_within_tolerance_and_intervals_cover() -> None:
    rng = np.random.default_rng(0)
    truth = _seasonal(84)
    y = pd.Series(truth[:72] + rng.normal(0, 1.0, 72), index=months("2019-01", 72))
    fc = forecast_series(y, 12, cache=ForecastCache())
    assert fc.periods[0] == "2025-01" and fc.periods[-1] == "2025-12"
    assert fc.method not in ("naive", "drift")  # the season must be modelled
    err = np.abs(np.array(fc.mean) - truth[72:])
    assert err.max() < 4.0, err
    inside = (truth[72:] >= np.array(fc.lower95)) & (truth[72:] <= np.array(fc.upper95))
    assert inside.mean() >= 0.9
    assert all(lo80 >= lo95 for lo80, lo95 in zip(fc.lower80, fc.lower95, strict=True))
    # the backtest errors of every method are reported, with the seasonal naive baseline
    assert {"naive", "seasonal_naive", "ets", "theta", "arima"} <= set(fc.backtest)
    assert fc.backtest[fc.method]["mase"] <= fc.backtest["seasonal_naive"]["mase"]


def test_linear_trend_on_a_short_annual_series() -> None:
    rng = np.random.default_rng(1)
    years = [str(2012 + i) for i in range(12)]
    y = pd.Series(50 + 3.0 * np.arange(12) + rng.normal(0, 0.5, 12), index=years)
    fc = forecast_series(y, 3, cache=ForecastCache())
    assert fc.periods == ["2024", "2025", "2026"]
    truth = 50 + 3.0 * np.arange(12, 15)
    assert np.abs(np.array(fc.mean) - truth).max() < 2.5
    assert np.all((truth >= np.array(fc.lower95)) & (truth <= np.array(fc.upper95)))


def test_very_short_series_falls_back_to_a_baseline_and_says_so() -> None:
    fc = forecast_series(pd.Series([10.0, 12.0, 14.0], index=["2023", "2024", "2025"]), 2,
                         cache=ForecastCache())
    assert fc.method == "drift" and fc.mean == [16.0, 18.0]
    assert fc.backtest == {} and fc.notes
    one = forecast_series(pd.Series([5.0], index=["2025-Q1"]), 2, cache=ForecastCache())
    assert one.method == "naive" and one.mean == [5.0, 5.0]


def test_forecasts_are_cached_by_series_hash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = ForecastCache(tmp_path)
    y = pd.Series(np.linspace(1, 20, 20), index=months("2020-01", 20))
    first = forecast_series(y, 6, cache=cache)
    again = forecast_series(y, 6, cache=ForecastCache(tmp_path))  # read back from disk
    assert again == first and len(list(tmp_path.glob("*.json"))) == 1


def test_bad_horizon_and_empty_series_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        forecast_series(pd.Series([1.0, 2.0], index=["2024", "2025"]), 0)
    with pytest.raises(ValidationFailed):
        forecast_series(pd.Series([], dtype=float), 3)
