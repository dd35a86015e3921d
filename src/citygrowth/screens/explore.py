"""The indicator explorer's numbers: a series by area, and a map of one period.

Each function returns plain data (the JSON twin of a chart) including the chart's ECharts
option, the indicator's unit, source department, citation, data vintage and freshness, so that
every chart can say where its numbers come from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.orm import Session

from citygrowth.areas.tree import AreaTree
from citygrowth.catalog.framework import Framework, Indicator
from citygrowth.errors import NotFound, ValidationFailed
from citygrowth.i18n import _, bilingual
from citygrowth.observatory.store import ObservationStore
from citygrowth.screens import charts

if TYPE_CHECKING:
    from citygrowth.screens.summary import ScreenSources

MAX_AREAS = 12


def indicator_meta(fw: Framework, ind: Indicator) -> dict[str, Any]:
    dept = fw.department(ind.department)
    return {
        "code": ind.code,
        "name": bilingual(ind.name_zh, ind.name_en),
        "unit": ind.unit,
        "direction": ind.direction,
        "frequency": ind.frequency,
        "finest_level": ind.finest_level,
        "department": bilingual(dept.name_zh, dept.name_en) if dept else ind.department,
        "source": ind.source,
        "citation": ind.citation,
        "target": ind.target,
    }


def area_name(tree: AreaTree, code: str) -> str:
    return bilingual(tree.name_zh.get(code), tree.name_en.get(code)) or code


def _vintage(df: pd.DataFrame, tz: ZoneInfo) -> str | None:
    """When the newest of the rows arrived, local time."""
    if df.empty or df["vintage"].isna().all():
        return None
    last = pd.Timestamp(df["vintage"].max()).tz_convert(tz)
    return str(last.strftime("%Y-%m-%d %H:%M"))


def series(
    store: ObservationStore, fw: Framework, tree: AreaTree, indicator: str,
    area_codes: list[str], *, tz: ZoneInfo, start: str | None = None, end: str | None = None,
) -> dict[str, Any]:
    """One indicator over time for up to ``MAX_AREAS`` areas, aligned on common periods."""
    ind = fw.indicator(indicator)
    if not area_codes:
        raise ValidationFailed("Choose at least one area.", code="no_area")
    if len(area_codes) > MAX_AREAS:
        raise ValidationFailed("Compare at most {n} areas at a time.", code="too_many_areas",
                               n=MAX_AREAS)
    unknown = [c for c in area_codes if c not in tree]
    if unknown:
        raise NotFound("No area with code {area}.", area=unknown[0])
    df = store.query(indicators=[indicator], area_codes=area_codes, start=start, end=end)
    periods = sorted(df["period"].unique().tolist())
    out_series = []
    for code in area_codes:
        sub = df[df["area_code"] == code].set_index("period")["value"]
        values = [None if p not in sub.index or pd.isna(sub[p]) else float(sub[p])
                  for p in periods]
        out_series.append({"area_code": code, "name": area_name(tree, code), "values": values})
    meta = indicator_meta(fw, ind)
    option = charts.trend(periods, [{"name": s["name"], "values": s["values"]}
                                    for s in out_series], unit=ind.unit)
    return {"indicator": meta, "periods": periods, "series": out_series,
            "vintage": _vintage(df, tz), "rows": len(df), "option": option}


def map_values(
    store: ObservationStore, fw: Framework, tree: AreaTree, indicator: str, level: str,
    parent: str, *, tz: ZoneInfo, period: str | None = None, theme: charts.Theme = "light",
) -> dict[str, Any]:
    """One period of an indicator for every area at ``level`` under ``parent``."""
    ind = fw.indicator(indicator)
    if parent not in tree:
        raise NotFound("No area with code {area}.", area=parent)
    codes = tree.descendants(parent, level)
    cur = store.one_period([indicator], codes or [parent], level, period)
    if period is None and not cur.empty:
        period = str(cur["period"].iloc[0])
    by_code = dict(zip(cur["area_code"], cur["value"], strict=True))
    items = [{"code": c, "name": area_name(tree, c),
              "value": None if pd.isna(by_code.get(c)) else float(by_code[c])}
             if c in by_code else {"code": c, "name": area_name(tree, c), "value": None}
             for c in codes]
    meta = indicator_meta(fw, ind)
    option = charts.choropleth(f"{level}-{parent}", items, unit=ind.unit, theme=theme)
    return {"indicator": meta, "level": level, "parent": parent, "period": period,
            "items": items, "vintage": _vintage(cur, tz), "option": option,
            "missing": [i["code"] for i in items if i["value"] is None]}


def series_table(data: dict[str, Any]) -> pd.DataFrame:
    """The numbers behind a series chart as a long table (for CSV/XLSX downloads)."""
    rows = []
    for s in data["series"]:
        for p, v in zip(data["periods"], s["values"], strict=True):
            rows.append({"indicator": data["indicator"]["code"], "area_code": s["area_code"],
                         "area": s["name"], "period": p, "value": v,
                         "unit": data["indicator"]["unit"]})
    return pd.DataFrame(rows, columns=["indicator", "area_code", "area", "period", "value",
                                       "unit"])


def map_table(data: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"indicator": data["indicator"]["code"], "area_code": i["code"], "area": i["name"],
          "period": data["period"], "value": i["value"], "unit": data["indicator"]["unit"]}
         for i in data["items"]],
        columns=["indicator", "area_code", "area", "period", "value", "unit"],
    )


def no_data_message() -> str:
    return _("No data yet")


def freshness_of(session: Session, src: ScreenSources, indicator: str) -> dict[str, Any]:
    """The indicator's latest period, when the next is due and whether it is late."""
    for row in src.store.freshness(session, src.framework, src.runtime.today()):
        if row["indicator"] == indicator:
            return {k: row[k] for k in ("last_period", "last_load_at", "expected_next",
                                        "stale")}
    return {"last_period": None, "last_load_at": None, "expected_next": None, "stale": True}
