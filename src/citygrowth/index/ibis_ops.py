"""The index as Ibis expressions, so it runs on DuckDB and Spark alike.

Input is a long table ``unit, period, indicator, value``; output a long table
``unit, period, code, value`` for every node. Normalisation (``minmax``, ``dist_max``,
``zscore``, ``fraction_max``, ``goalposts``, with direction, range, optional log, per period or
global) is a window expression; each level of aggregation (``arithmetic``, ``geometric``
with zero propagation, ``harmonic``, ``generalised``) is a join with the tree's edges and a
group-by; :func:`rollup_areas` takes unit scores up an area hierarchy. The weights are
computed beforehand (small matrices, numpy) and handed in as a table. Results equal the
in-memory :class:`~citygrowth.index.coin.Coin` (tests compare them on DuckDB and Spark).

The server's computation (:func:`citygrowth.index.service.compute_index`) runs through
here: :func:`level_panel` rolls the observation store's current view up to an area level
(every indicator by its roll-up rule, in one pass per rule) and makes it annual;
:func:`impute_expr` fills gaps like the coin's ``impute`` (``linear``, ``locf``, ``mean``, in
order) with window functions; :func:`compute_expr` normalises and aggregates;
:func:`rank_expr` ranks. :func:`unsupported` says which settings need the coin instead.
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

from citygrowth.areas.models import CODE_LENGTH
from citygrowth.catalog.framework import Framework
from citygrowth.errors import CityGrowthError, fill
from citygrowth.index.aggregate import node_config, sensitive
from citygrowth.index.dense import IBIS_AGGREGATE, IBIS_NORMALISE, fixed_weights
from citygrowth.index.normalise import direction_of, indicator_config
from citygrowth.index.spec import IndexSpec
from citygrowth.index.steps import _setting_error
from citygrowth.observatory.rollup import area_populations
from citygrowth.observatory.store import ObservationStore

IMPUTE = ("linear", "locf", "mean")  # the coin's imputation methods these expressions follow
WEIGHTS = ("fixed", "equal", "ahp")  # weights that do not depend on the data
RANK_DECIMALS = 9  # values are ranked as rounded to this many decimals (both paths)


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
    Missing values (null or NaN) are left out."""
    return aggregate_expr(normalised_expr(t, spec), spec, weights)


def normalised_expr(t: ir.Table, spec: IndexSpec) -> ir.Table:
    """``unit, period, code, value``: the spec's indicators normalised."""
    nsettings = spec.step("normalise") or {"method": "minmax"}
    params = memtable(normalise_params(spec, nsettings))
    t = t.filter(t.indicator.isin(spec.indicators) & t.value.notnull() & ~t.value.isnan())
    return normalise_expr(t, params).rename(code="indicator")


def aggregate_expr(norm: ir.Table, spec: IndexSpec, weights: Mapping[str, float]
                   ) -> ir.Table:
    """Normalised indicators (``unit, period, code, value``) and every aggregate above them.
    Each level reads only the outputs that hold its children, so plans stay a chain (Spark
    plans stay small)."""
    asettings = spec.step("aggregate") or {"method": "arithmetic"}
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


# --- the server's computation ---------------------------------------------------------------

def unsupported(spec: IndexSpec) -> str | None:
    """Why the expressions cannot compute ``spec`` as the coin would (a sentence for the log),
    or None when they can: denominators, screening, outlier treatment, imputation other than
    linear/locf/mean, data-driven weights, normalisation or aggregation methods outside
    :data:`~citygrowth.index.dense.IBIS_NORMALISE` / ``IBIS_AGGREGATE`` and zero rules other
    than ``propagate`` need the coin."""
    if any(n.denominator for n in spec.nodes.values()) or spec.step("denominate"):
        return "denominators"
    for step, what in (("screen", "screening"), ("treat", "outlier treatment")):
        if spec.step(step):
            return what
    impute = spec.step("impute")
    if impute:
        methods = impute.get("method", "mean")
        methods = [methods] if isinstance(methods, str) else list(methods)
        odd = [m for m in methods if m not in IMPUTE]
        if odd:
            return f"imputation {odd[0]}"
    wcfg = spec.step("weights") or {"method": "fixed"}
    methods = {str(wcfg.get("method", "fixed"))} | {
        str(v.get("method", wcfg.get("method", "fixed")))
        for v in (wcfg.get("nodes") or {}).values() if isinstance(v, Mapping)}
    if not methods <= set(WEIGHTS):
        return f"weights {sorted(methods - set(WEIGHTS))[0]}"
    try:
        normalise_params(spec, spec.step("normalise") or {"method": "minmax"})
        weights = fixed_weights(spec)
        aset = spec.step("aggregate") or {"method": "arithmetic"}
        for level in spec.levels():
            edges(spec, weights, aset, level)
    except CityGrowthError as exc:
        problems = getattr(exc, "problems", None) or []
        return fill(problems[0].message, problems[0].params) if problems else exc.message
    return None


def level_panel(store: ObservationStore, fw: Framework, codes: list[str],
                level: str, populations: pd.DataFrame | None = None) -> ir.Table:
    """``unit, period, indicator, value``: each of ``codes`` rolled up from its finest level
    to ``level`` by its own rule (as :meth:`ObservationStore.rollup`, one pass per rule
    rather than one query per indicator) and made annual (as
    :func:`citygrowth.index.service.annualise`). ``populations`` (``pop_code,
    population``) weighs population-weighted means; read from the store when not given."""
    t = store.table()
    inds = {c: fw.indicator(c) for c in codes}
    width = CODE_LENGTH[level]

    def source(wanted: list[str], at: Mapping[str, str]) -> ir.Table:
        """Rows of ``wanted`` at each one's source level (``at[code]``)."""
        by_level: dict[str, list[str]] = {}
        for code in wanted:
            by_level.setdefault(at[code], []).append(code)
        cond = None
        for lv, group in sorted(by_level.items()):
            c = t.indicator.isin(group) & (t.area_code.length() == CODE_LENGTH[lv])
            cond = c if cond is None else cond | c
        assert cond is not None
        s = t.filter(cond)
        return s.mutate(parent=s.area_code.substr(0, width))

    parts: list[ir.Table] = []
    plain = [c for c, i in inds.items() if i.rollup.rule in ("sum", "mean")]
    if plain:
        s = source(plain, {c: inds[c].finest_level for c in plain})
        summed = [c for c in plain if inds[c].rollup.rule == "sum"]
        g = s.group_by([s.indicator, s.parent, s.period]).aggregate(
            total=s.value.sum(), mean=s.value.mean())
        parts.append(g.select(indicator=g.indicator, unit=g.parent, period=g.period,
                              value=ibis.ifelse(g.indicator.isin(summed or [""]), g.total,
                                                g.mean)))
    weighted = [c for c, i in inds.items() if i.rollup.rule == "population_weighted_mean"]
    if weighted:
        s = source(weighted, {c: inds[c].finest_level for c in weighted})
        pops = memtable(area_populations(store) if populations is None else populations)
        j = s.join(pops, s.area_code == pops.pop_code).filter(lambda r: r.population > 0)
        g = j.group_by([j.indicator, j.parent, j.period]).aggregate(
            wv=(j.value * j.population).sum(), w=j.population.sum())
        parts.append(g.select(indicator=g.indicator, unit=g.parent, period=g.period,
                              value=g.wv / g.w))
    for code, ind in inds.items():
        if ind.rollup.rule != "ratio_of_sums":
            continue
        num, den = ind.rollup.numerator or "", ind.rollup.denominator or ""
        s = source([num, den], {num: ind.finest_level, den: ind.finest_level})
        g = s.group_by([s.parent, s.period]).aggregate(
            n=s.value.sum(where=s.indicator == num), d=s.value.sum(where=s.indicator == den),
            has_n=(s.indicator == num).any())
        g = g.filter(g.has_n & g.d.notnull() & (g.d != 0))
        parts.append(g.select(indicator=ibis.literal(code), unit=g.parent, period=g.period,
                              value=(g.n / g.d * float(ind.rollup.scale)).cast("float64")))
    if not parts:
        return memtable(pd.DataFrame({"unit": pd.Series([], dtype="string"),
                                      "period": pd.Series([], dtype="string"),
                                      "indicator": pd.Series([], dtype="string"),
                                      "value": pd.Series([], dtype="float64")}))
    rolled = parts[0] if len(parts) == 1 else ibis.union(*parts)
    rules = {c: i.rollup.rule for c, i in inds.items()}
    return annualise_expr(rolled, [c for c, r in rules.items() if r == "sum"])


def annualise_expr(t: ir.Table, summed: list[str]) -> ir.Table:
    """Annual values: a year's sum for the indicators in ``summed`` (pro rata, ×12/months
    or ×4/quarters present, for a year in progress), else the year's mean."""
    per_year = ibis.cases((t.period.contains("Q"), 4), (t.period.length() == 7, 12),
                          else_=1)
    t = t.mutate(year=t.period.substr(0, 4), per_year=per_year)
    g = t.group_by([t.indicator, t.unit, t.year]).aggregate(
        total=t.value.sum(), mean=t.value.mean(), present=t.count(), per_year=t.per_year.max())
    scale = ibis.greatest(g.per_year.cast("float64") / g.present.cast("float64"), 1.0)
    value = ibis.ifelse(g.indicator.isin(summed or [""]), g.total * scale, g.mean)
    return g.select(unit=g.unit, period=g.year, indicator=g.indicator,
                    value=value.cast("float64"))


def impute_expr(t: ir.Table, methods: str | list[str]) -> ir.Table:
    """The coin's ``impute`` over a long panel (``unit, period, indicator, value``): every
    unit-period of the panel × every indicator, gaps filled by each method in order —
    ``linear`` (between a unit's observations, by position among its periods, as pandas'
    ``interpolate(limit_area="inside")``), ``locf`` (the last value carried forward),
    ``mean`` (the period's mean). Rows still missing are left out."""
    methods = [methods] if isinstance(methods, str) else list(methods)
    t = t.filter(t.value.notnull() & ~t.value.isnan())
    cells = t.select("unit", "period").distinct()
    cells = cells.mutate(pos=ibis.row_number().over(group_by=cells.unit,
                                                    order_by=cells.period).cast("float64"))
    inds = t.select(ind=t.indicator).distinct()
    grid = cells.cross_join(inds)
    obs = t.rename(o_unit="unit", o_period="period", o_ind="indicator")
    g = grid.left_join(obs, [grid.unit == obs.o_unit, grid.period == obs.o_period,
                             grid.ind == obs.o_ind])
    g = g.select(unit=g.unit, period=g.period, indicator=g.ind, pos=g.pos, value=g.value)
    for run in _passes(methods):
        if run == ["mean"]:
            g = g.mutate(value=g.value.coalesce(
                g.value.mean().over(group_by=[g.indicator, g.period])))
        else:
            g = _carry(g, run)
    return g.filter(g.value.notnull()).select("unit", "period", "indicator", "value")


def _passes(methods: list[str]) -> list[list[str]]:
    """Methods grouped into passes: consecutive ``linear`` and ``locf`` fill from the same
    observations (interpolation only fills between two, carrying forward only after one, so
    either order gives the first applicable fill), ``mean`` alone."""
    out: list[list[str]] = []
    for m in methods:
        if m != "mean" and out and out[-1] != ["mean"]:
            out[-1].append(m)
        else:
            out.append([m])
    return out


def _carry(g: ir.Table, methods: list[str]) -> ir.Table:
    """Fill gaps from each unit's and indicator's previous and next observation: ``linear``
    (numpy.interp's formula: slope × (x − x₀) + y₀, as pandas' ``interpolate``) and ``locf``,
    the first that applies in ``methods`` order. One window finds the neighbours' positions,
    two joins their values."""
    by = [g.unit, g.indicator]
    seen = ibis.ifelse(g.value.notnull(), g.pos, ibis.null("float64"))
    g = g.mutate(pp=seen.max().over(group_by=by, order_by=g.pos, rows=(None, 0)),
                 np_=seen.min().over(group_by=by, order_by=g.pos, rows=(0, None)))
    obs = g.filter(g.value.notnull())
    prev = obs.select(a_unit=obs.unit, a_ind=obs.indicator, a_pos=obs.pos, pv=obs.value)
    nxt = obs.select(b_unit=obs.unit, b_ind=obs.indicator, b_pos=obs.pos, nv=obs.value)
    g = g.left_join(prev, [g.unit == prev.a_unit, g.indicator == prev.a_ind,
                           g.pp == prev.a_pos])
    g = g.left_join(nxt, [g.unit == nxt.b_unit, g.indicator == nxt.b_ind,
                          g.np_ == nxt.b_pos])
    fills = []
    for m in methods:
        if m == "locf":
            fills.append(g.pv)
        else:
            span = ibis.ifelse(g.np_ > g.pp, g.np_ - g.pp, ibis.null("float64"))
            fills.append((g.nv - g.pv) / span * (g.pos - g.pp) + g.pv)
    return g.select(unit=g.unit, period=g.period, indicator=g.indicator, pos=g.pos,
                    value=g.value.coalesce(*fills))


def rank_expr(t: ir.Table) -> ir.Table:
    """``unit, period, code, value, rank``: rank 1 = highest value per period and code, ties
    at their lowest rank (values compared as rounded to :data:`RANK_DECIMALS`)."""
    t = t.filter(t.value.notnull() & ~t.value.isnan())
    key = t.value.round(RANK_DECIMALS)
    return t.mutate(rank=(ibis.rank().over(group_by=[t.period, t.code],
                                           order_by=ibis.desc(key)) + 1).cast("int64"))


def prepared_expr(panel: ir.Table, spec: IndexSpec) -> ir.Table:
    """The first half of a run: ``panel`` (long, annual, as :func:`level_panel` gives)
    imputed and normalised — ``unit, period, code, value``. Executed on its own, so the
    window functions run once before every level of aggregation reads the result."""
    impute = spec.step("impute")
    if impute:
        panel = impute_expr(panel, impute.get("method", "mean"))
    return normalised_expr(panel, spec)


def finished_expr(normalised: ir.Table, spec: IndexSpec) -> ir.Table:
    """The second half: every aggregate above the normalised indicators, ranked."""
    return rank_expr(aggregate_expr(normalised, spec, fixed_weights(spec)))
