"""Forecasts: each series gets the method that did best in a rolling-origin backtest.

``forecast_series(series, horizon)`` tries the candidate methods of :mod:`.models_fit` for the
series' length and season (baselines always; ETS, Theta and ARIMA when there is enough data),
scores each by MASE (tie-break sMAPE) over several forecast origins, refits the winner on the
whole series and returns its point forecast with 80 % and 95 % prediction intervals and every
method's backtest errors. Results are cached by a hash of the series and settings, in memory
and (optionally) as JSON files, so a page asks for a forecast as often as it likes.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from citygrowth.analysis.blas import single_threaded_blas
from citygrowth.analysis.models_fit import (
    METHODS,
    Backtester,
    Method,
    arima_backtest,
    arima_order,
    arima_with,
    candidates,
    ets_backtest,
)
from citygrowth.analysis.series import (
    freq_of,
    future_periods,
    periods_between,
    regularise,
    season_length,
    series_hash,
)
from citygrowth.errors import ValidationFailed
from citygrowth.i18n import N_

VERSION = 1
Z80 = 1.2815515655446004
Z95 = 1.959963984540054
MAX_HORIZON = 60

NOTE_TOO_SHORT = N_("Fewer than 4 observations: naive forecast without backtest.")
NOTE_SHORT = N_("Short series: only simple baselines were tried.")
NOTE_NO_SPREAD = N_("The series does not vary enough to estimate an interval.")


@dataclass(frozen=True)
class Forecast:
    """A point forecast with prediction intervals and the backtest that chose its method."""

    method: str
    freq: str
    last_period: str
    periods: list[str]
    mean: list[float]
    sd: list[float]
    lower80: list[float]
    upper80: list[float]
    lower95: list[float]
    upper95: list[float]
    backtest: dict[str, dict[str, float]]
    n: int
    season: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Forecast:
        return cls(**data)

    def at(self, period: str) -> tuple[float, float]:
        """Mean and predictive standard deviation at a forecast period."""
        i = self.periods.index(period)
        return self.mean[i], self.sd[i]


def mase(actual: np.ndarray, pred: np.ndarray, scale: float) -> float:
    return float(np.mean(np.abs(actual - pred)) / scale)


def smape(actual: np.ndarray, pred: np.ndarray) -> float:
    denom = np.abs(actual) + np.abs(pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(denom == 0, 0.0, 2 * np.abs(actual - pred) / denom)
    return float(100 * np.mean(terms))


def _scale(y: np.ndarray, m: int) -> float:
    lag = m if m > 1 and y.size > 2 * m else 1
    d = np.abs(y[lag:] - y[:-lag])
    s = float(np.mean(d)) if d.size else 0.0
    return s if s > 0 else max(float(np.mean(np.abs(y))) * 1e-6, 1e-12)


def origins(n: int, h: int, folds: int = 3) -> list[int]:
    """Training lengths of the rolling origins: the last ``folds`` that leave ``h`` points to
    check and keep at least half the series (and 3 points) for training."""
    first = max(3, n // 2)
    return [o for o in range(n - h, n - h - folds, -1) if o >= first]


def _method(name: str, y: np.ndarray, m: int, order: tuple[int, int, int] | None = None
            ) -> Method:
    """The method to fit on the whole series (ARIMA with the order the backtest used)."""
    if name == "arima":
        return arima_with(order or arima_order(y, m))
    return METHODS[name]


def _backtester(name: str, y: np.ndarray, m: int) -> Backtester:
    """Forecasts at every origin. Baselines and Theta refit per origin (cheap); ETS and ARIMA
    estimate their parameters once (shortest window) and re-run them on the longer ones."""
    if name == "ets":
        return ets_backtest
    if name == "arima":
        return arima_backtest(arima_order(y, m))
    fn = METHODS[name]

    def run(yy: np.ndarray, mm: int, cuts: list[int], h: int) -> list[np.ndarray]:
        return [fn(yy[:cut], mm, h)[0] for cut in cuts]

    return run


def backtest(y: np.ndarray, m: int, methods: list[str], h: int) -> dict[str, dict[str, float]]:
    """Mean MASE and sMAPE of each method over rolling origins (methods that fail are left out)."""
    scale = _scale(y, m)
    out: dict[str, dict[str, float]] = {}
    cuts = origins(y.size, h)
    if not cuts:
        return out
    for name in methods:
        try:
            preds = _backtester(name, y, m)(y, m, cuts, h)
        except Exception:  # noqa: BLE001 - a method that cannot fit is simply not chosen
            continue
        if not all(np.all(np.isfinite(p)) for p in preds):
            continue
        errs_m = [mase(y[c:c + h], p, scale) for c, p in zip(cuts, preds, strict=True)]
        errs_s = [smape(y[c:c + h], p) for c, p in zip(cuts, preds, strict=True)]
        out[name] = {"mase": float(np.mean(errs_m)), "smape": float(np.mean(errs_s)),
                     "origins": float(len(cuts)), "horizon": float(h)}
    return out


def choose(scores: dict[str, dict[str, float]], fallback: str) -> str:
    if not scores:
        return fallback
    return min(scores, key=lambda k: (round(scores[k]["mase"], 9), scores[k]["smape"]))


def _finish(
    method: str, y: np.ndarray, m: int, horizon: int, last: str, freq: str,
    scores: dict[str, dict[str, float]], notes: list[str],
) -> Forecast:
    try:
        mean, sd = _method(method, y, m)(y, m, horizon)
    except Exception:  # noqa: BLE001 - fall back to the naive forecast
        method = "naive"
        mean, sd = METHODS["naive"](y, m, horizon)
    if not np.all(np.isfinite(sd)):
        notes = [*notes, NOTE_NO_SPREAD]
        sd = np.where(np.isfinite(sd), sd, 0.0)

    def r(a: np.ndarray) -> list[float]:
        return [float(x) for x in a]

    return Forecast(
        method=method, freq=freq, last_period=last, periods=future_periods(last, horizon),
        mean=r(mean), sd=r(sd), lower80=r(mean - Z80 * sd), upper80=r(mean + Z80 * sd),
        lower95=r(mean - Z95 * sd), upper95=r(mean + Z95 * sd), backtest=scores,
        n=int(y.size), season=m, notes=notes,
    )


def _compute(s: pd.Series, horizon: int, freq: str) -> Forecast:
    y = s.to_numpy(dtype="float64")
    m = season_length(freq)
    n = y.size
    methods = candidates(n, m)
    notes: list[str] = []
    if n < 4:
        notes.append(NOTE_TOO_SHORT)
        return _finish(methods[-1], y, m, horizon, str(s.index[-1]), freq, {}, notes)
    if n < 10:
        notes.append(NOTE_SHORT)
    h_bt = max(1, min(horizon, m if m > 1 else 3, n // 4))
    scores = backtest(y, m, methods, h_bt)
    method = choose(scores, "naive")
    return _finish(method, y, m, horizon, str(s.index[-1]), freq, scores, notes)


class ForecastCache:
    """Forecasts by series hash: an in-memory LRU, backed by JSON files when given a folder."""

    def __init__(self, folder: Path | None = None, size: int = 2048) -> None:
        self.folder = folder
        self.size = size
        self._mem: OrderedDict[str, Forecast] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Forecast | None:
        with self._lock:
            if key in self._mem:
                self._mem.move_to_end(key)
                self.hits += 1
                return self._mem[key]
        if self.folder is not None:
            path = self.folder / f"{key}.json"
            if path.exists():
                fc = Forecast.from_dict(json.loads(path.read_text("utf-8")))
                self._remember(key, fc)
                self.hits += 1
                return fc
        self.misses += 1
        return None

    def put(self, key: str, fc: Forecast) -> None:
        self._remember(key, fc)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f"{key}.json.tmp"
            tmp.write_text(json.dumps(fc.to_dict()), "utf-8")
            tmp.replace(self.folder / f"{key}.json")

    def _remember(self, key: str, fc: Forecast) -> None:
        with self._lock:
            self._mem[key] = fc
            self._mem.move_to_end(key)
            while len(self._mem) > self.size:
                self._mem.popitem(last=False)


DEFAULT_CACHE = ForecastCache()


def forecast_series(
    series: pd.Series, horizon: int = 12, cache: ForecastCache | None = None
) -> Forecast:
    """Forecast ``series`` (floats indexed by period labels) ``horizon`` steps ahead."""
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValidationFailed(
            "The horizon must be between 1 and {max} periods.", code="bad_horizon",
            max=MAX_HORIZON,
        )
    s = regularise(series)
    if s.empty:
        raise ValidationFailed("There are no observations to forecast.", code="no_data")
    freq = freq_of(s.index)
    cache = cache if cache is not None else DEFAULT_CACHE
    key = series_hash(s, horizon, VERSION)
    hit = cache.get(key)
    if hit is not None:
        return hit
    with single_threaded_blas():
        fc = _compute(s, horizon, freq)
    cache.put(key, fc)
    return fc


def horizon_to(series: pd.Series, period: str) -> int:
    """Steps from the series' last period to ``period`` (0 when already observed)."""
    s = regularise(series)
    return max(0, periods_between(str(s.index[-1]), period))
