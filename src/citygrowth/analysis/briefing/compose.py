"""Compose a monthly briefing from numbers: every sentence is made from figures it cites.

``compose(inputs)`` is pure: it reads the frames in :class:`BriefingInputs` (observations in
long format, index results, target odds) and returns a :class:`Briefing`. Which drove the
index: the index engine's contributions when given (``inputs.contributions``), else each
indicator's change divided by its typical (median absolute) change, signed by its direction —
and the briefing says which of the two it used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from citygrowth.analysis.briefing.model import Briefing, Figure, Source
from citygrowth.analysis.meta import IndicatorInfo
from citygrowth.i18n import N_
from citygrowth.periods import Period

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
D_UP = N_("{indicator} moved from {prev} to {now} ({period}), pushing the index up.")
D_DOWN = N_("{indicator} moved from {prev} to {now} ({period}), pulling the index down.")
D_METHOD_EXPLAIN = N_("Drivers are ranked by the index engine's contributions.")
D_METHOD_NORMALISED = N_("Drivers are ranked by normalised changes computed for this briefing "
                         "(each change divided by the indicator's typical change), not by "
                         "the index engine's contributions.")
A_ROSE = N_("{child} rose the most: {now}, up {delta} points from {prev}.")
A_FELL = N_("{child} fell the most: {now}, down {delta} points from {prev}.")
T_RISK = N_("Target \u201c{target}\u201d ({status}): the probability of reaching {value} by "
            "{deadline} is {odds}.")
T_NONE = N_("No target is at risk.")
C_VALUE = N_("{indicator}: {now} in {period} ({prev} in {prev_period}).")
C_ONLY = N_("{indicator}: {now} in {period}.")
G_STALE = N_("{indicator} has no data after {period} (last value {now}); an update was due by "
             "{due}.")
G_NONE = N_("Every indicator of this area is up to date.")
STATUS_NAMES = {"amber": N_("At risk"), "red": N_("Off track")}


@dataclass
class TargetOdds:
    code: str
    name_zh: str
    name_en: str
    target_value: float
    unit: str
    deadline: str
    odds: float
    status: str
    detail: dict[str, Any] = field(default_factory=dict)


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


def _index_rows(inp: BriefingInputs, unit: str, code: str, month: Period) -> tuple[Any, Any]:
    if inp.index is None or inp.index.empty:
        return None, None
    rows = inp.index[(inp.index["unit"] == unit) & (inp.index["code"] == code)]
    return _last_two(rows, month)


def _index_fig(b: Briefing, inp: BriefingInputs, key: str, row: Any, code: str) -> str:
    return b.add(Figure(key, float(row["value"]), "", Source(
        "index", code, str(row["unit"]), str(row["period"]), inp.index_vintage)))


def headline(b: Briefing, inp: BriefingInputs, month: Period) -> None:
    area = _bi(inp.area_name_zh, inp.area_name_en)
    now, prev = _index_rows(inp, inp.area_code, inp.index_code, month)
    if now is None:
        b.say("headline", H_NONE, area=area, month=str(month))
        return
    kn = _index_fig(b, inp, "index_now", now, inp.index_code)
    if prev is None:
        b.say("headline", C_ONLY, (kn,), indicator=area, now=kn, period=now["period"])
        return
    kp = _index_fig(b, inp, "index_prev", prev, inp.index_code)
    delta = float(now["value"]) - float(prev["value"])
    kd = b.add(Figure("index_delta", abs(delta), "", Source(
        "computed", detail={"formula": "abs(index_now - index_prev)"})))
    msg = H_ROSE if delta > 0 else H_FELL if delta < 0 else H_FLAT
    b.say("headline", msg, (kn, kp, kd), area=area, now=kn, prev=kp, delta=kd,
          period=now["period"], prev_period=prev["period"])
    for code, (zh, en) in inp.pillars.items():
        pn, pp = _index_rows(inp, inp.area_code, code, month)
        if pn is None or pp is None:
            continue
        k1 = _index_fig(b, inp, f"pillar_{code}_now", pn, code)
        k2 = _index_fig(b, inp, f"pillar_{code}_prev", pp, code)
        kd = b.add(Figure(f"pillar_{code}_delta", float(pn["value"]) - float(pp["value"]), "",
                          Source("computed", detail={"formula": f"{k1} - {k2}"})))
        b.say("headline", P_MOVE, (k1, k2, kd), pillar=_bi(zh, en), now=k1, prev=k2, delta=kd,
              period=pn["period"])


def _normalised_changes(inp: BriefingInputs, month: Period) -> list[tuple[float, Any, Any]]:
    out = []
    obs = inp.observations[inp.observations["area_code"] == inp.area_code]
    for code, g in obs.groupby("indicator"):
        info = inp.indicators.get(str(code))
        if info is None or str(code).startswith(CASE_PREFIX):
            continue
        now, prev = _last_two(g, month)
        if now is None or prev is None or is_stale(str(now.period), month):
            continue
        hist = g.assign(_s=g["period"].map(lambda p: Period.parse(p).start)).sort_values("_s")
        typical = float(np.median(np.abs(np.diff(hist["value"].to_numpy(float)))))
        if typical <= 0:
            continue
        score = info.direction * (float(now.value) - float(prev.value)) / typical
        out.append((score, now, prev))
    return out


def drivers(b: Briefing, inp: BriefingInputs, month: Period) -> None:
    scored = _normalised_changes(inp, month)
    if inp.contributions is not None and not inp.contributions.empty:
        contrib = dict(zip(inp.contributions["indicator"], inp.contributions["contribution"],
                           strict=True))
        scored = [(contrib[str(n.indicator)], n, p) for _s, n, p in scored
                  if str(n.indicator) in contrib]
        b.notes.append(D_METHOD_EXPLAIN)
    else:
        b.notes.append(D_METHOD_NORMALISED)
    ups = sorted([x for x in scored if x[0] > 0], key=lambda x: -x[0])[: inp.max_drivers]
    downs = sorted([x for x in scored if x[0] < 0], key=lambda x: x[0])[: inp.max_drivers]
    for score, now, prev in ups + downs:
        info = inp.indicators[str(now.indicator)]
        k1 = _obs_fig(b, f"driver_{now.indicator}_now", now, info)
        k2 = _obs_fig(b, f"driver_{now.indicator}_prev", prev, info)
        b.say("drivers", D_UP if score > 0 else D_DOWN, (k1, k2),
              indicator=_bi(info.name_zh, info.name_en), now=k1, prev=k2, period=now.period,
              translate_params=())


def areas(b: Briefing, inp: BriefingInputs, month: Period) -> None:
    moves = []
    for code, names in inp.children.items():
        now, prev = _index_rows(inp, code, inp.index_code, month)
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
