"""A realistic synthetic load for the anomaly checks: a district with streets, communities
(with square geometries on a 4×4 grid, so interior ones have four neighbours) and grid cells;
monthly and quarterly indicators in money, persons, small whole-number counts, bounded and
unbounded percentages; three years of history and a six-month batch, with anomalies of every
kind planted at known places."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from tests.analysis.synth import months

DISTRICT = "370203"
STREETS = [f"{DISTRICT}{s:03d}" for s in range(1, 5)]
COMMUNITIES = [f"{s}{c:03d}" for s in STREETS for c in range(1, 5)]
GRIDS = [f"{c}{g:03d}" for c in COMMUNITIES for g in range(1, 7)]
HIST_MONTHS = months("2022-01", 36)
NEW_MONTHS = months("2025-01", 6)
HIST_QUARTERS = [f"{y}-Q{q}" for y in (2021, 2022, 2023, 2024) for q in (1, 2, 3, 4)]
NEW_QUARTERS = ["2025-Q1", "2025-Q2"]

CATALOG: dict[str, dict[str, Any]] = {
    "GDP": {"unit": "万元", "name_zh": "地区生产总值", "name_en": "GDP"},
    "RETAIL": {"unit": "万元", "name_zh": "社会消费品零售总额", "name_en": "Retail sales"},
    "COVER": {"unit": "%", "name_zh": "签约覆盖率", "name_en": "Coverage"},
    "GROWTH": {"unit": "%", "name_zh": "增速", "name_en": "Growth"},
    "RESIDENTS": {"unit": "人", "name_zh": "常住人口", "name_en": "Residents"},
    "CASES": {"unit": "件", "name_zh": "案件数", "name_en": "Cases"},
    "SCORE": {"unit": "分", "lower": 0, "upper": 10, "name_zh": "评分", "name_en": "Score"},
    "INVEST": {"unit": "万元", "name_zh": "固定资产投资", "name_en": "Investment"},
}


def _square(i: int) -> str:
    x, y = i % 4, i // 4
    ring = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def areas() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"code": DISTRICT, "parent_code": None, "level": "district"}]
    out += [{"code": s, "parent_code": DISTRICT, "level": "street"} for s in STREETS]
    out += [{"code": c, "parent_code": c[:-3], "level": "community", "geometry": _square(i)}
            for i, c in enumerate(COMMUNITIES)]
    out += [{"code": g, "parent_code": g[:-3], "level": "grid"} for g in GRIDS]
    return out


def panel(seed: int = 11) -> pd.DataFrame:
    """History and batch together (``new`` column), no anomalies."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, str, float, bool]] = []
    monthly = HIST_MONTHS + NEW_MONTHS
    cut = len(HIST_MONTHS)
    lower_areas = COMMUNITIES + GRIDS
    for ind, base, season, noise in (("GDP", 500.0, 0.0, 0.01), ("RETAIL", 60.0, 0.2, 0.01),
                                     ("RESIDENTS", 3000.0, 0.0, 0.002)):
        for area in STREETS + lower_areas:
            level = base * rng.uniform(0.6, 1.4) * (0.1 if len(area) > 12 else 1)
            for i, m in enumerate(monthly):
                v = level * 1.004**i * (1 + season * np.sin(2 * np.pi * i / 12))
                v *= np.exp(rng.normal(0, noise))
                if ind == "RESIDENTS":
                    v = float(round(v))
                rows.append((ind, area, m, round(v, 4), i >= cut))
    for area in COMMUNITIES + GRIDS:
        cover = rng.uniform(40, 80)
        growth = rng.uniform(4, 8) if area != GRIDS[3] else -2.0  # one negative: unbounded
        for i, m in enumerate(monthly):
            rows.append(("COVER", area, m, round(cover + rng.normal(0, 0.3), 3), i >= cut))
            rows.append(("GROWTH", area, m, round(growth + rng.normal(0, 0.05), 3), i >= cut))
            rows.append(("CASES", area, m, float(rng.poisson(600)), i >= cut))
            rows.append(("SCORE", area, m, round(7 + rng.normal(0, 0.03), 2), i >= cut))
    quarterly = HIST_QUARTERS + NEW_QUARTERS
    for area in STREETS + COMMUNITIES:
        level = rng.uniform(800, 1200)
        for i, q in enumerate(quarterly):
            v = level * 1.01**i * (1 + 0.25 * np.sin(2 * np.pi * i / 4))
            rows.append(("INVEST", area, q, round(v * np.exp(rng.normal(0, 0.01)), 3),
                         i >= len(HIST_QUARTERS)))
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value", "new"])


def _set(frame: pd.DataFrame, ind: str, area: str, period: str, value: Any) -> None:
    sel = ((frame.indicator == ind) & (frame.area_code == area)
           & (frame.period == period))
    assert sel.sum() == 1, (ind, area, period)
    frame.loc[sel, "value"] = value(frame.loc[sel, "value"].iloc[0]) if callable(value) \
        else value


def planted_load(seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(batch, history) with every kind of anomaly planted (see the pinned test)."""
    df = panel(seed)
    new = df[df.new].drop(columns="new").reset_index(drop=True)
    hist = df[~df.new].drop(columns="new").reset_index(drop=True)
    g = GRIDS
    # unit slips: ×10,000 (yuan for 10,000 yuan), a percentage entered as a fraction
    _set(new, "GDP", g[5], "2025-03", lambda v: v * 10000)
    _set(new, "GDP", STREETS[1], "2025-02", lambda v: v / 10000)
    _set(new, "COVER", g[7], "2025-04", lambda v: v / 100)
    # impossible: negative persons, a bounded percentage over 100, a score over its bound
    _set(new, "RESIDENTS", g[9], "2025-02", -5.0)
    _set(new, "COVER", g[11], "2025-05", 130.0)
    _set(new, "SCORE", g[13], "2025-01", 11.5)
    # jumps: a spike (and its return, not reported twice), a drop
    _set(new, "GDP", g[20], "2025-04", lambda v: v * 1.7)
    _set(new, "GDP", COMMUNITIES[3], "2025-06", lambda v: v * 0.5)
    # broken seasonality: a seasonal series flattened
    sel = (new.indicator == "RETAIL") & (new.area_code == COMMUNITIES[6])
    new.loc[sel, "value"] = float(new.loc[sel, "value"].mean())
    # spatial (series with too short a history for the jump check): a community (interior of
    # the 4×4 grid) out of line with its neighbours; a grid with its siblings (no geometry)
    short = (hist.period < "2024-08") & (((hist.indicator == "GDP")
                                          & (hist.area_code == COMMUNITIES[5]))
                                         | ((hist.indicator == "RESIDENTS")
                                            & (hist.area_code == g[40])))
    hist = hist[~short].reset_index(drop=True)
    _set(new, "GDP", COMMUNITIES[5], "2025-01", lambda v: v * 1.4)
    _set(new, "RESIDENTS", g[40], "2025-03", lambda v: round(v * 0.6))
    # a spike in counts
    _set(new, "CASES", g[50], "2025-02", 6000.0)
    # non-canonical period labels, a missing value, a new area without history
    new.loc[(new.indicator == "GROWTH") & (new.area_code == g[60]), "period"] = \
        new.loc[(new.indicator == "GROWTH") & (new.area_code == g[60]), "period"].str.replace(
            "-", "M")
    _set(new, "GDP", g[61], "2025-01", float("nan"))
    extra = pd.DataFrame([("GDP", f"{COMMUNITIES[0]}099", p, 50.0 + i)
                          for i, p in enumerate(NEW_MONTHS)], columns=new.columns)
    return pd.concat([new, extra], ignore_index=True), hist
