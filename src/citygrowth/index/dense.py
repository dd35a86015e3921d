"""The fast in-memory path: long arrays → a dense period × unit × indicator cube →
normalised → aggregated up the tree, all in vectorised numpy.

It gives the same numbers as :class:`~citygrowth.index.coin.Coin` for the data-parallel
methods (normalisation ``minmax``, ``dist_max``, ``zscore``, ``fraction_max``, ``goalposts``
per period or global, with direction, range and log; aggregation ``arithmetic``,
``geometric`` with zero propagation, ``harmonic``, ``generalised``, with ``min_coverage``) and
fixed weights; the benchmark (``python -m bench.index``) times it against a plain numpy and a
pandas implementation, and a test checks the three agree with the coin.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from citygrowth.index.aggregate import node_config
from citygrowth.index.normalise import indicator_config
from citygrowth.index.spec import IndexSpec
from citygrowth.index.steps import _setting_error

# The methods of the data-parallel paths (this one and the Ibis expressions).
IBIS_NORMALISE = ("minmax", "dist_max", "zscore", "fraction_max", "goalposts")
IBIS_AGGREGATE = ("arithmetic", "geometric", "harmonic", "generalised")


@dataclass
class Dense:
    units: np.ndarray
    periods: np.ndarray
    codes: list[str]
    values: np.ndarray  # periods × units × codes

    def long(self) -> pd.DataFrame:
        p, u, c = np.nonzero(~np.isnan(self.values))
        return pd.DataFrame({"unit": self.units[u], "period": self.periods[p],
                             "code": np.asarray(self.codes)[c], "value": self.values[p, u, c]})


def _codes(col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if np.issubdtype(col.dtype, np.integer) and col.size and col.min() >= 0:
        n = int(col.max()) + 1
        return col, np.arange(n)
    codes, uniques = pd.factorize(col, sort=True)
    return codes, np.asarray(uniques)


def pivot(unit: np.ndarray, period: np.ndarray, indicator: np.ndarray, value: np.ndarray,
          indicators: list[str] | None = None) -> Dense:
    """Scatter long arrays into a dense cube (NaN where nothing was given). Integer codes
    from 0 are used as they are; anything else is factorised."""
    u, units = _codes(np.asarray(unit))
    p, periods = _codes(np.asarray(period))
    i, inds = _codes(np.asarray(indicator))
    cube = np.full((len(periods), len(units), len(inds)), np.nan)
    cube[p, u, i] = value
    return Dense(units, periods, [str(x) for x in (indicators or inds)], cube)


def _normalise_block(x: np.ndarray, cfg: Mapping[str, Any], direction: int) -> np.ndarray:
    """x: periods × units × k indicators sharing one configuration (a new array)."""
    with warnings.catch_warnings():  # all-missing slices simply stay missing
        warnings.simplefilter("ignore", RuntimeWarning)
        return _normalise_block_inner(x, cfg, direction)


def _normalise_block_inner(x: np.ndarray, cfg: Mapping[str, Any], direction: int
                           ) -> np.ndarray:
    method = cfg.get("method", "minmax")
    lo_r, hi_r = (float(v) for v in cfg.get("range", (0.0, 100.0)))
    scale = hi_r - lo_r
    if cfg.get("log"):
        x = np.log(x)
    if method == "goalposts":
        lo, hi = (float(v) for v in cfg["goalposts"])
        if cfg.get("log"):
            lo, hi = np.log(lo), np.log(hi)
        v = (x - lo) / (hi - lo) if direction == 1 else (hi - x) / (hi - lo)
        if cfg.get("clip", True):
            np.clip(v, 0.0, 1.0, out=v)
        return v * scale + lo_r
    if direction != 1:
        x = x * direction
    axis = (0, 1) if cfg.get("global") else 1
    with np.errstate(invalid="ignore", divide="ignore"):
        if method in ("minmax", "dist_max"):
            mn = np.nanmin(x, axis=axis, keepdims=True)
            span = np.nanmax(x, axis=axis, keepdims=True) - mn
            factor = np.where(span == 0, 0.0, scale / np.where(span == 0, 1, span))
            offset = lo_r + np.where(span == 0, 0.5 * scale, 0.0)
            v = np.subtract(x, mn)
            v *= factor
            v += offset
            return v
        if method == "zscore":
            mean = np.nanmean(x, axis=axis, keepdims=True)
            sd = np.nanstd(x, axis=axis, ddof=1, keepdims=True)
            factor = np.where(sd == 0, 0.0, float(cfg.get("sd", 1.0)) / np.where(sd == 0, 1, sd))
            return (x - mean) * factor + float(cfg.get("mean", 0.0))
        return x / np.nanmax(x, axis=axis, keepdims=True)  # fraction_max


def _combine(children: list[np.ndarray], w: np.ndarray, cfg: Mapping[str, Any]
             ) -> np.ndarray:
    method = cfg.get("method", "arithmetic")
    acc = np.zeros_like(children[0])
    wsum = np.zeros_like(children[0])
    zero = np.zeros(children[0].shape, dtype=bool)
    count = np.zeros_like(children[0])
    p = float(cfg.get("p", 2.0))
    for x, wi in zip(children, w, strict=True):
        ok = ~np.isnan(x)
        wsum += np.where(ok, wi, 0.0)
        count += ok
        if method == "arithmetic":
            acc += np.where(ok, x * wi, 0.0)
        elif method == "geometric":
            zero |= ok & (x == 0) & (wi > 0)
            acc += np.where(ok & (x > 0), np.log(np.where(x > 0, x, 1.0)) * wi, 0.0)
        elif method == "harmonic":
            zero |= ok & (x == 0) & (wi > 0)
            acc += np.where(ok & (x != 0), wi / np.where(x == 0, 1.0, x), 0.0)
        else:
            acc += np.where(ok, wi * np.abs(x) ** p * np.sign(x), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "arithmetic":
            out = acc / wsum
        elif method == "geometric":
            out = np.where(zero, 0.0, np.exp(acc / wsum))
        elif method == "harmonic":
            out = np.where(zero, 0.0, wsum / acc)
        else:
            out = (acc / wsum) ** (1.0 / p)
    covered = count / len(children) + 1e-12 >= float(cfg.get("min_coverage", 0.0))
    return np.where(covered & (wsum > 0), out, np.nan)


def _normalise_all(dense: Dense, spec: IndexSpec, nset: Mapping[str, Any]) -> np.ndarray:
    """The normalised cube, columns in ``spec.indicators`` order; indicators that share
    settings are normalised together in one vectorised pass."""
    inds = spec.indicators
    pos = {c: k for k, c in enumerate(dense.codes)}
    groups: dict[str, list[int]] = {}
    cfgs: dict[str, tuple[dict[str, Any], int]] = {}
    for j, ind in enumerate(inds):
        cfg = indicator_config(spec, ind, nset)
        if cfg.get("method", "minmax") not in IBIS_NORMALISE:
            raise _setting_error("Normalisation {method} is not available on this backend.",
                                 method=cfg.get("method"))
        direction = int(cfg.get("direction", spec.nodes[ind].direction))
        key = json.dumps([cfg, direction], sort_keys=True, default=str)
        groups.setdefault(key, []).append(j)
        cfgs[key] = (cfg, direction)
    cols = [pos.get(i, -1) for i in inds]
    if cols == list(range(len(dense.codes))):
        source = dense.values
    else:
        pad = np.concatenate([dense.values, np.full(dense.values.shape[:2] + (1,), np.nan)],
                             axis=2)
        source = pad[:, :, cols]
    if len(groups) == 1:
        ((key, _),) = groups.items()
        return _normalise_block(source, *cfgs[key])
    out = np.empty(source.shape)
    for key, members in groups.items():
        out[:, :, members] = _normalise_block(source[:, :, members], *cfgs[key])
    return out


def _arithmetic_block(x: np.ndarray, w: np.ndarray, min_coverage: float) -> np.ndarray:
    ok = ~np.isnan(x)
    filled = np.where(ok, x, 0.0)
    wsum = ok @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (filled @ w) / wsum
    if min_coverage > 0:
        covered = ok.sum(axis=2) / x.shape[2] + 1e-12 >= min_coverage
        out = np.where(covered, out, np.nan)
    return np.where(wsum > 0, out, np.nan)


def compute(dense: Dense, spec: IndexSpec, weights: Mapping[str, float] | None = None
            ) -> Dense:
    """Normalise the cube's indicators and aggregate every node; returns a cube with one
    slice per node (indicators first, then aggregates level by level)."""
    nset = spec.step("normalise") or {"method": "minmax"}
    aset = spec.step("aggregate") or {"method": "arithmetic"}
    weights = weights or {c: n.weight for c, n in spec.nodes.items()}
    inds = spec.indicators
    norm = _normalise_all(dense, spec, nset)
    col = {c: j for j, c in enumerate(inds)}
    agg: dict[str, np.ndarray] = {}
    for level in spec.levels():
        for code in level:
            cfg = node_config(aset, spec, code)
            method = cfg.get("method", "arithmetic")
            if method not in IBIS_AGGREGATE:
                raise _setting_error("Aggregation {method} is not available on this "
                                     "backend.", method=method)
            kids = spec.nodes[code].children
            w = np.array([float(weights[k]) for k in kids])
            if method == "arithmetic" and all(k in col for k in kids):
                agg[code] = _arithmetic_block(norm[:, :, [col[k] for k in kids]], w,
                                              float(cfg.get("min_coverage", 0.0)))
            else:
                agg[code] = _combine([norm[:, :, col[k]] if k in col else agg[k]
                                      for k in kids], w, cfg)
    codes = [*inds, *agg]
    return Dense(dense.units, dense.periods, codes,
                 np.concatenate([norm, np.stack(list(agg.values()), axis=2)], axis=2))
