"""Aggregation up the tree, level by level and node by node.

Methods (``method``, per node under ``nodes: {CODE: {...}}``):

* ``arithmetic``   Σ w x / Σ w over the children with a value (weights renormalised)
* ``geometric``    Π x^(w/Σw); zeros follow ``zeros``: ``propagate`` (default: a zero child
                   makes the node 0, the limit of the mean), ``epsilon`` (values below
                   ``epsilon`` are raised to it) or ``shift`` (add ``shift`` to every value,
                   take the mean, subtract it again). Negative values need ``shift``.
* ``harmonic``     Σ w / Σ (w / x); a zero child makes the node 0; ``zeros`` as above
* ``generalised``  (Σ w x^p / Σ w)^(1/p) with ``p`` (p = 1 arithmetic, p → 0 geometric); for
                   p ≤ 0 a zero child makes the node 0 and ``zeros`` applies

:mod:`citygrowth.index.zeros` warns when zeros (or values below zero) decide such a mean.
* ``copeland``     Copeland outranking per period: for every pair of units, the weighted
                   majority of children decides who wins; score = wins − losses
* ``topsis``       closeness to the ideal over the children (see :func:`topsis`), × ``scale``;
                   ``normalisation``: ``minmax`` (default) or ``vector``; ``on: raw`` works on
                   the raw decision matrix with cost criteria as pymcdm's types (direction
                   −1), as pymcdm does; ``on: normalised`` (default) on the normalised scores

``min_coverage`` (0–1, default 0) is the least share of children (by count) that must have a
value; below it the node is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
        norm = np.where(norm == 0, 1, norm)  # a column of zeros: every unit alike
        n = np.where(types > 0, x / norm, 1 - x / norm)
    else:
        raise _setting_error("Unknown TOPSIS normalisation {name}.", name=normalisation)
    v = n * np.asarray(weights, dtype=float)
    d_plus = np.sqrt(((v - v.max(axis=0)) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - v.min(axis=0)) ** 2).sum(axis=1))
    total = d_plus + d_minus
    return np.where(total == 0, 0.5, d_minus / np.where(total == 0, 1, total))


def sensitive(cfg: Mapping[str, Any]) -> bool:
    """Whether a child at zero sends the node to zero: geometric and harmonic means, and
    generalised means with p ≤ 0."""
    method = cfg.get("method", "arithmetic")
    return method in ("geometric", "harmonic") or (
        method == "generalised" and float(cfg.get("p", 2.0)) <= 0)


def zeros_rule(x: np.ndarray, cfg: Mapping[str, Any]) -> tuple[np.ndarray, float]:
    """The values a zero-sensitive mean takes (``zeros``: ``propagate`` as they are,
    ``epsilon`` raised to at least ``epsilon``, ``shift`` plus ``shift``) and the shift to
    subtract from the mean afterwards."""
    rule = cfg.get("zeros", "propagate")
    if rule == "shift":
        shift = float(cfg.get("shift", 1.0))
        return x + shift, shift
    if rule == "epsilon":
        eps = float(cfg.get("epsilon", 1e-3))
        return np.where(np.isnan(x), x, np.maximum(x, eps)), 0.0
    if rule != "propagate":
        raise _setting_error("Unknown rule for zeros {rule}.", rule=rule)
    return x, 0.0


def _geometric(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Π x^(w/Σw) over present values; a zero child gives 0 (the limit) without taking
    log 0; a negative child gives no value (the zeros check names it)."""
    wsum = np.nansum(np.where(np.isnan(x), 0, w), axis=1)
    logs = np.where(np.isnan(x), 0.0, np.log(np.where(x > 0, x, 1.0)) * w)
    out = np.exp(logs.sum(axis=1) / wsum)
    out = np.where(np.any((x == 0) & (w > 0), axis=1), 0.0, out)
    return np.where(np.any((x < 0) & (w > 0), axis=1), np.nan, out)


def _harmonic(x: np.ndarray, w: np.ndarray, wsum: np.ndarray) -> np.ndarray:
    inv = np.where(np.isnan(x) | (x == 0), 0.0, w / np.where(x == 0, 1, x)).sum(axis=1)
    zero = np.any((x == 0) & (w > 0), axis=1)
    return np.where(zero, 0.0, wsum / np.where(inv == 0, np.nan, inv))


def _generalised(x: np.ndarray, w: np.ndarray, p: float, safe: np.ndarray) -> np.ndarray:
    if p == 0:
        return _geometric(x, w)
    powered = np.where(np.isnan(x), 0.0, w * np.power(np.abs(x), p) * np.sign(x))
    out = (powered.sum(axis=1) / safe) ** (1.0 / p)
    if p < 0:  # a zero child: x^p is infinite, the mean 0
        out = np.where(np.any((x == 0) & (w > 0), axis=1), 0.0, out)
    return np.asarray(out)


def combine(x: np.ndarray, w: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    """Aggregate rows of ``x`` (units × children, NaN = missing) with weights ``w``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _combine(x, w, cfg)


def _combine(x: np.ndarray, w: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    method = cfg.get("method", "arithmetic")
    wm = np.where(np.isnan(x), 0.0, w)
    wsum = wm.sum(axis=1)
    safe = np.where(wsum == 0, np.nan, wsum)
    shift = 0.0
    if sensitive(cfg):
        x, shift = zeros_rule(x, cfg)
    if method == "arithmetic":
        out = np.where(np.isnan(x), 0.0, x * w).sum(axis=1) / safe
    elif method == "geometric":
        out = _geometric(x, w)
    elif method == "harmonic":
        out = _harmonic(x, w, wsum)
    elif method == "generalised":
        out = _generalised(x, w, float(cfg.get("p", 2.0)), safe)
    else:
        raise _setting_error("Unknown aggregation method {method}.", method=method)
    return np.where(wsum == 0, np.nan, out - shift)


def copeland(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Copeland score of each row: Σ over other rows of sign(Σ_j w_j · sign(x_aj − x_bj))."""
    diff = np.sign(x[:, None, :] - x[None, :, :])
    diff = np.where(np.isnan(diff), 0.0, diff)
    return np.asarray(np.sign((diff * w).sum(axis=2)).sum(axis=1))


ON = ("normalised", "raw")


def on_raw(cfg: Mapping[str, Any]) -> bool:
    """Whether ``cfg`` asks for the raw decision matrix (``on: raw``) rather than the
    normalised scores (``on: normalised``, the default)."""
    on = str(cfg.get("on", "normalised"))
    if on not in ON:
        raise _setting_error("The setting 'on' must be normalised or raw, not {on}.", on=on)
    return on == "raw"


def _ranked_per_period(x: np.ndarray, w: np.ndarray, types: np.ndarray,
                       periods: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    """Copeland or TOPSIS, one period at a time, over the units with every child that has a
    value this period (pymcdm needs a complete matrix)."""
    method = cfg.get("method")
    out = np.full(len(x), np.nan)
    for _, rows in pd.Series(range(len(x))).groupby(periods).indices.items():
        cols = ~np.isnan(x[rows]).all(axis=0)  # a child nobody has this period is left out
        sub, wc = x[rows][:, cols], w[cols]
        ok = ~np.isnan(sub).any(axis=1)
        if not cols.any() or wc.sum() <= 0:
            continue
        if method == "copeland":
            out[rows[ok]] = copeland(sub[ok], wc)
        elif ok.sum() > 1:
            out[rows[ok]] = topsis(sub[ok], wc / wc.sum(), types[cols],
                                   cfg.get("normalisation", "minmax")) * float(
                                       cfg.get("scale", 1.0))
    return out


def _node_values(x: np.ndarray, raw: Callable[[], np.ndarray], types: np.ndarray,
                 w: np.ndarray, periods: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    """One node's values from its children's scores ``x`` (rows × children); ``raw`` gives
    their raw decision matrix when TOPSIS asks for it."""
    method = cfg.get("method", "arithmetic")
    if method not in ("copeland", "topsis"):
        out = combine(x, w, cfg)
    else:
        raw_matrix = method == "topsis" and on_raw(cfg)
        out = _ranked_per_period(raw() if raw_matrix else x, w,
                                 types if raw_matrix else np.ones(len(w)), periods, cfg)
    cover = (~np.isnan(x)).mean(axis=1)
    return np.where(cover + 1e-12 < float(cfg.get("min_coverage", 0.0)), np.nan, out)


def node_config(settings: Mapping[str, Any], spec: IndexSpec, code: str) -> dict[str, Any]:
    base = {k: v for k, v in settings.items() if k not in ("nodes", "levels")}
    level = spec.level_of(code)
    base.update(dict((settings.get("levels") or {}).get(level, {})))
    base.update(dict((settings.get("nodes") or {}).get(code, {})))
    return base


def types_of(spec: IndexSpec, kids: list[str]) -> np.ndarray:
    """pymcdm's criteria types: an indicator's direction (−1 a cost), 1 for aggregates."""
    return np.array([spec.nodes[k].direction if spec.nodes[k].is_indicator else 1
                     for k in kids], dtype=float)


@dataclass
class Children:
    """A node's children's values, handed to a weights function: ``scores()`` their scores
    (normalised indicators, aggregates), ``raw()`` their raw decision matrix (indicators as
    they entered normalisation, aggregates as their scores). Built only when asked for."""

    kids: list[str]
    columns: Mapping[str, np.ndarray]
    decision: pd.DataFrame | None
    index: pd.Index

    def scores(self) -> pd.DataFrame:
        return pd.DataFrame({k: self.columns[k] for k in self.kids}, index=self.index)

    def raw_matrix(self) -> np.ndarray:
        d = self.decision
        return np.column_stack([d[k].to_numpy(dtype=float) if d is not None and k in d.columns
                                else self.columns[k] for k in self.kids])

    def raw(self) -> pd.DataFrame:
        return pd.DataFrame(self.raw_matrix(), index=self.index, columns=self.kids)


# (node, its children's values) → weights
WeightFn = Callable[[str, Children], Mapping[str, float]]


def aggregate(data: pd.DataFrame, spec: IndexSpec, weights: Mapping[str, float] | WeightFn,
              decision: pd.DataFrame | None = None, **settings: Any
              ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Add a column per aggregate node, computed level by level from its children.
    ``weights`` maps child → weight, or is a function (node, :class:`Children`) → weights
    (for weights that depend on the data, computed just before the node is aggregated).
    ``decision`` holds the indicators as they entered normalisation (for ``on: raw``). The
    info gives per node its settings and its children's weights as given and as shares of
    the node."""
    columns = {c: data[c].to_numpy(dtype=float) for c in data.columns}
    periods = np.asarray(data.index.get_level_values(1))
    added: dict[str, np.ndarray] = {}
    used: dict[str, float] = {}
    nodes: dict[str, Any] = {}
    for level in spec.levels():
        for code in level:
            kids = spec.nodes[code].children
            missing = [k for k in kids if k not in columns]
            if missing:
                raise _setting_error("No data for {codes}.", codes=", ".join(missing))
            children = Children(kids, columns, decision, data.index)
            given = weights(code, children) if callable(weights) else weights
            w = np.array([float(given[k]) for k in kids])
            used.update(zip(kids, w.tolist(), strict=True))
            cfg = node_config(settings, spec, code)
            x = np.column_stack([columns[k] for k in kids])
            columns[code] = added[code] = _node_values(
                x, children.raw_matrix, types_of(spec, kids), w, periods, cfg)
            total = w.sum()
            nodes[code] = {"settings": cfg, "weights": dict(zip(kids, w.tolist(), strict=True)),
                           "shares": {k: float(v / total) if total else 0.0
                                      for k, v in zip(kids, w, strict=True)}}
    out = pd.concat([data, pd.DataFrame(added, index=data.index)], axis=1)
    return out, {"weights": used, "nodes": nodes}
