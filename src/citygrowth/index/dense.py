"""The fast in-memory path: long arrays → a dense period × unit × indicator cube →
normalised → aggregated up the tree, in vectorised numpy.

It gives the same numbers as :class:`~citygrowth.index.coin.Coin` for the data-parallel
methods (normalisation ``minmax``, ``dist_max``, ``zscore``, ``fraction_max``, ``goalposts``
per period or global, with direction, range and log; aggregation ``arithmetic``,
``geometric``, ``harmonic``, ``generalised``, with ``min_coverage``) and fixed weights.

How it is fast: the cube is cut into slabs of a few periods that fit in the processor's
cache, and each slab is normalised and aggregated in one go by a pool of threads (numpy
releases the GIL in its loops, so the slabs run on every core). Global statistics are taken
in a first pass. Arithmetic nodes whose children are indicators are computed together as one
matrix product per slab. The benchmark (``python -m bench.index``) times it against a plain
numpy and a pandas implementation, and tests check the three agree with the coin.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from citygrowth.errors import CityGrowthError, Problem, ValidationFailed
from citygrowth.index import zeros
from citygrowth.index.aggregate import combine, node_config
from citygrowth.index.coin import weights_cfg
from citygrowth.index.normalise import direction_of, indicator_config
from citygrowth.index.spec import IndexSpec
from citygrowth.index.steps import _setting_error
from citygrowth.index.weights import node_weights

# The methods of the data-parallel paths (this one and the Ibis expressions).
IBIS_NORMALISE = ("minmax", "dist_max", "zscore", "fraction_max", "goalposts")
IBIS_AGGREGATE = ("arithmetic", "geometric", "harmonic", "generalised")

SLAB_BYTES = 4 << 20  # a slab of periods of about this size is one task


@dataclass
class Cube:
    """Indicator values as scattered from long arrays: periods × units × indicators."""
    units: np.ndarray
    periods: np.ndarray
    codes: list[str]
    values: np.ndarray  # periods × units × codes

    def long(self) -> pd.DataFrame:
        p, u, c = np.nonzero(~np.isnan(self.values))
        return pd.DataFrame({"unit": self.units[u], "period": self.periods[p],
                             "code": np.asarray(self.codes)[c], "value": self.values[p, u, c]})


@dataclass
class Dense:
    """Results of :func:`compute`: periods × codes × units (a code's values for one period
    are contiguous)."""
    units: np.ndarray
    periods: np.ndarray
    codes: list[str]
    values: np.ndarray  # periods × codes × units
    warnings: list[dict[str, Any]] = field(default_factory=list)  # see index.zeros

    def rows(self) -> zeros.Rows:
        """The results as rows (period by period, units within) for :func:`zeros.check`."""
        n_p, _, n_u = self.values.shape
        return zeros.Rows(np.tile(self.units.astype(str), n_p),
                          np.repeat(self.periods.astype(str), n_u),
                          lambda code: self.node(code).ravel())

    def node(self, code: str) -> np.ndarray:
        """periods × units values of one code."""
        return self.values[:, self.codes.index(code), :]

    def long(self) -> pd.DataFrame:
        p, c, u = np.nonzero(~np.isnan(self.values))
        return pd.DataFrame({"unit": self.units[u], "period": self.periods[p],
                             "code": np.asarray(self.codes)[c], "value": self.values[p, c, u]})


def workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def _parallel(fn: Callable[[int, int], Any], n: int, step: int) -> list[Any]:
    """``fn(start, stop)`` over [0, n) in steps, on a pool of threads."""
    bounds = [(a, min(a + step, n)) for a in range(0, n, max(1, step))]
    if len(bounds) <= 1 or workers() == 1:
        return [fn(a, b) for a, b in bounds]
    # one BLAS thread per task: the pool already uses every core
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers()) as pool:
        return list(pool.map(lambda ab: fn(*ab), bounds))


def _codes(col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if np.issubdtype(col.dtype, np.integer) and col.size and col.min() >= 0:
        n = int(col.max()) + 1
        return col, np.arange(n)
    codes, uniques = pd.factorize(col, sort=True)
    return codes, np.asarray(uniques)


def pivot(unit: np.ndarray, period: np.ndarray, indicator: np.ndarray, value: np.ndarray,
          indicators: list[str] | None = None) -> Cube:
    """Scatter long arrays into a dense cube (NaN where nothing was given). Integer codes
    from 0 are used as they are; anything else is factorised. A (unit, period, indicator)
    given twice is an error that names it."""
    u, units = _codes(np.asarray(unit))
    p, periods = _codes(np.asarray(period))
    i, inds = _codes(np.asarray(indicator))
    value = np.asarray(value, dtype=float)
    n_u, n_i = len(units), len(inds)
    flat_cube = np.empty(len(periods) * n_u * n_i)
    n = len(value)
    rows = max(1, n // (4 * workers()) + 1)

    def fill(a: int, b: int) -> None:
        flat_cube[a:b] = np.nan

    def scatter(a: int, b: int) -> int:
        f = p[a:b].astype(np.int64)
        f *= n_u
        f += u[a:b]
        f *= n_i
        f += i[a:b]
        flat_cube[f] = value[a:b]
        return int(np.count_nonzero(~np.isnan(value[a:b])))

    _parallel(fill, flat_cube.size, max(rows, 1 << 20))
    given = sum(_parallel(scatter, n, rows))
    filled = sum(_parallel(lambda a, b: int(np.count_nonzero(~np.isnan(flat_cube[a:b]))),
                           flat_cube.size, max(rows, 1 << 20)))
    if filled != given:
        _duplicate_error(u, p, i, units, periods, inds)
    cube = flat_cube.reshape(len(periods), n_u, n_i)
    return Cube(units, periods, [str(x) for x in (indicators or inds)], cube)


def _duplicate_error(u: np.ndarray, p: np.ndarray, i: np.ndarray, units: np.ndarray,
                     periods: np.ndarray, inds: np.ndarray) -> None:
    key = (p.astype(np.int64) * len(units) + u) * len(inds) + i
    order = np.argsort(key, kind="stable")
    same = np.flatnonzero(key[order][1:] == key[order][:-1])
    first = order[same[0]]
    raise ValidationFailed(
        "The data give a value twice for the same unit, period and indicator.",
        code="duplicate_values",
        problems=[Problem(message="Unit {unit}, period {period}, indicator {indicator} "
                                  "appears more than once.",
                          params={"unit": str(units[u[first]]),
                                  "period": str(periods[p[first]]),
                                  "indicator": str(inds[i[first]])}, row=int(first) + 1)])


# --- normalisation ------------------------------------------------------------------------

@dataclass
class _Group:
    """Indicators that share one normalisation configuration."""
    cfg: dict[str, Any]
    direction: int
    members: np.ndarray  # positions among the spec's indicators
    codes: list[str]  # the members' codes
    stats: tuple[np.ndarray, np.ndarray] | None = None  # global (a, b) when cfg["global"]

    @property
    def method(self) -> str:
        return str(self.cfg.get("method", "minmax"))


def _prepare(x: np.ndarray, g: _Group) -> np.ndarray:
    if g.cfg.get("log"):
        x = np.log(x)
    if g.method != "goalposts" and g.direction != 1:
        x = x * g.direction
    return x


def _stats(x: np.ndarray, method: str, axis: int | tuple[int, ...]
           ) -> tuple[np.ndarray, np.ndarray]:
    """The two statistics of a method over ``axis`` (keepdims)."""
    if method in ("minmax", "dist_max"):
        return (np.fmin.reduce(x, axis=axis, keepdims=True),
                np.fmax.reduce(x, axis=axis, keepdims=True))
    if method == "zscore":
        return (np.nanmean(x, axis=axis, keepdims=True),
                np.nanstd(x, axis=axis, ddof=1, keepdims=True))
    mx = np.fmax.reduce(x, axis=axis, keepdims=True)  # fraction_max
    return mx, mx


def _normalise_into(x: np.ndarray, g: _Group, out: np.ndarray) -> None:
    """Normalise slab ``x`` (periods × k indicators × units, raw) into ``out``."""
    cfg = g.cfg
    lo_r, hi_r = (float(v) for v in cfg.get("range", (0.0, 100.0)))
    scale = hi_r - lo_r
    x = _prepare(x, g)
    if g.method == "goalposts":
        lo, hi = (float(v) for v in cfg["goalposts"])
        if cfg.get("log"):
            lo, hi = np.log(lo), np.log(hi)
        if g.direction == 1:
            np.subtract(x, lo, out=out)
        else:
            np.subtract(hi, x, out=out)
        out /= hi - lo
        if cfg.get("clip", True):
            np.clip(out, 0.0, 1.0, out=out)
        out *= scale
        out += lo_r
        return
    a, b = g.stats if g.stats is not None else _stats(x, g.method, axis=2)
    if g.method in ("minmax", "dist_max"):
        span = b - a
        factor = np.where(span == 0, 0.0, scale / np.where(span == 0, 1, span))
        offset = lo_r + np.where(span == 0, 0.5 * scale, 0.0)
        np.subtract(x, a, out=out)
        out *= factor
        out += offset
    elif g.method == "zscore":
        factor = np.where(b == 0, 0.0, float(cfg.get("sd", 1.0)) / np.where(b == 0, 1, b))
        np.subtract(x, a, out=out)
        out *= factor
        out += float(cfg.get("mean", 0.0))
    elif g.direction == 1:  # fraction_max
        np.divide(x, a, out=out)
    else:  # fraction_max of a cost: min(value)/value = max(x)/x with x = −value
        _positive_costs(a, g)
        np.divide(a, x, out=out)


def _positive_costs(a: np.ndarray, g: _Group) -> None:
    """``a`` = max(−value) ≥ 0 means a value ≤ 0, for which min/value means nothing."""
    bad = np.flatnonzero((a >= 0).any(axis=(0, 2)))
    if len(bad):
        raise _setting_error("Indicator {code}: the fraction of the best value of a "
                             "criterion where less is better needs values above zero.",
                             code=g.codes[int(bad[0])])


def _groups(spec: IndexSpec, nset: Mapping[str, Any]) -> list[_Group]:
    by_key: dict[str, _Group] = {}
    members: dict[str, list[int]] = {}
    for j, ind in enumerate(spec.indicators):
        cfg = indicator_config(spec, ind, nset)
        if cfg.get("method", "minmax") not in IBIS_NORMALISE:
            raise _setting_error("Normalisation {method} is not available on this backend.",
                                 method=cfg.get("method"))
        direction = direction_of(spec, ind, cfg)
        key = json.dumps([cfg, direction], sort_keys=True, default=str)
        by_key.setdefault(key, _Group(cfg, direction, np.empty(0, dtype=np.intp), []))
        members.setdefault(key, []).append(j)
        by_key[key].codes.append(ind)
    for key, g in by_key.items():
        g.members = np.asarray(members[key], dtype=np.intp)
    return list(by_key.values())


# --- aggregation --------------------------------------------------------------------------

@dataclass
class _Node:
    code: str
    slot: int  # position in the output cube
    kids: list[int]  # slots of the children
    weights: np.ndarray
    cfg: dict[str, Any]


def _plan(spec: IndexSpec, aset: Mapping[str, Any], weights: Mapping[str, float]
          ) -> tuple[list[list[_Node]], list[str]]:
    slot = {c: j for j, c in enumerate(spec.indicators)}
    levels: list[list[_Node]] = []
    for level in spec.levels():
        nodes = []
        for code in level:
            cfg = node_config(aset, spec, code)
            method = cfg.get("method", "arithmetic")
            if method not in IBIS_AGGREGATE:
                raise _setting_error("Aggregation {method} is not available on this "
                                     "backend.", method=method)
            kids = spec.nodes[code].children
            slot[code] = len(slot)
            nodes.append(_Node(code, slot[code], [slot[k] for k in kids],
                               np.array([float(weights[k]) for k in kids]), cfg))
        levels.append(nodes)
    return levels, list(slot)


def _arithmetic_batch(slab: np.ndarray, nodes: list[_Node], n_ind: int) -> None:
    """Arithmetic means of indicator children, every node of ``nodes`` in one matrix
    product per period: Σ w x over present children / Σ w over present children."""
    x = slab[:, :n_ind, :]
    ok = ~np.isnan(x)
    filled = np.where(ok, x, 0.0)
    okf = ok.astype(float)
    w = np.zeros((len(nodes), n_ind))
    m = np.zeros((len(nodes), n_ind))
    for k, node in enumerate(nodes):
        w[k, node.kids] = node.weights
        m[k, node.kids] = 1.0
    wsum = np.matmul(w, okf)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.matmul(w, filled) / wsum
    keep = wsum > 0
    need = np.array([float(n.cfg.get("min_coverage", 0.0)) for n in nodes])
    if need.any():
        keep &= np.matmul(m, okf) / m.sum(axis=1)[:, None] + 1e-12 >= need[:, None]
    out = np.where(keep, out, np.nan)
    slab[:, [n.slot for n in nodes], :] = out


def _combine_node(slab: np.ndarray, node: _Node) -> None:
    c, _, n_u = slab.shape
    x = slab[:, node.kids, :].transpose(0, 2, 1).reshape(-1, len(node.kids))
    out = combine(x, node.weights, node.cfg)
    cover = (~np.isnan(x)).mean(axis=1)
    out = np.where(cover + 1e-12 < float(node.cfg.get("min_coverage", 0.0)), np.nan, out)
    slab[:, node.slot, :] = out.reshape(c, n_u)


# --- the whole computation ----------------------------------------------------------------

def capable(spec: IndexSpec) -> bool:
    """Whether the spec's run is data-parallel end to end, so this path gives the coin's
    numbers: no denominators, screening, imputation or treatment; weights that do not depend
    on the data; normalisation and aggregation methods of this path."""
    if any(n.denominator for n in spec.nodes.values()) or spec.step("denominate"):
        return False
    if any(spec.step(s) for s in ("screen", "impute", "treat")):
        return False
    wcfg = spec.step("weights") or {"method": "fixed"}
    methods = {wcfg.get("method", "fixed")} | {
        str(v.get("method", wcfg.get("method", "fixed")))
        for v in (wcfg.get("nodes") or {}).values() if isinstance(v, Mapping)}
    if not methods <= {"fixed", "equal", "ahp"}:
        return False
    try:
        _groups(spec, spec.step("normalise") or {"method": "minmax"})
        _plan(spec, spec.step("aggregate") or {"method": "arithmetic"},
              {c: n.weight for c, n in spec.nodes.items()})
    except CityGrowthError:
        return False
    return True


def fixed_weights(spec: IndexSpec) -> dict[str, float]:
    """The weight of every child under the spec's (data-independent) weights settings."""
    wcfg = spec.step("weights") or {"method": "fixed"}
    out: dict[str, float] = {}
    for level in spec.levels():
        for code in level:
            w, _ = node_weights(spec, code, weights_cfg(wcfg, code), None)
            out.update({k: float(v) for k, v in w.items()})
    return out


def run(spec: IndexSpec, long: pd.DataFrame) -> Dense:
    """Every node for every unit and period from long data (unit, period, indicator,
    value), with the spec's fixed weights."""
    cube = pivot(long["unit"].to_numpy(), long["period"].to_numpy(),
                 long["indicator"].to_numpy(), long["value"].to_numpy(dtype=float))
    return compute(cube, spec, fixed_weights(spec))


def run_long(spec: IndexSpec, long: pd.DataFrame) -> pd.DataFrame:
    """:func:`run` as DataFrame(unit, period, code, value), missing values left out."""
    return run(spec, long).long()


def compute(cube: Cube, spec: IndexSpec, weights: Mapping[str, float] | None = None
            ) -> Dense:
    """Normalise the cube's indicators and aggregate every node; returns the results with
    one row per code and period (the spec's indicators first, then aggregates level by
    level). Indicators of the spec missing from the cube are missing throughout."""
    nset = spec.step("normalise") or {"method": "minmax"}
    aset = spec.step("aggregate") or {"method": "arithmetic"}
    weights = weights or {c: n.weight for c, n in spec.nodes.items()}
    n_ind = len(spec.indicators)
    groups = _groups(spec, nset)
    levels, codes = _plan(spec, aset, weights)
    pos = {c: k for k, c in enumerate(cube.codes)}
    cols = np.array([pos.get(i, -1) for i in spec.indicators], dtype=np.intp)
    n_p, n_u = cube.values.shape[:2]

    def source(a: int, b: int, members: np.ndarray) -> np.ndarray:
        """Raw values of some indicators, periods a..b: periods × members × units."""
        want = cols[members]
        x = cube.values[a:b].transpose(0, 2, 1)
        x = np.ascontiguousarray(x) if want.tolist() == list(range(x.shape[1])) \
            else x[:, np.where(want < 0, 0, want), :]
        x[:, want < 0, :] = np.nan
        return x

    for g in groups:
        if g.cfg.get("global") and g.method != "goalposts":
            with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)  # all missing stays missing
                g.stats = _stats(_prepare(source(0, n_p, g.members), g), g.method,
                                 axis=(0, 2))
    out = np.empty((n_p, len(codes), n_u))
    per_period = max(1, n_u * len(codes) * 8)
    _parallel(lambda a, b: _slab(out[a:b], source(a, b, np.arange(n_ind)), groups, levels,
                                 n_ind), n_p, max(1, SLAB_BYTES // per_period))
    result = Dense(cube.units, cube.periods, codes, out)
    if zeros.needed(spec, aset):
        result.warnings = zeros.check(spec, aset, weights, result.rows())
    return result


def _slab(slab: np.ndarray, raw: np.ndarray, groups: list[_Group], levels: list[list[_Node]],
          n_ind: int) -> None:
    """Normalise and aggregate one slab of periods (raw: periods × indicators × units)."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing slices stay missing
        for g in groups:
            if len(g.members) == n_ind:
                _normalise_into(raw, g, slab[:, :n_ind, :])
            else:
                part = np.empty((raw.shape[0], len(g.members), raw.shape[2]))
                _normalise_into(raw[:, g.members, :], g, part)
                slab[:, g.members, :] = part
        for nodes in levels:
            batch = [n for n in nodes if n.cfg.get("method", "arithmetic") == "arithmetic"
                     and max(n.kids) < n_ind]
            if batch:
                _arithmetic_batch(slab, batch, n_ind)
            done = {n.slot for n in batch}
            for node in nodes:
                if node.slot not in done:
                    _combine_node(slab, node)
