"""Normalisation: bring every indicator onto a common scale, "more is better".

Every method first multiplies the values by the indicator's ``direction`` (COINr's
convention: −1 turns a cost into a benefit, so the formulas below always reward the higher
value), except ``goalposts`` (the goalposts flip instead) and ``fraction_max`` for costs (a
ratio needs positive values; see below). Methods (``method``; per-indicator ``overrides``
may set any key):

* ``minmax``       (x − min)/(max − min), mapped onto ``range`` (default [0, 100])
                   (COINr ``n_minmax``; a constant indicator gets the middle of the range)
* ``zscore``       (x − mean)/sd (sample sd), then × ``sd`` + ``mean`` (COINr ``n_zscore``)
* ``dist_max``     1 − (max − x)/(max − min) on ``range`` (COINr ``n_dist2max``)
* ``dist_ref``     1 − (x_ref − x)/(x_ref − min) where x_ref is the value of unit ``ref``,
                   capped at 1 with ``cap: true`` (COINr ``n_dist2ref``); for a cost,
                   (max − x)/(max − x_ref)
* ``dist_target``  1 − (target − x)/(target − min), capped at 1 unless ``cap: false``
                   (COINr ``n_dist2targ``); ``target`` (setting or the framework node's) is
                   in the indicator's own units, so for a cost (max − x)/(max − target)
* ``fraction_max`` x / max (COINr ``n_fracmax``); for a cost min / x, so the cheapest unit
                   scores 1 and one twice as costly 0.5 (pymcdm ``linear_normalization``;
                   COINr would give x / min, ranking the cheapest last). Needs values > 0.
* ``rank``         rank, 1 = worst; ties get the lowest rank of the tie (``ties: min``, COINr
                   ``n_rank``) or ``average``, ``max``
* ``percentile``   (rank − 1)/(n − 1) with ties at their lowest rank (COINr ``n_prank``),
                   mapped onto ``range``
* ``borda``        number of units strictly below: rank (ties min) − 1 (COINr ``n_borda``)
* ``goalposts``    (x − lo)/(hi − lo) clipped to [0, 1] (``clip``), mapped onto ``range``
                   (COINr ``n_goalposts``; direction −1 gives (hi − x)/(hi − lo)); goalposts
                   from the setting or the framework node; with ``log: true`` both x and the
                   goalposts are logged first (the HDI's income index)
* ``use_goalposts: true`` makes every indicator that has goalposts in the framework use
                   ``goalposts`` whatever ``method`` says (overrides still win)

``log: true`` takes ln(x) first. Statistics are taken per period unless ``global: true``, in
which case min, max, mean and sd come from the whole panel, so a value keeps its score from
period to period; goalposts are fixed numbers and so hold in both modes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from citygrowth.i18n import N_
from citygrowth.index.spec import IndexSpec
from citygrowth.index.steps import _setting_error

METHODS = ("minmax", "zscore", "dist_max", "dist_ref", "dist_target", "fraction_max", "rank",
           "percentile", "borda", "goalposts")
TIES = ("min", "average", "max")



@dataclass(frozen=True)
class Context:
    """What a method may need besides the values and settings: the indicator's direction,
    the position of the reference unit (``dist_ref``) and the indicator's code (messages)."""

    direction: int = 1
    ref: int | None = None
    code: str = ""


Normaliser = Callable[[np.ndarray, Mapping[str, Any], Context], np.ndarray]


def _range(cfg: Mapping[str, Any]) -> tuple[float, float]:
    lo, hi = (float(v) for v in cfg.get("range", (0.0, 100.0)))
    return lo, hi


def _scaled(v: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    lo, hi = _range(cfg)
    return np.asarray(v * (hi - lo) + lo)


def normalise_vector(x: np.ndarray, cfg: Mapping[str, Any], direction: int = 1,
                     ref_index: int | None = None, code: str = "") -> np.ndarray:
    """Normalise one vector of values (one indicator, one period or the panel); ``code``
    names the indicator in error messages."""
    method = cfg.get("method", "minmax")
    if method not in METHODS:
        raise _setting_error("Unknown normalisation method {method}.", method=method)
    x = np.asarray(x, dtype=float)
    if cfg.get("log"):
        if np.nanmin(x, initial=np.inf) <= 0:
            raise _setting_error("A log transform needs positive values.")
        x = np.log(x)
    if method == "goalposts":
        return _goalposts(x, cfg, direction)
    if np.all(np.isnan(x)):
        return x
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # one value: no sd; stays missing
        return _METHODS[method](x * direction, cfg, Context(direction, ref_index, code))


def _goalposts(x: np.ndarray, cfg: Mapping[str, Any], direction: int) -> np.ndarray:
    lo, hi = (float(v) for v in cfg["goalposts"])
    if cfg.get("log"):
        lo, hi = float(np.log(lo)), float(np.log(hi))
    v = (x - lo) / (hi - lo) if direction == 1 else (hi - x) / (hi - lo)
    if cfg.get("clip", True):
        v = np.clip(v, 0.0, 1.0)
    return _scaled(v, cfg)


def _minmax(x: np.ndarray, cfg: Mapping[str, Any], _c: Context) -> np.ndarray:
    lo, hi = np.nanmin(x), np.nanmax(x)
    span = hi - lo
    v = (x - lo) / span if span else np.where(np.isnan(x), np.nan, 0.5)
    return _scaled(v, cfg)


def _zscore(x: np.ndarray, cfg: Mapping[str, Any], _c: Context) -> np.ndarray:
    sd = np.nanstd(x, ddof=1)
    z = (x - np.nanmean(x)) / sd if sd else np.where(np.isnan(x), np.nan, 0.0)
    return np.asarray(z * float(cfg.get("sd", 1.0)) + float(cfg.get("mean", 0.0)))


def _fraction_max(x: np.ndarray, _cfg: Mapping[str, Any], c: Context) -> np.ndarray:
    if c.direction == 1:
        return np.asarray(x / np.nanmax(x))
    # x holds −value: min(value) / value = max(x) / x, defined for positive values only
    if np.nanmax(x) >= 0:
        raise _setting_error("Indicator {code}: the fraction of the best value of a "
                             "criterion where less is better needs values above zero.",
                             code=c.code)
    return np.asarray(np.nanmax(x) / x)


UNDEFINED_DISTANCE = {
    "ref": N_("Indicator {code}: the reference unit has no value or the worst one, so "
              "distances to it are undefined."),
    "target": N_("Indicator {code}: the target is the worst value, so distances to it are "
                 "undefined."),
}


def _distance(x: np.ndarray, best: float, cap: bool, c: Context, to: str) -> np.ndarray:
    """1 − (best − x)/(best − min): 0 for the worst value, 1 at ``best``."""
    lo = np.nanmin(x)
    if np.isnan(best) or best == lo:
        raise _setting_error(UNDEFINED_DISTANCE[to], code=c.code)
    v = (x - lo) / (best - lo)
    return np.asarray(np.minimum(v, 1.0) if cap else v)


def _dist_ref(x: np.ndarray, cfg: Mapping[str, Any], c: Context) -> np.ndarray:
    if c.ref is None:
        raise _setting_error("Distance to a reference needs the reference unit.")
    return _distance(x, float(x[c.ref]), bool(cfg.get("cap", False)), c, "ref")


def _dist_target(x: np.ndarray, cfg: Mapping[str, Any], c: Context) -> np.ndarray:
    target = float(cfg["target"]) * c.direction
    return _distance(x, target, bool(cfg.get("cap", True)), c, "target")


def _ranks(x: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    ties = cfg.get("ties", "min")
    if ties not in TIES:
        raise _setting_error("Unknown way of ranking ties {ties}.", ties=ties)
    return np.asarray(pd.Series(x).rank(method=ties).to_numpy())


def _rank(x: np.ndarray, cfg: Mapping[str, Any], _c: Context) -> np.ndarray:
    return _ranks(x, cfg)


def _percentile(x: np.ndarray, cfg: Mapping[str, Any], _c: Context) -> np.ndarray:
    n = int(np.sum(~np.isnan(x)))
    r = _ranks(x, {"ties": "min"})
    v = (r - 1) / (n - 1) if n > 1 else np.where(np.isnan(x), np.nan, 0.5)
    return _scaled(v, cfg)


def _borda(x: np.ndarray, _cfg: Mapping[str, Any], _c: Context) -> np.ndarray:
    return _ranks(x, {"ties": "min"}) - 1


_METHODS: dict[str, Normaliser] = {
    "minmax": _minmax, "dist_max": _minmax, "zscore": _zscore, "fraction_max": _fraction_max,
    "dist_ref": _dist_ref, "dist_target": _dist_target, "rank": _rank,
    "percentile": _percentile, "borda": _borda,
}


def indicator_config(spec: IndexSpec, ind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The normalisation settings of one indicator: defaults, then the framework node's
    goalposts/target, then ``overrides[ind]``."""
    cfg = {k: v for k, v in settings.items() if k not in ("overrides", "use_goalposts")}
    node = spec.nodes.get(ind)
    if settings.get("use_goalposts") and node is not None and node.goalposts is not None:
        cfg["method"] = "goalposts"
    if node is not None and node.goalposts is not None:
        cfg.setdefault("goalposts", node.goalposts)
    if node is not None and node.target is not None:
        cfg.setdefault("target", node.target)
    cfg.update(dict((settings.get("overrides") or {}).get(ind, {})))
    if cfg.get("method") == "goalposts" and "goalposts" not in cfg:
        raise _setting_error("Indicator {code} has no goalposts.", code=ind)
    if cfg.get("method") == "dist_target" and "target" not in cfg:
        raise _setting_error("Indicator {code} has no target.", code=ind)
    return cfg


def direction_of(spec: IndexSpec, ind: str, cfg: Mapping[str, Any]) -> int:
    node = spec.nodes.get(ind)
    return int(cfg.get("direction", node.direction if node else 1))


def _statistics(x: np.ndarray, method: str) -> dict[str, float | None]:
    """The statistics a method took from one group of values (for the run log)."""
    if method == "goalposts" or np.all(np.isnan(x)):
        return {}
    out: dict[str, float | None] = {"n": float(np.sum(~np.isnan(x))),
                                    "min": float(np.nanmin(x)), "max": float(np.nanmax(x))}
    if method == "zscore":
        out["mean"] = float(np.nanmean(x))
        out["sd"] = float(np.nanstd(x, ddof=1)) if np.sum(~np.isnan(x)) > 1 else None
    return out


def normalise(data: pd.DataFrame, spec: IndexSpec, **settings: Any
              ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Normalise every indicator column of ``data`` (see the module doc for the settings).
    The info gives per indicator the settings used, its direction and the statistics taken
    (per period, or ``panel`` under ``global``)."""
    out = pd.DataFrame(index=data.index, columns=data.columns, dtype=float)
    periods = data.index.get_level_values(1)
    units = data.index.get_level_values(0)
    used: dict[str, Any] = {}
    for ind in data.columns:
        cfg = indicator_config(spec, ind, settings)
        direction = direction_of(spec, ind, cfg)
        col = data[ind].to_numpy(dtype=float)
        res = np.empty_like(col)
        keys = np.full(len(col), "panel") if cfg.get("global") else np.asarray(periods)
        stats: dict[str, Any] = {}
        for key, rows in pd.Series(range(len(col))).groupby(keys).indices.items():
            ref = None
            if cfg.get("method") == "dist_ref":
                hits = np.flatnonzero(units[rows] == cfg.get("ref"))
                if not len(hits):
                    raise _setting_error("Reference unit {unit} not found.", unit=cfg.get("ref"))
                ref = int(hits[0])
            res[rows] = normalise_vector(col[rows], cfg, direction, ref, ind)
            stats[str(key)] = _statistics(col[rows], str(cfg.get("method", "minmax")))
        out[ind] = res
        used[ind] = {**{k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()},
                     "direction": direction, "statistics": stats}
    return out, {"settings": used}
