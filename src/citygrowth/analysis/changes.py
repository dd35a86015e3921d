"""Change detection: structural breaks, and leading/lagging relations between indicators.

Breaks:

* :func:`cusum_test` — the OLS-CUSUM test for a shift in mean (sup of the standardised
  cumulative sum of deviations; 5 % critical value 1.358 of the Brownian bridge);
* :func:`binary_segmentation` — mean-shift change points by recursive splitting with a
  BIC-like penalty (written in numpy, in the manner of the ``ruptures`` package);
* :func:`chow_test` — F test that a linear trend differs before and after a given point.

Relations (worded as associations, never as causes):

* :func:`cross_correlation` — correlations of the *differenced* series at each lag, with the
  ±1.96/√n band as significance;
* :func:`granger` — statsmodels' Granger test p-values (does the past of x improve the
  prediction of y beyond y's own past), reported as "x's past is associated with y".
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from citygrowth.analysis.blas import single_threaded_blas
from citygrowth.analysis.series import regularise
from citygrowth.i18n import N_

CUSUM_CRITICAL_5 = 1.358

M_LEADS = N_("Changes in {x} are associated with changes in {y} {lag} period(s) later "
             "(correlation {r}); an association, not evidence of cause.")
M_SAME = N_("Changes in {x} and {y} move together in the same period (correlation {r}); an "
            "association, not evidence of cause.")
M_NONE = N_("No significant association was found between changes in {x} and {y}.")
M_BREAK = N_("The level of {x} shifted around {period} (from about {before} to {after}).")


@dataclass(frozen=True)
class CusumResult:
    statistic: float
    significant: bool
    index: int  # position of the largest cumulative deviation (last point of the first part)


def cusum_test(y: np.ndarray) -> CusumResult:
    y = np.asarray(y, float)
    n = y.size
    if n < 4:
        return CusumResult(0.0, False, 0)
    e = y - y.mean()
    sd = e.std(ddof=1)
    if sd == 0:
        return CusumResult(0.0, False, 0)
    s = np.cumsum(e) / (sd * np.sqrt(n))
    k = int(np.argmax(np.abs(s[:-1])))
    stat = float(np.abs(s[k]))
    return CusumResult(stat, stat > CUSUM_CRITICAL_5, k)


def _seg_cost(cs: np.ndarray, cs2: np.ndarray, a: int, b: int) -> float:
    n = b - a
    total = cs[b] - cs[a]
    return float(cs2[b] - cs2[a] - total * total / n)


def binary_segmentation(y: np.ndarray, min_size: int = 3, penalty: float | None = None,
                        max_breaks: int = 5) -> list[int]:
    """Change points (indices where a new segment starts) for shifts in mean."""
    y = np.asarray(y, float)
    n = y.size
    if n < 2 * min_size:
        return []
    cs = np.concatenate([[0.0], np.cumsum(y)])
    cs2 = np.concatenate([[0.0], np.cumsum(y * y)])
    d = np.diff(y)
    sigma2 = float((1.4826 * np.median(np.abs(d - np.median(d)))) ** 2 / 2) if d.size else 0.0
    sigma2 = sigma2 if sigma2 > 0 else float(np.var(y)) or 1.0
    pen = penalty if penalty is not None else 2.0 * sigma2 * np.log(n) * 1.5
    breaks: list[int] = []
    segments = [(0, n)]
    while segments and len(breaks) < max_breaks:
        best: tuple[float, int, tuple[int, int]] | None = None
        for a, b in segments:
            if b - a < 2 * min_size:
                continue
            whole = _seg_cost(cs, cs2, a, b)
            for k in range(a + min_size, b - min_size + 1):
                gain = whole - _seg_cost(cs, cs2, a, k) - _seg_cost(cs, cs2, k, b)
                if best is None or gain > best[0]:
                    best = (gain, k, (a, b))
        if best is None or best[0] <= pen:
            break
        _gain, k, (a, b) = best
        breaks.append(k)
        segments.remove((a, b))
        segments += [(a, k), (k, b)]
    return sorted(breaks)


def chow_test(y: np.ndarray, k: int) -> tuple[float, float]:
    """F statistic and p-value for a break in a linear trend at index ``k``."""
    y = np.asarray(y, float)
    n = y.size
    if k < 3 or n - k < 3:
        return float("nan"), float("nan")
    t = np.arange(n, dtype=float)

    def rss(tt: np.ndarray, yy: np.ndarray) -> float:
        x = np.column_stack([np.ones_like(tt), tt])
        beta, *_ = np.linalg.lstsq(x, yy, rcond=None)
        r = yy - x @ beta
        return float(r @ r)

    pooled = rss(t, y)
    split = rss(t[:k], y[:k]) + rss(t[k:], y[k:])
    p = 2
    if split <= 0:
        return float("inf"), 0.0
    f = ((pooled - split) / p) / (split / (n - 2 * p))
    return float(f), float(stats.f.sf(f, p, n - 2 * p))


def breaks(series: pd.Series) -> list[dict[str, Any]]:
    """Structural breaks of a series, each with its period, levels before/after and Chow p."""
    s = regularise(series)
    y = s.to_numpy(float)
    out = []
    cps = binary_segmentation(y)
    bounds = [0, *cps, y.size]
    for i, k in enumerate(cps):
        before = float(np.mean(y[bounds[i]:k]))
        after = float(np.mean(y[k:bounds[i + 2]]))
        f, p = chow_test(y, k)
        out.append({"period": str(s.index[k]), "index": k, "before": before, "after": after,
                    "chow_f": f, "chow_p": p})
    return out


def _aligned(x: pd.Series, y: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    a, b = regularise(x), regularise(y)
    common = a.index.intersection(b.index)
    return np.diff(a[common].to_numpy(float)), np.diff(b[common].to_numpy(float))


def cross_correlation(x: pd.Series, y: pd.Series, max_lag: int = 6) -> list[dict[str, float]]:
    """Correlation of Δx(t) with Δy(t + lag) for lag = 0..max_lag, with significance."""
    dx, dy = _aligned(x, y)
    out = []
    for lag in range(0, max_lag + 1):
        a = dx[: dx.size - lag] if lag else dx
        b = dy[lag:]
        if a.size < 6 or np.std(a) == 0 or np.std(b) == 0:
            continue
        r = float(np.corrcoef(a, b)[0, 1])
        bound = 1.96 / np.sqrt(a.size)
        out.append({"lag": float(lag), "r": r, "n": float(a.size), "bound": float(bound),
                    "significant": float(abs(r) > bound)})
    return out


def granger(x: pd.Series, y: pd.Series, max_lag: int = 3) -> dict[int, float]:
    """p-values (F test) that x's past helps predict y, per lag; empty when too short."""
    from statsmodels.tsa.stattools import grangercausalitytests  # lazy: heavy library

    dx, dy = _aligned(x, y)
    lags = min(max_lag, (dx.size - 1) // 4)
    if lags < 1 or np.std(dx) == 0 or np.std(dy) == 0:
        return {}
    data = np.column_stack([dy, dx])

    with warnings.catch_warnings(), single_threaded_blas():
        warnings.simplefilter("ignore")
        res = grangercausalitytests(data, maxlag=lags)
    return {int(k): float(v[0]["ssr_ftest"][1]) for k, v in res.items()}


def relation(x: pd.Series, y: pd.Series, x_name: str, y_name: str,
             max_lag: int = 6) -> dict[str, Any]:
    """The strongest significant lagged association, as a cautious sentence (msgid+params)."""
    cc = cross_correlation(x, y, max_lag)
    sig = [c for c in cc if c["significant"]]
    gp = granger(x, y)
    if not sig:
        return {"message": M_NONE, "params": {"x": x_name, "y": y_name}, "ccf": cc,
                "granger": gp}
    best = max(sig, key=lambda c: abs(c["r"]))
    lag = int(best["lag"])
    msg = M_SAME if lag == 0 else M_LEADS
    return {"message": msg, "params": {"x": x_name, "y": y_name, "lag": lag,
                                       "r": f"{best['r']:.2f}"},
            "lag": lag, "r": best["r"], "ccf": cc, "granger": gp}
