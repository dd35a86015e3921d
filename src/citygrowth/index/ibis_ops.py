"""The data-parallel steps as Ibis expressions, so they run on DuckDB and Spark alike.

Input is a long table ``unit, period, indicator, value``; output a long table
``unit, period, code, value`` for every node. Normalisation (``minmax``, ``dist_max``,
``zscore``, ``fraction_max``, ``goalposts``, with direction, range, optional log, per period or
global) is a window expression; each level of aggregation (``arithmetic``, ``geometric``
with zero propagation, ``harmonic``, ``generalised``) is a join with the tree's edges and a
group-by; :func:`rollup_areas` takes unit scores up an area hierarchy. The weights are
computed beforehand (small matrices, numpy) and handed in as a table. Results equal the
in-memory :class:`~citygrowth.index.coin.Coin` (tests compare them on DuckDB and Spark).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from citygrowth.index.aggregate import node_config, sensitive
from citygrowth.index.dense import IBIS_AGGREGATE, IBIS_NORMALISE
from citygrowth.index.normalise import direction_of, indicator_config
from citygrowth.index.spec import IndexSpec
from citygrowth.index.steps import _setting_error


def memtable(df: pd.DataFrame) -> ir.Table:
    """An in-memory Ibis table, handed over as Arrow (pandas 3 and Ibis 12 disagree on
    string inference when given a DataFrame)."""
    return ibis.memtable(pa.Table.from_pandas(df, preserve_index=False))


@contextmanager
def quiet_backends() -> Iterator[None]:
    """Silence two deprecation notices that Ibis 12 triggers inside DuckDB 2 and pandas 3
    (``fetch_arrow_table``, ``future.infer_string``); they are not ours to fix."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*fetch_arrow_table.*", DeprecationWarning)
        warnings.filterwarnings("ignore", ".*future.infer_string.*")
        yield


def to_pandas(expr: ir.Table) -> pd.DataFrame:
    """Execute ``expr`` on its backend and return a DataFrame (through Arrow)."""
    with quiet_backends():
        return expr.to_pyarrow().to_pandas()


def normalise_params(spec: IndexSpec, settings: Mapping[str, Any]) -> pd.DataFrame:
    """One row of normalisation parameters per indicator."""
    rows = []
    for ind in spec.indicators:
        cfg = indicator_config(spec, ind, settings)
        method = cfg.get("method", "minmax")
        if method not in IBIS_NORMALISE:
            raise _setting_error("Normalisation {method} is not available on this backend.",
                                 method=method)
        rng = [float(v) for v in cfg.get("range", (0.0, 100.0))]
        gp = cfg.get("goalposts") or (0.0, 1.0)
        rows.append({
            "p_indicator": ind, "method": method,
            "direction": float(direction_of(spec, ind, cfg)),
            "r0": rng[0], "r1": rng[1], "gp_lo": float(gp[0]), "gp_hi": float(gp[1]),
            "use_log": bool(cfg.get("log", False)), "is_global": bool(cfg.get("global")),
            "clip": bool(cfg.get("clip", True)), "z_mean": float(cfg.get("mean", 0.0)),
            "z_sd": float(cfg.get("sd", 1.0))})
    return pd.DataFrame(rows)


def normalise_expr(t: ir.Table, params: ir.Table) -> ir.Table:
    """Normalised ``unit, period, indicator, value`` (see the module doc)."""
    j = t.join(params, t.indicator == params.p_indicator)
    raw = ibis.ifelse(j.use_log, j.value.ln(), j.value)
    lo_gp = ibis.ifelse(j.use_log, j.gp_lo.ln(), j.gp_lo)
    hi_gp = ibis.ifelse(j.use_log, j.gp_hi.ln(), j.gp_hi)
    j = j.mutate(x=raw * j.direction, grp=ibis.ifelse(j.is_global, "", j.period),
                 lo_g=lo_gp, hi_g=hi_gp, raw=raw)
    w = {"group_by": [j.indicator, j.grp]}
    j = j.mutate(mn=j.x.min().over(**w), mx=j.x.max().over(**w), mean=j.x.mean().over(**w),
                 sd=j.x.std().over(**w))
    span = j.mx - j.mn
    unit_span = ibis.ifelse(span == 0, 0.5, (j.x - j.mn) / ibis.ifelse(span == 0, 1.0, span))
    gp = ibis.ifelse(j.direction > 0, (j.raw - j.lo_g), (j.hi_g - j.raw)) / (j.hi_g - j.lo_g)
    gp = ibis.ifelse(j.clip, ibis.greatest(ibis.least(gp, 1.0), 0.0), gp)
    z = ibis.ifelse(j.sd == 0, 0.0, (j.x - j.mean) / ibis.ifelse(j.sd == 0, 1.0, j.sd))
    scale = j.r1 - j.r0
    value = (
        ibis.cases(
            (j.method.isin(["minmax", "dist_max"]), unit_span * scale + j.r0),
            (j.method == "goalposts", gp * scale + j.r0),
            (j.method == "zscore", z * j.z_sd + j.z_mean),
            # a cost: min(value)/value = max(x)/x, as x = −value
            (j.method == "fraction_max", ibis.ifelse(j.direction > 0, j.x / j.mx, j.mx / j.x)),
        )
    )
    return j.select(unit=j.unit, period=j.period, indicator=j.indicator,
                    value=value.cast("float64"))


def edges(spec: IndexSpec, weights: Mapping[str, float], settings: Mapping[str, Any],
          level: list[str]) -> pd.DataFrame:
    """Children of the nodes of one level with weight and the node's method."""
    rows = []
    for code in level:
        cfg = node_config(settings, spec, code)
        method = cfg.get("method", "arithmetic")
        if method not in IBIS_AGGREGATE:
            raise _setting_error("Aggregation {method} is not available on this backend.",
                                 method=method)
        if sensitive(cfg) and cfg.get("zeros", "propagate") != "propagate":
            raise _setting_error("Aggregation {method} is not available on this backend.",
                                 method=f"{method}/{cfg.get('zeros')}")
        kids = spec.nodes[code].children
        for k in kids:
            rows.append({"child": k, "parent": code, "weight": float(weights[k]),
                         "method": method, "p": float(cfg.get("p", 2.0)),
                         "n_children": len(kids),
                         "min_coverage": float(cfg.get("min_coverage", 0.0))})
    return pd.DataFrame(rows)


def aggregate_level(t: ir.Table, e: ir.Table) -> ir.Table:
    """One level up: ``t`` (unit, period, code, value) joined with edges, grouped by parent."""
    j = t.join(e, t.code == e.child).filter(lambda r: r.value.notnull())
    x = j.value
    safe = ibis.ifelse(x > 0, x, 1.0)
    g = j.group_by([j.unit, j.period, j.parent]).aggregate(
        sw=j.weight.sum(), swx=(j.weight * x).sum(), swlog=(j.weight * safe.ln()).sum(),
        nzero=((x == 0) & (j.weight > 0)).cast("int64").sum(),
        swinv=(j.weight / safe).sum(), swxp=(j.weight * x.abs() ** j.p * x.sign()).sum(),
        n=x.count(), method=j.method.max(), p=j.p.max(), n_children=j.n_children.max(),
        min_coverage=j.min_coverage.max())
    value = ibis.cases(
        (g.method == "arithmetic", g.swx / g.sw),
        (g.method == "geometric", ibis.ifelse(g.nzero > 0, 0.0, (g.swlog / g.sw).exp())),
        (g.method == "harmonic", ibis.ifelse(g.nzero > 0, 0.0, g.sw / g.swinv)),
        (g.method == "generalised", (g.swxp / g.sw) ** (1.0 / g.p)),
    )
    covered = (g.n.cast("float64") / g.n_children + 1e-12) >= g.min_coverage
    return g.select(unit=g.unit, period=g.period, code=g.parent,
                    value=ibis.ifelse(covered & (g.sw > 0), value, ibis.null()).cast(
                        "float64"))


def compute_expr(t: ir.Table, spec: IndexSpec, weights: Mapping[str, float]) -> ir.Table:
    """The whole index from a long table of (treated) indicator values: every node, long.
    Missing values (null or NaN) are left out. Each level reads only the outputs that hold
    its children, so plans stay a chain (Spark plans stay small)."""
    nsettings = spec.step("normalise") or {"method": "minmax"}
    asettings = spec.step("aggregate") or {"method": "arithmetic"}
    params = memtable(normalise_params(spec, nsettings))
    t = t.filter(t.indicator.isin(spec.indicators) & t.value.notnull() & ~t.value.isnan())
    norm = normalise_expr(t, params).rename(code="indicator")
    parts: list[tuple[set[str], ir.Table]] = [(set(spec.indicators), norm)]
    for level in spec.levels():
        kids = {k for code in level for k in spec.nodes[code].children}
        inputs = [expr for codes, expr in parts if codes & kids]
        e = memtable(edges(spec, weights, asettings, level))
        up = aggregate_level(inputs[0] if len(inputs) == 1 else ibis.union(*inputs), e)
        parts.append((set(level), up))
    return ibis.union(*(expr for _, expr in parts))


def rollup_areas(t: ir.Table, parents: pd.DataFrame, weight: str | None = None) -> ir.Table:
    """Scores of parent areas as the (weighted) mean of their children's: ``parents`` has
    columns ``unit, parent`` and, when ``weight`` is named, a weight column (e.g.
    population)."""
    p = memtable(parents)
    j = t.join(p, t.unit == p.unit).filter(lambda r: r.value.notnull())
    w = j[weight] if weight else ibis.literal(1.0)
    g = j.group_by([j.parent, j.period, j.code]).aggregate(
        swx=(w * j.value).sum(), sw=w.sum())
    return g.select(unit=g.parent, period=g.period, code=g.code, value=g.swx / g.sw)
