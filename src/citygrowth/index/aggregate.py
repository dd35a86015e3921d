"""Aggregation up the tree, level by level and node by node.

Methods (``method``, per node under ``nodes: {CODE: {...}}``):

* ``arithmetic``   Σ w x / Σ w over the children with a value (weights renormalised)
* ``geometric``    Π x^(w/Σw); zeros follow ``zeros``: ``propagate`` (default: a zero child
                   makes the node 0, the limit of the mean), ``epsilon`` (values below
                   ``epsilon`` are raised to it) or ``shift`` (add ``shift`` to every value,
                   take the mean, subtract it again). Negative values need ``shift``.
* ``harmonic``     Σ w / Σ (w / x); a zero child makes the node 0
* ``generalised``  (Σ w x^p / Σ w)^(1/p) with ``p`` (p = 1 arithmetic, p → 0 geometric)
* ``copeland``     Copeland outranking per period: for every pair of units, the weighted
                   majority of children decides who wins; score = wins − losses
* ``topsis``       closeness to the ideal over the children (see :func:`topsis`), × ``scale``

``min_coverage`` (0–1, default 0) is the least share of children (by count) that must have a
value; below it the node is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from citygrowth.index.spec import IndexSpec
from citygrowth.index.steps import _setting_error

METHODS = ("arithmetic", "geometric", "harmonic", "generalised", "copeland", "topsis")


def topsis(matrix: np.ndarray, weights: np.ndarray, types: np.ndarray | None = None,
           normalisation: str = "minmax") -> np.ndarray:
    """TOPSIS preference of each row: D⁻/(D⁺ + D⁻). Columns are normalised first —
    ``minmax`` (profit (x − min)/(max − min), cost (max − x)/(max − min); pymcdm's default) or
    ``vector`` (x/‖x‖, cost 1 − x/‖x‖) — then weighted; ideal = column max, anti-ideal = min."""
    x = np.asarray(matrix, dtype=float)
    types = np.ones(x.shape[1]) if types is None else np.asarray(types)
    if normalisation == "minmax":
        lo, hi = x.min(axis=0), x.max(axis=0)
        span = np.where(hi - lo == 0, 1, hi - lo)
        n = np.where(types > 0, (x - lo) / span, (hi - x) / span)
    elif normalisation == "vector":
        norm = np.sqrt((x**2).sum(axis=0))
        n = np.where(types > 0, x / norm, 1 - x / norm)
    else:
        raise _setting_error("Unknown TOPSIS normalisation {name}.", name=normalisation)
    v = n * np.asarray(weights, dtype=float)
    d_plus = np.sqrt(((v - v.max(axis=0)) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - v.min(axis=0)) ** 2).sum(axis=1))
    total = d_plus + d_minus
    return np.where(total == 0, 0.5, d_minus / np.where(total == 0, 1, total))


def _geometric(x: np.ndarray, w: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    rule = cfg.get("zeros", "propagate")
    shift = float(cfg.get("shift", 1.0)) if rule == "shift" else 0.0
    x = x + shift
    if rule == "epsilon":
        x = np.where(np.isnan(x), x, np.maximum(x, float(cfg.get("epsilon", 1e-3))))
    if np.any(x < 0):
        raise _setting_error("Geometric aggregation of negative values needs zeros: shift.")
    wsum = np.nansum(np.where(np.isnan(x), 0, w), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(np.isnan(x), 0.0, np.log(np.where(x > 0, x, 1.0)) * w)
        out = np.exp(logs.sum(axis=1) / wsum)
    has_zero = np.any((x == 0) & (w > 0), axis=1)
    return np.where(has_zero, 0.0, out) - shift


def combine(x: np.ndarray, w: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    """Aggregate rows of ``x`` (units × children, NaN = missing) with weights ``w``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _combine(x, w, cfg)


def _combine(x: np.ndarray, w: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    method = cfg.get("method", "arithmetic")
    wm = np.where(np.isnan(x), 0.0, w)
    wsum = wm.sum(axis=1)
    safe = np.where(wsum == 0, np.nan, wsum)
    if method == "arithmetic":
        out = np.where(np.isnan(x), 0.0, x * w).sum(axis=1) / safe
    elif method == "geometric":
        out = _geometric(x, w, cfg)
    elif method == "harmonic":
        with np.errstate(divide="ignore"):
            inv = np.where(np.isnan(x) | (x == 0), 0.0, w / np.where(x == 0, 1, x)).sum(axis=1)
        zero = np.any((x == 0) & (w > 0), axis=1)
        out = np.where(zero, 0.0, wsum / np.where(inv == 0, np.nan, inv))
    elif method == "generalised":
        p = float(cfg.get("p", 2.0))
        if p == 0:
            return _geometric(x, w, cfg)
        out = (np.where(np.isnan(x), 0.0, w * np.power(np.abs(x), p) * np.sign(x)).sum(axis=1)
               / safe) ** (1.0 / p)
    else:
        raise _setting_error("Unknown aggregation method {method}.", method=method)
    return np.where(wsum == 0, np.nan, out)


def copeland(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Copeland score of each row: Σ over other rows of sign(Σ_j w_j · sign(x_aj − x_bj))."""
    diff = np.sign(x[:, None, :] - x[None, :, :])
    diff = np.where(np.isnan(diff), 0.0, diff)
    return np.asarray(np.sign((diff * w).sum(axis=2)).sum(axis=1))


def _node_values(block: pd.DataFrame, w: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    x = block.to_numpy(dtype=float)
    method = cfg.get("method", "arithmetic")
    if method not in ("copeland", "topsis"):
        out = combine(x, w, cfg)
    else:
        out = np.full(len(x), np.nan)
        periods = block.index.get_level_values(1)
        for _, rows in pd.Series(range(len(x))).groupby(np.asarray(periods)).indices.items():
            sub = x[rows]
            ok = ~np.isnan(sub).any(axis=1)
            if method == "copeland":
                out[rows[ok]] = copeland(sub[ok], w)
            elif ok.sum() > 1:
                out[rows[ok]] = topsis(sub[ok], w / w.sum(),
                                       normalisation=cfg.get("normalisation", "minmax")) * float(
                                           cfg.get("scale", 1.0))
    cover = block.notna().mean(axis=1).to_numpy()
    return np.where(cover + 1e-12 < float(cfg.get("min_coverage", 0.0)), np.nan, out)


def node_config(settings: Mapping[str, Any], spec: IndexSpec, code: str) -> dict[str, Any]:
    base = {k: v for k, v in settings.items() if k not in ("nodes", "levels")}
    level = spec.level_of(code)
    base.update(dict((settings.get("levels") or {}).get(level, {})))
    base.update(dict((settings.get("nodes") or {}).get(code, {})))
    return base


WeightFn = Callable[[str, pd.DataFrame], Mapping[str, float]]


def aggregate(data: pd.DataFrame, spec: IndexSpec, weights: Mapping[str, float] | WeightFn,
              **settings: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Add a column per aggregate node, computed level by level from its children.
    ``weights`` maps child → weight, or is a function (node, children's data) → weights (for
    weights that depend on the data, computed just before the node is aggregated)."""
    out = data.copy()
    used: dict[str, float] = {}
    for level in spec.levels():
        for code in level:
            kids = spec.nodes[code].children
            missing = [k for k in kids if k not in out.columns]
            if missing:
                raise _setting_error("No data for {codes}.", codes=", ".join(missing))
            given = weights(code, out[kids]) if callable(weights) else weights
            w = np.array([float(given[k]) for k in kids])
            used.update(zip(kids, w.tolist(), strict=True))
            out[code] = _node_values(out[kids], w, node_config(settings, spec, code))
    return out, {"weights": used}
