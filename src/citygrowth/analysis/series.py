"""Series helpers shared by forecasts, anomaly checks, change detection and odds.

A *series* here is a pandas ``Series`` of floats indexed by canonical period strings
(``2024-09``, ``2024-Q3``, ``2024``) of one frequency, sorted. Observations from the store
(long format: ``indicator, area_code, period, value``) become series with :func:`to_series`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from citygrowth.errors import ValidationFailed
from citygrowth.periods import Period

SEASON_LENGTH: dict[str, int] = {"A": 1, "Q": 4, "M": 12, "W": 52, "D": 7}


def freq_of(index: Iterable[str]) -> str:
    """The frequency shared by every period label (raises when they mix)."""
    freqs = {Period.parse(p).freq for p in index}
    if len(freqs) != 1:
        raise ValidationFailed(
            "A series must have one frequency; found {freqs}.", freqs=", ".join(sorted(freqs))
        )
    return freqs.pop()


def season_length(freq: str) -> int:
    return SEASON_LENGTH.get(freq, 1)


def regularise(series: pd.Series) -> pd.Series:
    """Sort by period, fill inner gaps by linear interpolation, drop missing ends.

    Returns a float series over every period from the first to the last observation.
    """
    s = pd.Series(series, dtype="float64").dropna()
    if s.empty:
        return s
    periods = sorted(Period.parse(p) for p in s.index)
    s.index = [str(Period.parse(p)) for p in s.index]
    s = s.groupby(level=0).last()
    full = [str(p) for p in periods[0].range_to(periods[-1])]
    out = s.reindex(full).astype("float64")
    if out.isna().any():
        out = out.interpolate(method="linear", limit_area="inside")
    return out


def future_periods(last: str, horizon: int) -> list[str]:
    p = Period.parse(last)
    return [str(p.shift(h)) for h in range(1, horizon + 1)]


def periods_between(last: str, target: str) -> int:
    """How many steps ``target`` lies after ``last`` (negative or 0 when not after)."""
    a, b = Period.parse(last), Period.parse(target)
    if b.freq != a.freq:
        b = Period.of(b.end, a.freq) if b.freq != "D" else Period.of(b.start, a.freq)
    if a.freq in ("A", "Q", "M"):
        months = {"A": 12, "Q": 3, "M": 1}[a.freq]
        da = a.start.year * 12 + a.start.month
        db = b.start.year * 12 + b.start.month
        return (db - da) // months
    step = 7 if a.freq == "W" else 1
    return (b.start - a.start).days // step


def series_hash(series: pd.Series, *extra: object) -> str:
    """A stable hash of a series' labels and values (and any extra settings)."""
    h = hashlib.sha256()
    for label, value in series.items():
        h.update(f"{label}={float(value):.12g};".encode())
    for e in extra:
        h.update(f"|{e}".encode())
    return h.hexdigest()[:32]


def to_series(frame: pd.DataFrame, indicator: str, area_code: str) -> pd.Series:
    """One indicator's series for one area from a long observation frame."""
    if frame.empty:
        return pd.Series(dtype="float64")
    rows = frame[(frame["indicator"] == indicator) & (frame["area_code"] == area_code)]
    s = pd.Series(rows["value"].to_numpy(dtype="float64"), index=rows["period"].astype(str))
    return regularise(s)


def split_by_freq(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Split a long frame by the frequency of its periods (a ``freq`` column if present)."""
    if frame.empty:
        return {}
    if "freq" in frame.columns:
        freqs = frame["freq"].astype(str)
    else:
        freqs = frame["period"].astype(str).map(lambda p: Period.parse(p).freq)
    return {f: frame[freqs == f] for f in sorted(set(freqs))}


def robust_scale(values: np.ndarray) -> tuple[float, float]:
    """Median and MAD-based standard deviation (1.4826 × MAD) of finite values."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return float("nan"), float("nan")
    med = float(np.median(v))
    return med, float(1.4826 * np.median(np.abs(v - med)))
