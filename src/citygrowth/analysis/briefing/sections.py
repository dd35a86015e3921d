"""The remaining briefing sections (targets, case handling, data gaps), the numbers of its
charts, and ``compose``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from citygrowth.analysis.briefing.compose import (
    C_ONLY,
    C_VALUE,
    CASE_PREFIX,
    G_NONE,
    G_STALE,
    LAG_DAYS,
    BriefingInputs,
    _bi,
    _index_value,
    _last_two,
    _obs_fig,
    areas,
    drivers,
    headline,
    index_periods,
    is_stale,
)
from citygrowth.analysis.briefing.model import Briefing, Figure, Source, period_words
from citygrowth.analysis.keyfigures import KeyFigure
from citygrowth.errors import ValidationFailed
from citygrowth.i18n import N_
from citygrowth.periods import Period

T_RISK = N_("Target \u201c{target}\u201d ({status}, {department}): {actual} done against "
            "{planned} planned by {date}; the probability of reaching {value} by {deadline} "
            "is {odds}.")
T_RISK_NO_ODDS = N_("Target \u201c{target}\u201d ({status}, {department}): {actual} done "
                    "against {planned} planned by {date}; deadline {deadline}.")
T_NONE = N_("No target is at risk.")
STATUS_NAMES = {"amber": N_("At risk"), "red": N_("Off track")}
CASE_CHART = ("GOV_CASE_ONTIME_RATE", "GOV_CASE_CLOSURE_RATE", "GOV_CASE_SATISFACTION")
CHART_MONTHS = 12
T_INDEX_UNIT = "分"


def _share(key: str, value: float | None, target: str) -> Figure:
    return Figure(key, round((value or 0.0) * 100, 1), "%", Source(
        "computed", detail={"target": target, "field": key.rsplit("_", 1)[-1]}))


def targets(b: Briefing, inp: BriefingInputs) -> None:
    risky = [t for t in inp.targets if t.status in ("amber", "red")]
    if not risky and inp.targets:
        b.say("targets", T_NONE)
    date = period_words(str(Period.of(Period.parse(inp.month).end, "D")))
    for t in sorted(risky, key=lambda t: (t.status != "red", t.odds)):
        kv = b.add(Figure(f"target_{t.code}_value", t.target_value, t.unit,
                          Source("computed", detail={"target": t.code, "field": "target_value"})))
        ka = b.add(_share(f"target_{t.code}_actual", t.actual, t.code))
        kp = b.add(_share(f"target_{t.code}_planned", t.planned, t.code))
        params: dict[str, Any] = {
            "target": _bi(t.name_zh, t.name_en), "status": t.label or STATUS_NAMES[t.status],
            "department": _bi(t.department_zh, t.department_en), "actual": ka, "planned": kp,
            "date": date, "value": kv, "deadline": period_words(t.deadline)}
        if t.detail.get("odds_available"):
            ko = b.add(Figure(f"target_{t.code}_odds", t.odds, "probability", Source(
                "computed", indicator=t.detail.get("indicator", ""), area_code=inp.area_code,
                detail={"target": t.code, "method": "target_odds", **t.detail})))
            b.say("targets", T_RISK, (ka, kp, kv, ko), odds=ko, translate_params=("status",),
                  **params)
        else:
            b.say("targets", T_RISK_NO_ODDS, (ka, kp), translate_params=("status",), **params)


def cases(b: Briefing, inp: BriefingInputs, month: Period) -> None:
    obs = inp.observations
    rows = obs[(obs["area_code"] == inp.area_code)
               & obs["indicator"].astype(str).str.startswith(CASE_PREFIX)]
    for code, g in sorted(rows.groupby("indicator"), key=lambda kv: str(kv[0])):
        info = inp.indicators.get(str(code))
        if info is None:
            continue
        now, prev = _last_two(g, month)
        if now is None:
            continue
        k1 = _obs_fig(b, f"case_{code}_now", now, info)
        name = _bi(info.name_zh, info.name_en)
        if prev is None:
            b.say("cases", C_ONLY, (k1,), indicator=name, now=k1,
                  period=period_words(now.period))
            continue
        k2 = _obs_fig(b, f"case_{code}_prev", prev, info)
        b.say("cases", C_VALUE, (k1, k2), indicator=name, now=k1,
              period=period_words(now.period), prev=k2, prev_period=period_words(prev.period))


def gaps(b: Briefing, inp: BriefingInputs, month: Period) -> None:
    obs = inp.observations[inp.observations["area_code"] == inp.area_code]
    found = False
    for code, g in sorted(obs.groupby("indicator"), key=lambda kv: str(kv[0])):
        info = inp.indicators.get(str(code))
        now, _prev = _last_two(g, month)
        if info is None or now is None:
            continue
        p = Period.parse(str(now.period))
        if not is_stale(str(p), month):
            continue
        due = p.next().end + dt.timedelta(days=LAG_DAYS.get(p.freq, 30))
        found = True
        k = _obs_fig(b, f"gap_{code}_last", now, info)
        b.say("gaps", G_STALE, (k,), indicator=_bi(info.name_zh, info.name_en),
              period=period_words(str(p)), now=k, due=period_words(due.isoformat()))
    if not found and not obs.empty:
        b.say("gaps", G_NONE)


def index_figure(b: Briefing, inp: BriefingInputs) -> KeyFigure | None:
    """The index as the first key figure (its latest complete period, against the one
    before)."""
    now, prev = b.figures.get("index_now"), b.figures.get("index_prev")
    if now is None:
        return None
    zh, en = inp.index_name
    return KeyFigure(
        code=inp.index_code, name_zh=zh, name_en=en, value=round(now.value, 1),
        unit=T_INDEX_UNIT, period=now.source.period, year_to_date=False,
        source_zh=f"{zh} {inp.framework}".strip(), source_en=f"{en} {inp.framework}".strip(),
        previous=None if prev is None else round(prev.value, 1),
        previous_period="" if prev is None else prev.source.period, year_on_year=False)


def compose(inp: BriefingInputs) -> Briefing:
    """The briefing for ``inp.area_code`` and ``inp.month`` built from the given numbers."""
    month = Period.parse(inp.month)
    if month.freq != "M":
        raise ValidationFailed("A briefing month looks like 2026-10.", code="bad_month")
    vintage = ""
    if "vintage" in inp.observations.columns and not inp.observations.empty:
        vintage = str(inp.observations["vintage"].max())
    b = Briefing(inp.area_code, inp.area_name_zh, inp.area_name_en, str(month), vintage,
                 framework=inp.framework, timezone=inp.timezone)
    headline(b, inp)
    drivers(b, inp)
    areas(b, inp)
    targets(b, inp)
    cases(b, inp, month)
    gaps(b, inp, month)
    first = index_figure(b, inp)
    b.key_figures = ([first] if first else []) + list(inp.key_figures)
    b.catalog = catalog(b, inp)
    b.charts = chart_data(inp, month)
    return b


def catalog(b: Briefing, inp: BriefingInputs) -> dict[str, dict[str, str]]:
    """Names and departments of the indicators the briefing cites (for its sources)."""
    codes = {f.source.indicator for f in b.figures.values() if f.source.indicator}
    codes |= {k.code for k in b.key_figures}
    out = {}
    for code in sorted(codes):
        info = inp.indicators.get(code)
        dept = inp.departments.get(code, ("", ""))
        if info is not None:
            out[code] = {"name_zh": info.name_zh, "name_en": info.name_en,
                         "dept_zh": dept[0], "dept_en": dept[1]}
    for code, (zh, en) in {inp.index_code: inp.index_name, **inp.pillars}.items():
        out[code] = {"name_zh": zh, "name_en": en, "dept_zh": "", "dept_en": ""}
    return out


def chart_data(inp: BriefingInputs, month: Period) -> dict[str, dict[str, Any]]:
    """Numbers for the briefing's charts, for the same periods as its text: the index trend
    and the five pillars (complete years), the child areas' ranking, the targets at risk and
    case handling over the last 12 months."""
    out: dict[str, dict[str, Any]] = {}
    last, before = index_periods(inp)
    if inp.index is not None and last is not None:
        out |= _index_charts(inp, last, before)
    risky = sorted([t for t in inp.targets if t.status in ("amber", "red")],
                   key=lambda t: (t.status != "red", (t.actual or 0) - (t.planned or 0)))
    if risky:
        out["targets"] = {
            "labels": [_bi(t.name_zh, t.name_en) for t in risky],
            "actual": [round((t.actual or 0) * 100, 1) for t in risky],
            "planned": [round((t.planned or 0) * 100, 1) for t in risky],
            "status": [t.status for t in risky], "date": str(month.end)}
    cases_chart = _case_chart(inp, month)
    if cases_chart:
        out["cases"] = cases_chart
    return out


def _index_charts(inp: BriefingInputs, last: str, before: str | None) -> dict[str, Any]:
    assert inp.index is not None
    out: dict[str, Any] = {}
    rows = inp.index[inp.index["unit"] == inp.area_code]
    periods = sorted({p for p in rows["period"].astype(str)
                      if Period.parse(p).start <= Period.parse(last).start},
                     key=lambda p: Period.parse(p).start)[-12:]
    codes = {inp.index_code: inp.index_name, **inp.pillars}
    series = []
    for code, (zh, en) in codes.items():
        vals = [_index_value(inp, inp.area_code, code, p) for p in periods]
        series.append({"name": _bi(zh, en), "values": [
            None if v is None else round(float(v["value"]), 2) for v in vals]})
    if len(periods) >= 2:
        out["trend"] = {"periods": periods, "series": series}
    radar = []
    for p in [x for x in (before, last) if x]:
        vals = [_index_value(inp, inp.area_code, c, p) for c in inp.pillars]
        if all(v is not None for v in vals):
            radar.append({"period": p, "values": [round(float(v["value"]), 2) for v in vals]})
    if radar and inp.pillars:
        out["radar"] = {"labels": [_bi(zh, en) for zh, en in inp.pillars.values()],
                        "series": radar}
    ranked = []
    for code, (zh, en) in inp.children.items():
        now = _index_value(inp, code, inp.index_code, last)
        if now is not None:
            ranked.append((float(now["value"]), _bi(zh, en)))
    if len(ranked) >= 2:
        ranked.sort(key=lambda r: -r[0])
        out["ranking"] = {"period": last, "labels": [r[1] for r in ranked],
                          "values": [round(r[0], 2) for r in ranked]}
    return out


def _case_chart(inp: BriefingInputs, month: Period) -> dict[str, Any] | None:
    obs = inp.observations
    months = [str(month.shift(-i)) for i in range(CHART_MONTHS - 1, -1, -1)]
    rows = obs[(obs["area_code"] == inp.area_code) & obs["indicator"].isin(CASE_CHART)
               & obs["period"].isin(months)]
    if rows.empty:
        return None
    series = []
    for code in CASE_CHART:
        info = inp.indicators.get(code)
        sub = rows[rows["indicator"] == code]
        if info is None or sub.empty:
            continue
        by = dict(zip(sub["period"].astype(str), sub["value"], strict=True))
        series.append({"code": code, "name": _bi(info.name_zh, info.name_en),
                       "values": [None if pd.isna(by.get(m)) else float(by[m])
                                  if m in by else None for m in months],
                       "target": inp.indicator_targets.get(code)})
    return {"periods": months, "series": series} if series else None
