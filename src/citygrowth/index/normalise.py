"""Normalisation: bring every indicator onto a common scale, "more is better".

Methods (``method``; per-indicator ``overrides`` may set any key):

* ``minmax``      (x − min)/(max − min), mapped onto ``range`` (default [0, 100])
* ``zscore``      (x − mean)/sd (sample sd), then × ``sd`` + ``mean`` (defaults 1, 0)
* ``dist_max``    1 − (max − x)/(max − min) on ``range`` (COINr ``n_dist2max``)
* ``dist_ref``    x / x_ref where x_ref is the value of unit ``ref`` (``cap`` at 1 optional)
* ``dist_target`` (x − min)/(target − min), capped at 1 unless ``cap: false``; ``target``
                  comes from the setting or from the node's target in the framework
* ``fraction_max`` x / max
* ``rank``        rank (ties averaged), 1 = worst
* ``percentile``  rank / n × 100
* ``borda``       number of units strictly below (COINr ``n_borda``)
* ``use_goalposts: true`` makes every indicator that has goalposts in the framework use
                  ``goalposts`` whatever ``method`` says (overrides still win)
* ``goalposts``   (x − lo)/(hi − lo) clipped to [0, 1], mapped onto ``range``; goalposts from
                  the setting or the framework node; with ``log: true`` both x and the
                  goalposts are logged first (the HDI's income index)

``direction`` −1 reverses (max − x for bounded methods, −x for the others). ``log: true`` takes
ln(x) first. Statistics are taken per period unless ``global: true``, in which case min, max,
mean and sd come from the whole panel, so a value keeps its score from period to period;
goalposts are fixed numbers and so hold in both modes.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from citygrowth.index.spec import IndexSpec
from citygrowth.index.steps import _setting_error

METHODS = ("minmax", "zscore", "dist_max", "dist_ref", "dist_target", "fraction_max", "rank",
           "percentile", "borda", "goalposts")


def _scaled(v: np.ndarray, rng: tuple[float, float]) -> np.ndarray:
    return v * (rng[1] - rng[0]) + rng[0]


def normalise_vector(x: np.ndarray, cfg: Mapping[str, Any], direction: int = 1,
                     ref_index: int | None = None) -> np.ndarray:
    """Normalise one vector of values (one indicator, one period or the panel)."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # one value: no sd; stays missing
        return _normalise_vector(x, cfg, direction, ref_index)


def _normalise_vector(x: np.ndarray, cfg: Mapping[str, Any], direction: int,
                      ref_index: int | None) -> np.ndarray:
    method = cfg.get("method", "minmax")
    rng = tuple(float(v) for v in cfg.get("range", (0.0, 100.0)))
    x = np.asarray(x, dtype=float)
    if cfg.get("log"):
        if np.nanmin(x, initial=np.inf) <= 0:
            raise _setting_error("A log transform needs positive values.")
        x = np.log(x)
    if method == "goalposts":
        lo, hi = (float(v) for v in cfg["goalposts"])
        if cfg.get("log"):
            lo, hi = np.log(lo), np.log(hi)
        v = (x - lo) / (hi - lo) if direction == 1 else (hi - x) / (hi - lo)
        if cfg.get("clip", True):
            v = np.clip(v, 0.0, 1.0)
        return _scaled(v, rng)  # type: ignore[arg-type]
    if np.all(np.isnan(x)):
        return x
    x = x * direction
    lo, hi = np.nanmin(x), np.nanmax(x)
    span = hi - lo
    if method in ("minmax", "dist_max"):
        v = (x - lo) / span if span else np.where(np.isnan(x), np.nan, 0.5)
        return _scaled(v, rng)  # type: ignore[arg-type]
    if method == "zscore":
        sd = np.nanstd(x, ddof=1)
        z = (x - np.nanmean(x)) / sd if sd else np.where(np.isnan(x), np.nan, 0.0)
        return z * float(cfg.get("sd", 1.0)) + float(cfg.get("mean", 0.0))
    if method == "fraction_max":
        return np.asarray(x / hi)
    if method == "dist_ref":
        if ref_index is None:
            raise _setting_error("Distance to a reference needs the reference unit.")
        v = x / x[ref_index]
        return np.asarray(np.minimum(v, 1.0) if cfg.get("cap") else v)
    if method == "dist_target":
        target = float(cfg["target"]) * direction
        v = (x - lo) / (target - lo)
        return np.asarray(np.minimum(v, 1.0) if cfg.get("cap", True) else v)
    ranks = pd.Series(x).rank(method="average" if method != "borda" else "min").to_numpy()
    if method == "rank":
        return np.asarray(ranks)
    if method == "percentile":
        return np.asarray(ranks / np.sum(~np.isnan(x)) * 100.0)
    if method == "borda":
        return np.asarray(ranks - 1)
    raise _setting_error("Unknown normalisation method {method}.", method=method)


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


def normalise(data: pd.DataFrame, spec: IndexSpec, **settings: Any
              ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Normalise every indicator column of ``data`` (see the module doc for the settings)."""
    out = pd.DataFrame(index=data.index, columns=data.columns, dtype=float)
    periods = data.index.get_level_values(1)
    units = data.index.get_level_values(0)
    used: dict[str, Any] = {}
    for ind in data.columns:
        cfg = indicator_config(spec, ind, settings)
        node = spec.nodes.get(ind)
        direction = int(cfg.get("direction", node.direction if node else 1))
        col = data[ind].to_numpy(dtype=float)
        res = np.empty_like(col)
        keys = np.zeros(len(col)) if cfg.get("global") else periods
        for _, rows in pd.Series(range(len(col))).groupby(np.asarray(keys)).indices.items():
            ref = None
            if cfg.get("method") == "dist_ref":
                hits = np.flatnonzero(units[rows] == cfg.get("ref"))
                if not len(hits):
                    raise _setting_error("Reference unit {unit} not found.", unit=cfg.get("ref"))
                ref = int(hits[0])
            res[rows] = normalise_vector(col[rows], cfg, direction, ref)
        out[ind] = res
        used[ind] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()}
    return out, {"settings": used}
