"""The remaining briefing sections (targets, case handling, data gaps) and ``compose``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from citygrowth.analysis.briefing.compose import (
    C_ONLY,
    C_VALUE,
    CASE_PREFIX,
    G_NONE,
    G_STALE,
    LAG_DAYS,
    STATUS_NAMES,
    T_NONE,
    T_RISK,
    BriefingInputs,
    _bi,
    _last_two,
    _obs_fig,
    areas,
    drivers,
    headline,
    is_stale,
)
from citygrowth.analysis.briefing.model import Briefing, Figure, Source
from citygrowth.errors import ValidationFailed
from citygrowth.periods import Period


def targets(b: Briefing, inp: BriefingInputs) -> None:
    risky = [t for t in inp.targets if t.status in ("amber", "red")]
    if not risky and inp.targets:
        b.say("targets", T_NONE)
    for t in sorted(risky, key=lambda t: t.odds):
        kv = b.add(Figure(f"target_{t.code}_value", t.target_value, t.unit,
                          Source("computed", detail={"target": t.code, "field": "target_value"})))
        ko = b.add(Figure(f"target_{t.code}_odds", t.odds, "probability", Source(
            "computed", indicator=t.detail.get("indicator", ""), area_code=inp.area_code,
            detail={"target": t.code, "method": "target_odds", **t.detail})))
        b.say("targets", T_RISK, (kv, ko), target=_bi(t.name_zh, t.name_en),
              status=STATUS_NAMES[t.status], value=kv, deadline=t.deadline, odds=ko,
              translate_params=("status",))


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
            b.say("cases", C_ONLY, (k1,), indicator=name, now=k1, period=now.period)
            continue
        k2 = _obs_fig(b, f"case_{code}_prev", prev, info)
        b.say("cases", C_VALUE, (k1, k2), indicator=name, now=k1, period=now.period, prev=k2,
              prev_period=prev.period)


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
        b.say("gaps", G_STALE, (k,), indicator=_bi(info.name_zh, info.name_en), period=str(p),
              now=k, due=due.isoformat())
    if not found and not obs.empty:
        b.say("gaps", G_NONE)


def compose(inp: BriefingInputs) -> Briefing:
    """The briefing for ``inp.area_code`` and ``inp.month`` built from the given numbers."""
    month = Period.parse(inp.month)
    if month.freq != "M":
        raise ValidationFailed("A briefing month looks like 2026-10.", code="bad_month")
    vintage = ""
    if "vintage" in inp.observations.columns and not inp.observations.empty:
        vintage = str(inp.observations["vintage"].max())
    b = Briefing(inp.area_code, inp.area_name_zh, inp.area_name_en, str(month), vintage)
    headline(b, inp, month)
    drivers(b, inp, month)
    areas(b, inp, month)
    targets(b, inp)
    cases(b, inp, month)
    gaps(b, inp, month)
    b.charts = chart_data(b, inp, month)
    return b


def chart_data(b: Briefing, inp: BriefingInputs, month: Period) -> dict[str, dict[str, Any]]:
    """Numbers for the briefing's charts: the index trend and the pillars' changes."""
    out: dict[str, dict[str, Any]] = {}
    if inp.index is not None and not inp.index.empty:
        rows = inp.index[(inp.index["unit"] == inp.area_code)
                         & (inp.index["code"] == inp.index_code)]
        rows = rows[rows["period"].map(lambda p: Period.parse(p).end <= month.end)]
        rows = rows.assign(_s=rows["period"].map(lambda p: Period.parse(p).start))
        rows = rows.sort_values("_s").tail(24)
        if len(rows) >= 2:
            out["trend"] = {"periods": [str(p) for p in rows["period"]],
                            "values": [float(v) for v in rows["value"]]}
    labels, values = [], []
    for code, (zh, en) in inp.pillars.items():
        fig = b.figures.get(f"pillar_{code}_delta")
        if fig is not None:
            labels.append(_bi(zh, en))
            values.append(fig.value)
    if labels:
        out["pillars"] = {"labels": labels, "values": values}
    return out
