"""The forecasting methods: baselines (naive, seasonal naive, drift) and statsmodels' ETS,
ARIMA (small order search by AICc) and Theta.

Each method is a function ``(y, m, h) -> (mean, sd)`` over a numpy array ``y`` (regular, no
gaps), the season length ``m`` and the horizon ``h``; ``sd`` is the standard deviation of the
predictive distribution at each step ahead (normal approximation), from which 80 % and 95 %
intervals follow. statsmodels' warnings (convergence, frequency) are silenced here: a poor fit
shows up as a poor backtest score, which is how a method is chosen.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Method = Callable[[np.ndarray, int, int], tuple[np.ndarray, np.ndarray]]
Backtester = Callable[[np.ndarray, int, list[int], int], list[np.ndarray]]


def _sigma(resid: np.ndarray) -> float:
    r = resid[np.isfinite(resid)]
    if r.size < 2:
        return float("nan")
    return float(np.sqrt(np.mean(r**2)))


def naive(y: np.ndarray, m: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    steps = np.arange(1, h + 1)
    s = _sigma(np.diff(y))
    return np.full(h, y[-1]), s * np.sqrt(steps)


def seasonal_naive(y: np.ndarray, m: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    if m <= 1 or y.size < m:
        return naive(y, m, h)
    steps = np.arange(h)
    last = y[-m:]
    mean = last[steps % m]
    s = _sigma(y[m:] - y[:-m])
    return mean, s * np.sqrt(steps // m + 1)


def drift(y: np.ndarray, m: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    n = y.size
    if n < 2:
        return naive(y, m, h)
    slope = (y[-1] - y[0]) / (n - 1)
    steps = np.arange(1, h + 1)
    resid = np.diff(y) - slope
    s = _sigma(resid)
    return y[-1] + slope * steps, s * np.sqrt(steps * (1 + steps / max(n - 1, 1)))


def _quiet(fn: Callable[[], tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return fn()


def _ets_model(y: np.ndarray, m: int, n_spec: int) -> object:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel  # lazy: heavy library

    seasonal = "add" if m > 1 and n_spec >= 2 * m + 2 else None
    trend = "add" if n_spec >= 6 else None
    return ETSModel(
        pd.Series(y), error="add", trend=trend, damped_trend=bool(trend and n_spec >= 15),
        seasonal=seasonal, seasonal_periods=m if seasonal else None,
    )


def _ets_predict(res: object, n: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    pred = res.get_prediction(start=n, end=n + h - 1)  # type: ignore[attr-defined]
    return np.asarray(pred.predicted_mean, float), np.sqrt(np.asarray(pred.var_pred_mean))


def ets(y: np.ndarray, m: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """ETS with additive errors: additive (damped when n ≥ 15) trend, additive season when
    there are at least two full seasons plus two points."""

    def fit() -> tuple[np.ndarray, np.ndarray]:
        res = _ets_model(y, m, y.size).fit(disp=False, maxiter=100)  # type: ignore[attr-defined]
        return _ets_predict(res, y.size, h)

    return _quiet(fit)


def ets_backtest(y: np.ndarray, m: int, cuts: list[int], h: int) -> list[np.ndarray]:
    """Point forecasts at each origin: parameters fitted once on the shortest training
    window, then the model is only re-run (smoothed) on the longer ones."""

    def run() -> list[np.ndarray]:
        first = min(cuts)
        res = _ets_model(y[:first], m, first).fit(disp=False, maxiter=100)  # type: ignore
        out = []
        for cut in cuts:
            r = res if cut == first else _ets_model(y[:cut], m, first).smooth(  # type: ignore
                res.params)
            out.append(np.asarray(r.forecast(h), float))
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return run()


ARIMA_ORDERS: tuple[tuple[int, int, int], ...] = ((0, 1, 0), (1, 1, 0), (0, 1, 1), (1, 1, 1))


def _aicc(res: object, n: int) -> float:
    aic = float(res.aic)  # type: ignore[attr-defined]
    k = len(res.params)  # type: ignore[attr-defined]
    return aic + (2 * k * (k + 1)) / max(n - k - 1, 1)


def _arima_fit(y: np.ndarray, m: int, order: tuple[int, int, int]) -> object:
    from statsmodels.tsa.arima.model import ARIMA  # lazy: heavy library

    seasonal = (0, 1, 0, m) if m > 1 and y.size >= 3 * m else (0, 0, 0, 0)
    integration = order[1] + seasonal[1]
    trend = {0: "c", 1: "t"}.get(integration, "n")
    return ARIMA(y, order=order, seasonal_order=seasonal, trend=trend).fit()


_ORDER_MEMO: dict[tuple[bytes, int], tuple[int, int, int] | None] = {}


def arima_order(y: np.ndarray, m: int) -> tuple[int, int, int] | None:
    """The order among ``ARIMA_ORDERS`` with the lowest AICc on ``y`` (None if none fits);
    remembered for the series so the backtest and the final fit search only once."""
    key = (np.asarray(y, float).tobytes(), m)
    if key not in _ORDER_MEMO:
        if len(_ORDER_MEMO) > 256:
            _ORDER_MEMO.clear()
        _ORDER_MEMO[key] = _search_order(y, m)
    return _ORDER_MEMO[key]


def _search_order(y: np.ndarray, m: int) -> tuple[int, int, int] | None:

    def search() -> tuple[int, int, int] | None:
        best: tuple[float, tuple[int, int, int]] | None = None
        for order in ARIMA_ORDERS:
            try:
                res = _arima_fit(y, m, order)
            except (ValueError, np.linalg.LinAlgError):
                continue
            score = _aicc(res, y.size)
            if np.isfinite(score) and (best is None or score < best[0]):
                best = (score, order)
        return best[1] if best else None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return search()


def arima_with(order: tuple[int, int, int] | None) -> Method:
    """ARIMA of a fixed order (chosen once on the whole series, then backtested), plus a
    seasonal difference (0,1,0)m when at least three seasons are available."""

    def method(y: np.ndarray, m: int, h: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = order or arima_order(y, m)
        if chosen is None:
            return naive(y, m, h)

        def fit() -> tuple[np.ndarray, np.ndarray]:
            fc = _arima_fit(y, m, chosen).get_forecast(h)  # type: ignore[attr-defined]
            return np.asarray(fc.predicted_mean, float), np.asarray(fc.se_mean, float)

        return _quiet(fit)

    return method


def arima(y: np.ndarray, m: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """ARIMA chosen by AICc among a few small orders (with drift when differenced)."""
    return arima_with(None)(y, m, h)


def arima_backtest(order: tuple[int, int, int] | None) -> Backtester:
    """Point forecasts at each origin: the order's parameters are estimated once on the
    shortest window and applied (filtered, not refitted) to the longer ones."""

    def run(y: np.ndarray, m: int, cuts: list[int], h: int) -> list[np.ndarray]:
        if order is None:
            raise ValueError("no ARIMA order fits")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                first = min(cuts)
                res: Any = _arima_fit(y[:first], m, order)
                out = []
                for cut in cuts:
                    r = res if cut == first else res.apply(y[:cut])
                    out.append(np.asarray(r.get_forecast(h).predicted_mean, dtype=float))
                return out

    return run


def theta(y: np.ndarray, m: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The Theta method (statsmodels ``ThetaModel``), deseasonalised when there are two full
    seasons; its 95 % interval gives the predictive standard deviation."""
    from statsmodels.tsa.forecasting.theta import ThetaModel  # lazy: heavy library

    def fit() -> tuple[np.ndarray, np.ndarray]:
        n = y.size
        deseason = m > 1 and n >= 2 * m
        res = ThetaModel(y, period=m if deseason else 1, deseasonalize=deseason).fit()
        mean = np.asarray(res.forecast(h), float)
        pi = res.prediction_intervals(h, alpha=0.05)
        sd = (np.asarray(pi["upper"], float) - np.asarray(pi["lower"], float)) / (2 * 1.959964)
        return mean, sd

    return _quiet(fit)


METHODS: dict[str, Method] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "drift": drift,
    "ets": ets,
    "arima": arima,
    "theta": theta,
}


def candidates(n: int, m: int) -> list[str]:
    """Methods tried for a series of length ``n`` and season ``m`` (see docs/analysis.md).

    * n < 4: naive only (drift when n = 3) — too short to backtest;
    * 4 ≤ n < 10: naive and drift (and seasonal naive with a full season);
    * n ≥ 10: the baselines plus ETS, Theta, and ARIMA when n ≥ 12.
    """
    if n < 3:
        return ["naive"]
    if n < 4:
        return ["naive", "drift"]
    out = ["naive", "drift"]
    if m > 1 and n >= m + 2:
        out.append("seasonal_naive")
    if n >= 10:
        out += ["ets", "theta"]
    if n >= 12:
        out.append("arima")
    return out
