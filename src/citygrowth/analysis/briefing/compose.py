"""Compose a monthly briefing from numbers: every sentence is made from figures it cites.

``compose(inputs)`` (in ``sections``) is pure: it reads the frames in :class:`BriefingInputs`
and returns a :class:`Briefing`.

**Periods.** A briefing for month M is written as of the day after M, and every part of it
uses the latest period that was complete by then: the index is annual, so its headline is
the latest complete year (2025 for the months of 2026 up to November) against the year
before, and the drivers and the areas compare the same two years; case handling compares M
with the month before; each key figure takes its own latest complete period and says which.

**Drivers.** The index engine's contributions to the headline change when given
(``inputs.contributions``), else each indicator's change between the two years divided by its
typical (median absolute) yearly change, signed by its direction — and the briefing says which
of the two it used. Values are the indicators' yearly values as the index uses them
(``inputs.annual``: sums of flows, means of rates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from citygrowth.analysis.briefing.model import Briefing, Figure, Source, period_words
from citygrowth.analysis.keyfigures import KeyFigure
from citygrowth.analysis.meta import IndicatorInfo
from citygrowth.i18n import N_
from citygrowth.periods import Period, latest_complete

LAG_DAYS: dict[str, int] = {"A": 90, "Q": 45, "M": 20}
CASE_PREFIX = "GOV_CASE_"

H_ROSE = N_("The City Growth Index of {area} rose to {now} in {period}, up {delta} points from "
            "{prev} in {prev_period}.")
H_FELL = N_("The City Growth Index of {area} fell to {now} in {period}, down {delta} points from "
            "{prev} in {prev_period}.")
H_FLAT = N_("The City Growth Index of {area} held at {now} in {period} ({prev} in "
            "{prev_period}).")
H_NONE = N_("No City Growth Index result is available for {area} up to {month}.")
P_MOVE = N_("{pillar}: {now} in {period}, {delta} points from {prev}.")
D_UP = N_("{indicator} went from {prev} in {prev_period} to {now} in {period}, pushing the "
          "index up.")
D_DOWN = N_("{indicator} went from {prev} in {prev_period} to {now} in {period}, pulling the "
            "index down.")
D_UP_POINTS = N_("{indicator} went from {prev} in {prev_period} to {now} in {period}, adding "
                 "{points} points to the index.")
D_DOWN_POINTS = N_("{indicator} went from {prev} in {prev_period} to {now} in {period}, taking "
                   "{points} points off the index.")
D_METHOD_EXPLAIN = N_("Drivers are ranked by the index engine's contributions.")
D_METHOD_NORMALISED = N_("Drivers are ranked by normalised changes computed for this briefing "
                         "(each change divided by the indicator's typical change), not by "
                         "the index engine's contributions.")
A_ROSE = N_("{child} rose the most: {now}, up {delta} points from {prev}.")
A_FELL = N_("{child} fell the most: {now}, down {delta} points from {prev}.")
C_VALUE = N_("{indicator}: {now} in {period} ({prev} in {prev_period}).")
C_ONLY = N_("{indicator}: {now} in {period}.")
G_STALE = N_("{indicator} has no data after {period} (last value {now}); an update was due by "
             "{due}.")
G_NONE = N_("Every indicator of this area is up to date.")


@dataclass
class TargetOdds:
    """A target as the briefing reports it: status, label, shares done and planned and the
    probability of attainment all come from ``accountability.status.target_status``."""

    code: str
    name_zh: str
    name_en: str
    target_value: float
    unit: str
    deadline: str
    odds: float
    status: str
    detail: dict[str, Any] = field(default_factory=dict)
    actual: float | None = None  # share of the target done (0–1) ...
    planned: float | None = None  # ... and planned by the briefing's date
    department_zh: str = ""
    department_en: str = ""
    label: str = ""  # the status's msgid (At risk, Off track …); empty: from ``status``


@dataclass
class BriefingInputs:
    area_code: str
    area_name_zh: str
    area_name_en: str
    month: str
    observations: pd.DataFrame
    indicators: Mapping[str, IndicatorInfo]
    index: pd.DataFrame | None = None
    index_code: str = "CGI"
    index_vintage: str = "latest"
    pillars: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    children: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    targets: list[TargetOdds] = field(default_factory=list)
    contributions: pd.DataFrame | None = None
    max_drivers: int = 3
    # yearly values of the area's index indicators (indicator, period, value), as the index
    # uses them; empty: the observations' annual rows
    annual: pd.DataFrame | None = None
    index_indicators: frozenset[str] = frozenset()  # empty: every indicator of ``indicators``
    key_figures: list[KeyFigure] = field(default_factory=list)
    indicator_targets: Mapping[str, float] = field(default_factory=dict)
    # indicator code -> (department zh, department en), for the list of sources
    departments: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    index_name: tuple[str, str] = ("城市生长力指数", "City Growth Index")
    framework: str = ""
    timezone: str = "UTC"

    @property
    def as_of(self) -> dt.date:
        """The day after the month: periods over before it are complete."""
        return Period.parse(self.month).next().start


def _bi(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh or en, "en": en or zh}


def _until(period: str, month: Period) -> bool:
    return Period.parse(period).end <= month.end


def _obs_fig(b: Briefing, key: str, row: Any, info: IndicatorInfo) -> str:
    vintage = str(getattr(row, "vintage", "") or "")
    return b.add(Figure(key, float(row.value), info.unit, Source(
        "observation", str(row.indicator), str(row.area_code), str(row.period), vintage)))


def is_stale(period: str, month: Period) -> bool:
    """True when a newer period than ``period`` should have been loaded by the month's end."""
    p = Period.parse(period)
    due = p.next().end + dt.timedelta(days=LAG_DAYS.get(p.freq, 30))
    return due < month.end


def _last_two(frame: pd.DataFrame, month: Period) -> tuple[Any, Any]:
    """The latest row up to the month and the row before it (same series)."""
    rows = frame[frame["period"].map(lambda p: _until(p, month))]
    rows = rows.assign(_s=rows["period"].map(lambda p: Period.parse(p).start)).sort_values("_s")
    if rows.empty:
        return None, None
    last = rows.iloc[-1]
    return last, (rows.iloc[-2] if len(rows) > 1 else None)


def index_periods(inp: BriefingInputs) -> tuple[str | None, str | None]:
    """The index's latest complete period by the briefing's date and the one before it (the
    same two for the headline, the pillars, the drivers and the areas)."""
    if inp.index is None or inp.index.empty:
        return None, None
    rows = inp.index[(inp.index["unit"] == inp.area_code)
                     & (inp.index["code"] == inp.index_code)]
    last = latest_complete(rows["period"].astype(str).unique(), inp.as_of)
    if last is None:
        return None, None
    before = str(last.prev())
    return str(last), (before if before in set(rows["period"].astype(str)) else None)


def _index_value(inp: BriefingInputs, unit: str, code: str, period: str | None) -> Any:
    if inp.index is None or period is None:
        return None
    rows = inp.index[(inp.index["unit"] == unit) & (inp.index["code"] == code)
                     & (inp.index["period"] == period)]
    return None if rows.empty or pd.isna(rows["value"].iloc[0]) else rows.iloc[0]


def _index_fig(b: Briefing, inp: BriefingInputs, key: str, row: Any, code: str) -> str:
    return b.add(Figure(key, float(row["value"]), "", Source(
        "index", code, str(row["unit"]), str(row["period"]), inp.index_vintage)))


def headline(b: Briefing, inp: BriefingInputs) -> None:
    area = _bi(inp.area_name_zh, inp.area_name_en)
    last, before = index_periods(inp)
    now = _index_value(inp, inp.area_code, inp.index_code, last)
    if now is None:
        b.say("headline", H_NONE, area=area, month=period_words(inp.month))
        return
    b.index_period = str(last)
    kn = _index_fig(b, inp, "index_now", now, inp.index_code)
    prev = _index_value(inp, inp.area_code, inp.index_code, before)
    if prev is None:
        b.say("headline", C_ONLY, (kn,), indicator=area, now=kn,
              period=period_words(now["period"]))
        return
    kp = _index_fig(b, inp, "index_prev", prev, inp.index_code)
    delta = float(now["value"]) - float(prev["value"])
    kd = b.add(Figure("index_delta", abs(delta), "", Source(
        "computed", detail={"formula": "abs(index_now - index_prev)"})))
    msg = H_ROSE if delta > 0 else H_FELL if delta < 0 else H_FLAT
    b.say("headline", msg, (kn, kp, kd), area=area, now=kn, prev=kp, delta=kd,
          period=period_words(now["period"]), prev_period=period_words(prev["period"]))
    for code, (zh, en) in inp.pillars.items():
        pn = _index_value(inp, inp.area_code, code, last)
        pp = _index_value(inp, inp.area_code, code, before)
        if pn is None or pp is None:
            continue
        k1 = _index_fig(b, inp, f"pillar_{code}_now", pn, code)
        k2 = _index_fig(b, inp, f"pillar_{code}_prev", pp, code)
        kd = b.add(Figure(f"pillar_{code}_delta", float(pn["value"]) - float(pp["value"]), "",
                          Source("computed", detail={"formula": f"{k1} - {k2}"})))
        b.say("headline", P_MOVE, (k1, k2, kd), pillar=_bi(zh, en), now=k1, prev=k2, delta=kd,
              period=period_words(pn["period"]))


def yearly_values(inp: BriefingInputs) -> pd.DataFrame:
    """indicator, period, value (, vintage) of the area's yearly values."""
    if inp.annual is not None:
        return inp.annual
    obs = inp.observations
    obs = obs[(obs["area_code"] == inp.area_code)
              & obs["period"].map(lambda p: Period.parse(p).freq == "A")]
    return obs


def _scores(inp: BriefingInputs, years: pd.DataFrame, last: str, before: str
            ) -> list[tuple[float, str, float, float]]:
    """(score, indicator, value before, value last) of every indicator with both years."""
    wanted = inp.index_indicators or frozenset(inp.indicators)
    contrib = None
    if inp.contributions is not None and not inp.contributions.empty:
        contrib = dict(zip(inp.contributions["indicator"].astype(str),
                           inp.contributions["contribution"], strict=True))
    out = []
    for code, g in years.groupby("indicator"):
        info = inp.indicators.get(str(code))
        if info is None or str(code) not in wanted:
            continue
        by = {str(p): float(v) for p, v in zip(g["period"], g["value"], strict=True)
              if pd.notna(v)}
        if last not in by or before not in by:
            continue
        if contrib is not None:
            score = float(contrib.get(str(code), 0.0))
        else:
            hist = [by[p] for p in sorted(by) if p <= last]
            typical = float(np.median(np.abs(np.diff(hist)))) if len(hist) > 1 else 0.0
            if typical <= 0:
                continue
            score = info.direction * (by[last] - by[before]) / typical
        out.append((score, str(code), by[before], by[last]))
    return out


def drivers(b: Briefing, inp: BriefingInputs) -> None:
    last, before = index_periods(inp)
    explained = inp.contributions is not None and not inp.contributions.empty
    b.notes.append(D_METHOD_EXPLAIN if explained else D_METHOD_NORMALISED)
    if last is None or before is None:
        return
    years = yearly_values(inp)
    scored = _scores(inp, years, last, before)
    ups = sorted([x for x in scored if x[0] > 0], key=lambda x: -x[0])[: inp.max_drivers]
    downs = sorted([x for x in scored if x[0] < 0], key=lambda x: x[0])[: inp.max_drivers]
    for score, code, v0, v1 in ups + downs:
        info = inp.indicators[code]
        k0 = b.add(Figure(f"driver_{code}_prev", v0, info.unit, _year_source(inp, code, before)))
        k1 = b.add(Figure(f"driver_{code}_now", v1, info.unit, _year_source(inp, code, last)))
        params: dict[str, Any] = {"indicator": _bi(info.name_zh, info.name_en), "now": k1,
                                  "prev": k0, "period": period_words(last),
                                  "prev_period": period_words(before)}
        keys: tuple[str, ...] = (k0, k1)
        if explained:
            kc = b.add(Figure(f"driver_{code}_points", abs(score), "", Source(
                "computed", indicator=code, area_code=inp.area_code,
                detail={"method": "index contribution", "from": before, "to": last})))
            params["points"], keys = kc, (*keys, kc)
            msg = D_UP_POINTS if score > 0 else D_DOWN_POINTS
        else:
            msg = D_UP if score > 0 else D_DOWN
        b.say("drivers", msg, keys, **params)


def _year_source(inp: BriefingInputs, code: str, year: str) -> Source:
    years = yearly_values(inp)
    rows = years[(years["indicator"] == code) & (years["period"] == year)]
    vintage = str(rows["vintage"].max()) if "vintage" in rows.columns and len(rows) else ""
    return Source("annual", code, inp.area_code, year, vintage,
                  detail={"yearly": "as the index uses it (sum of flows, mean of rates)"})


def areas(b: Briefing, inp: BriefingInputs) -> None:
    last, before = index_periods(inp)
    moves = []
    for code, names in inp.children.items():
        now = _index_value(inp, code, inp.index_code, last)
        prev = _index_value(inp, code, inp.index_code, before)
        if now is not None and prev is not None:
            moves.append((float(now["value"]) - float(prev["value"]), code, names, now, prev))
    if len(moves) < 2:
        return
    moves.sort(key=lambda m: m[0])
    picks = [(moves[-1], A_ROSE)] if moves[-1][0] > 0 else []
    picks += [(moves[0], A_FELL)] if moves[0][0] < 0 else []
    for (delta, code, (zh, en), now, prev), msg in picks:
        k1 = _index_fig(b, inp, f"area_{code}_now", now, inp.index_code)
        k2 = _index_fig(b, inp, f"area_{code}_prev", prev, inp.index_code)
        kd = b.add(Figure(f"area_{code}_delta", abs(delta), "", Source(
            "computed", detail={"formula": f"abs({k1} - {k2})"})))
        b.say("areas", msg, (k1, k2, kd), child=_bi(zh, en), now=k1, prev=k2, delta=kd)
