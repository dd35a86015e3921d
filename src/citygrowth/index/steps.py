"""Data steps before normalisation: denominate, screen, impute and treat outliers.

Every step takes a wide panel — a DataFrame indexed by (unit, period) with one float column per
indicator — and returns a new one plus a small ``info`` dict that the coin keeps in its log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from citygrowth.errors import Problem, ValidationFailed


def _setting_error(message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed("An index setting is not valid.",
                            problems=[Problem(message=message, params=params)])


# --- denominate ----------------------------------------------------------------------------

def denominate(data: pd.DataFrame, denominators: pd.DataFrame | None,
               by: Mapping[str, str], scale: Mapping[str, float] | None = None
               ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Divide each indicator named in ``by`` by its denominator column (per capita, per km²,
    per unit of GDP …), optionally times ``scale[indicator]`` (e.g. 10000 for "per 10,000")."""
    out = data.copy()
    if not by:
        return out, {"denominated": []}
    if denominators is None:
        raise _setting_error("Denominators are named but no denominator data was given.")
    den = denominators.reindex(data.index)
    done: dict[str, Any] = {}
    for ind, dname in by.items():
        if ind not in out.columns:
            continue
        if dname not in den.columns:
            raise _setting_error("Unknown denominator {name}.", name=dname)
        d = den[dname].astype(float).where(lambda s: s != 0)
        factor = float((scale or {}).get(ind, 1.0))
        out[ind] = out[ind] / d * factor
        done[ind] = {"denominator": dname, "scale": factor,
                     "no_denominator": int((data[ind].notna() & d.isna()).sum())}
    return out, {"denominated": done}


# --- screen --------------------------------------------------------------------------------

def screen(data: pd.DataFrame, min_coverage: float = 0.0, zero_as_missing: bool = False,
           exclude: Sequence[str] = ()) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Drop unit-periods whose share of available indicator values is below ``min_coverage``
    (0–1), and the units named in ``exclude``."""
    values = data.replace(0.0, np.nan) if zero_as_missing else data
    coverage = values.notna().mean(axis=1)
    keep = coverage >= float(min_coverage)
    if exclude:
        keep &= ~data.index.get_level_values(0).isin(list(exclude))
    removed = sorted({f"{u}@{p}" for u, p in data.index[~keep]})
    return data[keep].copy(), {"removed": removed, "kept": int(keep.sum()),
                               "lowest_coverage": float(coverage.min()) if len(coverage)
                               else None}


# --- impute --------------------------------------------------------------------------------

IMPUTE_METHODS = ("mean", "median", "group_mean", "group_median", "locf", "linear")


def _by_period(data: pd.DataFrame, fn: str) -> pd.DataFrame:
    periods = data.index.get_level_values(1)
    return data.groupby(periods).transform(fn)


def _impute_once(data: pd.DataFrame, method: str, groups: pd.Series | None) -> pd.DataFrame:
    if method in ("mean", "median"):
        fill = _by_period(data, method)
    elif method in ("group_mean", "group_median"):
        if groups is None:
            raise _setting_error("Imputation by group needs a group column.")
        g = groups.reindex(data.index.get_level_values(0)).to_numpy()
        fill = data.groupby([g, data.index.get_level_values(1)], dropna=False).transform(
            method.split("_")[1])
    elif method == "locf":
        fill = data.groupby(level=0, sort=False).ffill()
    elif method == "linear":
        fill = data.groupby(level=0, sort=False, group_keys=False).apply(
            lambda d: d.interpolate(method="linear", limit_area="inside"))
        fill = fill.reindex(data.index)
    else:
        raise _setting_error("Unknown imputation method {method}.", method=method)
    return data.where(data.notna(), fill)


def impute(data: pd.DataFrame, method: str | Sequence[str] = "mean",
           groups: pd.Series | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fill missing values; ``method`` may be a list applied in order (e.g. ``[linear, locf,
    group_mean]``). Observed values are never changed. Panels are sorted by period within unit
    for ``locf`` and ``linear``; ``mean``/``median``/group methods work per period."""
    methods = [method] if isinstance(method, str) else list(method)
    data = data.sort_index()
    observed = data.notna()
    out = data
    by_method: dict[str, int] = {}
    for m in methods:
        before = int(out.isna().to_numpy().sum())
        out = _impute_once(out, m, groups)
        by_method[m] = before - int(out.isna().to_numpy().sum())
    seen = observed.to_numpy()
    if not np.array_equal(out.to_numpy()[seen], data.to_numpy()[seen]):
        raise AssertionError("imputation changed an observed value")  # guarded invariant
    new = out.notna() & ~observed
    return out, {"filled": int(new.to_numpy().sum()), "by_method": by_method,
                 "by_indicator": {c: int(n) for c, n in new.sum().items() if n},
                 "still_missing": int(out.isna().to_numpy().sum())}


# --- treat ---------------------------------------------------------------------------------

def skew(x: np.ndarray) -> float:
    """Sample skewness G1 (``e1071::skewness(type = 2)``, pandas ``skew``)."""
    x = x[~np.isnan(x)]
    n = len(x)
    if n < 3:
        return 0.0
    d = x - x.mean()
    m2, m3 = (d**2).mean(), (d**3).mean()
    if m2 == 0:
        return 0.0
    g1 = m3 / m2**1.5
    return float(g1 * np.sqrt(n * (n - 1)) / (n - 2))


def kurt(x: np.ndarray) -> float:
    """Sample excess kurtosis G2 (``e1071::kurtosis(type = 2)``, pandas ``kurt``)."""
    x = x[~np.isnan(x)]
    n = len(x)
    if n < 4:
        return 0.0
    d = x - x.mean()
    m2, m4 = (d**2).mean(), (d**4).mean()
    if m2 == 0:
        return 0.0
    g2 = m4 / m2**2 - 3
    return float(((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3)))


def _outlying(x: np.ndarray, t_skew: float, t_kurt: float) -> bool:
    return abs(skew(x)) > t_skew and kurt(x) > t_kurt


def winsorise(x: np.ndarray, winmax: int, t_skew: float = 2.0, t_kurt: float = 3.5
              ) -> tuple[np.ndarray, int, int, int]:
    """COINr's rule: while |skew| > t_skew and kurtosis > t_kurt and fewer than ``winmax``
    iterations, replace the highest value(s) (skew ≥ 0) or lowest by the next one in.
    Returns (values, iterations, points set high, points set low)."""
    x = x.astype(float).copy()
    winz = high = low = 0
    while _outlying(x, t_skew, t_kurt) and winz < winmax:
        valid = ~np.isnan(x)
        if skew(x) >= 0:
            top = np.nanmax(x)
            idx = valid & (x == top)
            x[idx] = np.nanmax(np.where(idx, np.nan, x))
            high = int(idx.sum())
        else:
            bottom = np.nanmin(x)
            idx = valid & (x == bottom)
            x[idx] = np.nanmin(np.where(idx, np.nan, x))
            low = int(idx.sum())
        winz += 1
        if len(np.unique(x[~np.isnan(x)])) < 2:
            raise _setting_error("Cannot winsorise further: fewer than two distinct values left.")
    return x, winz, high, low


def transform(x: np.ndarray, kind: str, boxcox_lambda: float = 0.5) -> np.ndarray:
    """The fallback transforms: ``log`` (needs x > 0), ``log_ct`` (COIN Tool:
    ln(x − min + 0.01·(max − min))), ``boxcox`` (on x − min + 1, with ``boxcox_lambda``)."""
    if kind == "log":
        if np.nanmin(x) <= 0:
            raise _setting_error("A log transform needs positive values.")
        return np.asarray(np.log(x))
    if kind == "log_ct":
        lo, hi = np.nanmin(x), np.nanmax(x)
        return np.asarray(np.log(x - lo + 0.01 * (hi - lo)))
    if kind == "boxcox":
        y = x - np.nanmin(x) + 1
        return np.asarray(np.log(y) if boxcox_lambda == 0 else (y**boxcox_lambda - 1)
                          / boxcox_lambda)
    raise _setting_error("Unknown transform {kind}.", kind=kind)


def _treat_column(x: np.ndarray, cfg: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    method = cfg.get("method", "winsorise")
    if method == "none":
        return x, {"treatment": "none"}
    if method in ("log", "log_ct", "boxcox"):
        return transform(x, method, float(cfg.get("boxcox_lambda", 0.5))), {"treatment": method}
    t_skew, t_kurt = float(cfg.get("skew", 2.0)), float(cfg.get("kurtosis", 3.5))
    winmax = int(cfg.get("winmax", max(1, int(np.ceil(0.1 * np.sum(~np.isnan(x)))))))
    w, winz, high, low = winsorise(x, winmax, t_skew, t_kurt)
    fallback = cfg.get("fallback", "log_ct")
    if winz >= winmax and _outlying(w, t_skew, t_kurt) and fallback != "none":
        return transform(x, fallback, float(cfg.get("boxcox_lambda", 0.5))), {
            "treatment": fallback}
    return w, {"treatment": "winsorised" if winz else "none", "winsorised": winz,
               "high": high, "low": low}


def treat(data: pd.DataFrame, method: str = "winsorise", winmax: int | None = None,
          skew: float = 2.0, kurtosis: float = 3.5, fallback: str = "log_ct",
          boxcox_lambda: float = 0.5, overrides: Mapping[str, Mapping[str, Any]] | None = None,
          by_period: bool = False) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Treat outliers indicator by indicator (COINr ``Treat``): winsorise while |skew| > ``skew``
    and kurtosis > ``kurtosis``, up to ``winmax`` iterations (default 10% of units); if that
    fails, apply ``fallback`` (``log_ct``, ``log``, ``boxcox`` or ``none``) to the original
    values. ``overrides`` sets any of these per indicator (``method: none`` skips one)."""
    base = {"method": method, "skew": skew, "kurtosis": kurtosis, "fallback": fallback,
            "boxcox_lambda": boxcox_lambda}
    if winmax is not None:
        base["winmax"] = winmax
    out = data.copy()
    summary: dict[str, Any] = {}
    groups = [data.index.get_level_values(1)] if by_period else [np.zeros(len(data))]
    for ind in data.columns:
        cfg = {**base, **dict((overrides or {}).get(ind, {}))}
        for key, rows in data.groupby(groups).indices.items():
            col = data[ind].to_numpy(dtype=float)[rows]
            treated, info = _treat_column(col, cfg)
            out.iloc[rows, out.columns.get_loc(ind)] = treated
            summary[ind if not by_period else f"{ind}@{key[0]}"] = info
    return out, {"summary": summary, "totals": {
        "winsorised": sum(1 for i in summary.values() if i["treatment"] == "winsorised"),
        "transformed": sum(1 for i in summary.values()
                           if i["treatment"] not in ("none", "winsorised")),
        "points_high": sum(int(i.get("high", 0)) for i in summary.values()),
        "points_low": sum(int(i.get("low", 0)) for i in summary.values())}}
