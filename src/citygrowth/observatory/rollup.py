"""Roll-ups up the area tree, written as Ibis expressions so they run on DuckDB and Spark.

Area codes nest by prefix (``370203`` > ``370203001`` > …), so the ancestor of an area at a
level is the first ``CODE_LENGTH[level]`` characters of its code: no join with the area tree is
needed except for population weights. An indicator's values at its finest level (or
``from_level``) are aggregated per ancestor and period by its rule:

* ``sum`` — the sum of the children;
* ``mean`` — the plain mean of the children that reported;
* ``population_weighted_mean`` — Σ(value × population) / Σ population over children with a
  known population (``areas.population``);
* ``ratio_of_sums`` — Σ numerator / Σ denominator × scale, from the two named indicators.

The result has columns ``indicator, area_code, period, freq, value, unit, children``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from sqlalchemy import select

from citygrowth.areas.models import CODE_LENGTH, LEVELS, Area
from citygrowth.catalog.framework import Framework, Indicator
from citygrowth.db import make_engine
from citygrowth.errors import ValidationFailed
from citygrowth.periods import Period

if TYPE_CHECKING:
    from citygrowth.observatory.store import ObservationStore


def rollup_expr(store: ObservationStore, code: str, to_level: str, *,
                from_level: str | None = None, start: str | Period | None = None,
                end: str | Period | None = None, as_of: Any = None,
                framework: Framework) -> ir.Table:
    fw = framework
    ind = fw.indicator(code)
    src_level = from_level or ind.finest_level
    for lv in (to_level, src_level):
        if lv not in LEVELS:
            raise ValidationFailed("Unknown area level '{level}'.", code="bad_level", level=lv)
    if LEVELS.index(to_level) > LEVELS.index(src_level):
        raise ValidationFailed(
            "Cannot roll {indicator} down from {source} to the finer level {target}.",
            code="bad_rollup", source=src_level, target=to_level, indicator=code,
        )
    if ind.rollup.rule == "ratio_of_sums":
        return _ratio(store, ind, to_level, src_level, start, end, as_of)
    t = _source(store, code, src_level, to_level, start, end, as_of)
    if ind.rollup.rule == "population_weighted_mean":
        return _weighted(store, ind, t)
    agg = t.value.sum() if ind.rollup.rule == "sum" else t.value.mean()
    out = t.group_by(["parent", "period", "freq"]).aggregate(value=agg, children=t.count())
    return _finish(out, ind)


def _source(store: ObservationStore, code: str, src_level: str, to_level: str,
            start: Any, end: Any, as_of: Any) -> ir.Table:
    t = store.filtered([code], None, start, end, as_of, src_level)
    return t.mutate(parent=t.area_code.substr(0, CODE_LENGTH[to_level]))


def _finish(t: ir.Table, ind: Indicator) -> ir.Table:
    return t.select(
        indicator=ibis.literal(ind.code), area_code=t.parent, period=t.period, freq=t.freq,
        value=t.value.cast("float64"), unit=ibis.literal(ind.unit),
        children=t.children.cast("int64"),
    )


def _weighted(store: ObservationStore, ind: Indicator, t: ir.Table) -> ir.Table:
    pops = ibis.memtable(area_populations(store))
    j = t.join(pops, t.area_code == pops.pop_code)
    j = j.filter(j.population > 0)
    out = j.group_by(["parent", "period", "freq"]).aggregate(
        weighted=(j.value * j.population).sum(), weight=j.population.sum(), children=j.count())
    out = out.mutate(value=out.weighted / out.weight)
    return _finish(out, ind)


def _ratio(store: ObservationStore, ind: Indicator, to_level: str, src_level: str,
           start: Any, end: Any, as_of: Any) -> ir.Table:
    num_code, den_code = ind.rollup.numerator or "", ind.rollup.denominator or ""
    num = _source(store, num_code, src_level, to_level, start, end, as_of)
    den = _source(store, den_code, src_level, to_level, start, end, as_of)
    n = num.group_by(["parent", "period", "freq"]).aggregate(num=num.value.sum(),
                                                             children=num.count())
    d = den.group_by(["parent", "period", "freq"]).aggregate(den=den.value.sum()).rename(
        d_parent="parent", d_period="period", d_freq="freq")
    j = n.join(d, [n.parent == d.d_parent, n.period == d.d_period])
    j = j.filter(j.den != 0)
    j = j.mutate(value=j.num / j.den * ind.rollup.scale)
    return _finish(j, ind)


def area_populations(store: ObservationStore) -> pd.DataFrame:
    """Population of every area from the operational store (``areas.population``)."""
    engine = make_engine(store.settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Area.code, Area.population)).all()
    finally:
        engine.dispose()
    return pd.DataFrame(
        {"pop_code": [r[0] for r in rows],
         "population": [float(r[1]) if r[1] is not None else 0.0 for r in rows]}
    )
