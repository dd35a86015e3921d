"""The district's headline figures, defined once for the big screen and the briefings.

A figure is an indicator of the observation store for its **latest complete period** — the
latest period that was over before ``today`` (a briefing for November asks with 1 December):

* flows reported more than once a year (GDP by quarter, budget revenue and retail sales by
  month) are summed over the year up to that period when every period of the year up to it is
  there — 2026年前三季度, 2026年1—10月 — and compared with the same periods a year before;
* stocks (market entities) and annual figures are the value of that period.

Each figure says its unit, its period in words, the department that reports it and the load
time (vintage) of the numbers. The key-project figure counts the projects of the register
within the area and adds up their total investment, as they stand today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.accountability.models import Project
from citygrowth.analysis.briefing.model import Figure, Source
from citygrowth.analysis.briefing.numbers import (
    PERCENT,
    format_figure,
    format_number,
    signed,
    unit_label,
)
from citygrowth.catalog.framework import Framework
from citygrowth.errors import NotFound
from citygrowth.i18n import N_, bilingual, translate
from citygrowth.observatory.store import ObservationStore
from citygrowth.periods import Period, latest_complete, period_text

# (indicator, summed over the year up to its latest complete period)
KEY_INDICATORS: tuple[tuple[str, bool], ...] = (
    ("ECO_GDP", True),
    ("ECO_BUDGET_REVENUE", True),
    ("ECO_RETAIL_SALES", True),
    ("IND_MARKET_ENTITIES", False),
)
POINTS = ("分", "points")  # index scores: changes in points
PROJECTS_CODE = "KEY_PROJECTS"
ZH, EN = "zh_CN", "en"
T_PROJECTS = N_("District key projects")
T_PROJECTS_SOURCE = N_("Key project register")
T_PROJECTS_INVEST = N_("total investment {value}")
T_AS_OF = N_("as of {date}")
T_YOY = N_("{change} on a year before")
T_AGAINST = N_("{change} on {period}")
T_TARGET = N_("target {target}")
# case handling of the latest complete month, against the month before
CASE_INDICATORS = ("GOV_CASE_ONTIME_RATE", "GOV_CASE_CLOSURE_RATE", "GOV_CASE_SATISFACTION",
                   "GOV_CASE_HANDLING_HOURS")


@dataclass(frozen=True)
class KeyFigure:
    """One headline figure; ``to_dict(locale)`` gives its words in a language."""

    code: str
    name_zh: str
    name_en: str
    value: float
    unit: str
    period: str
    year_to_date: bool
    source_zh: str
    source_en: str
    vintage: str = ""
    previous: float | None = None  # the value it is compared with ...
    previous_period: str = ""  # ... and its period (a year before, or the month before)
    year_on_year: bool = True
    target: float | None = None  # the framework's target level, when it sets one
    extra_value: float | None = None  # key projects: total investment (亿元)
    as_of: str = ""  # key projects: the day the register was read

    @property
    def change_pct(self) -> float | None:
        if self.previous is None or self.previous == 0:
            return None
        return (self.value - self.previous) / abs(self.previous) * 100

    def period_words(self, locale: str) -> str:
        if self.as_of:
            return translate(T_AS_OF, locale).format(
                date=period_text(Period.parse(self.as_of), locale))
        return period_text(Period.parse(self.period), locale, year_to_date=self.year_to_date)

    def change_text(self, locale: str) -> str:
        """``+5.2%`` for amounts, ``+0.4 个百分点`` (``pp``) for rates, against the previous
        value, with what it is compared with (the same period a year before, or the period
        before)."""
        if self.previous is None:
            return ""
        if self.unit in PERCENT or self.unit in POINTS:
            delta = signed(self.value - self.previous)
            word = ("pp", "个百分点") if self.unit in PERCENT else ("points", "分")
            text = f"{delta} {word[0]}" if locale == "en" else f"{delta}{word[1]}"
        elif self.change_pct is not None:
            text = f"{signed(self.change_pct)}%"
        else:
            return ""
        if self.previous_period and not self.year_on_year:
            return translate(T_AGAINST, locale).format(
                change=text, period=period_text(Period.parse(self.previous_period), locale))
        return translate(T_YOY, locale).format(change=text)

    def to_dict(self, locale: str) -> dict[str, Any]:
        change = self.change_pct
        target = None if self.target is None else format_figure(
            Figure("target", self.target, self.unit, Source("computed")), locale)
        return {
            "code": self.code, "name": bilingual(self.name_zh, self.name_en, locale),
            "value": self.value, "display": format_number(self.value),
            "unit": unit_label(self.unit, locale), "period": self.period,
            "period_text": self.period_words(locale), "year_to_date": self.year_to_date,
            "source": bilingual(self.source_zh, self.source_en, locale),
            "vintage": self.vintage,
            "previous": self.previous, "previous_period": self.previous_period,
            "change_pct": None if change is None else round(change, 1),
            "change_text": self.change_text(locale),
            "target": self.target,
            "target_text": "" if target is None else translate(T_TARGET, locale).format(
                target=target),
            "extra": "" if self.extra_value is None else translate(
                T_PROJECTS_INVEST, locale).format(value=format_figure(
                    Figure("invest", self.extra_value, "亿元", Source("computed")), locale)),
        }


def local_today(tz: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    """The day in the district's zone (``now`` for tests)."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(tz).date()


def _vintage(rows: pd.DataFrame, tz: ZoneInfo) -> str:
    if rows.empty or rows["vintage"].isna().all():
        return ""
    return str(pd.Timestamp(rows["vintage"].max()).tz_convert(tz).strftime("%Y-%m-%d %H:%M"))


def year_to_date(values: dict[str, float], last: Period) -> float | None:
    """Sum of the periods of ``last``'s year up to ``last``; None when one is missing."""
    first = Period.of(last.start.replace(month=1, day=1), last.freq)
    wanted = [str(p) for p in first.range_to(last)]
    if any(p not in values for p in wanted):
        return None
    return float(sum(values[p] for p in wanted))


def indicator_figure(fw: Framework, rows: pd.DataFrame, code: str, cumulate: bool,
                     today: dt.date, tz: ZoneInfo, *, year_on_year: bool = True
                     ) -> KeyFigure | None:
    """The figure of one indicator from its rows (one area), or None without a complete
    period; compared with the same period a year before (``year_on_year``) or the period
    before."""
    rows = rows[rows["indicator"] == code]
    values = {str(p): float(v) for p, v in zip(rows["period"], rows["value"], strict=True)
              if pd.notna(v)}
    last = latest_complete(values, today)
    if last is None:
        return None
    ind = fw.indicator(code)
    dept = fw.department(ind.department)
    before = last.shift(-_per_year(last)) if year_on_year else last.prev()
    value, previous, ytd = values[str(last)], values.get(str(before)), False
    if cumulate and last.freq in ("Q", "M"):
        total = year_to_date(values, last)
        if total is not None:
            ytd = last.start.month > 1
            value = total
            previous = year_to_date(values, before)
    return KeyFigure(
        code=code, name_zh=ind.name_zh, name_en=ind.name_en, value=value, unit=ind.unit,
        period=str(last), year_to_date=ytd,
        source_zh=dept.name_zh if dept else ind.department,
        source_en=dept.name_en if dept else ind.department,
        vintage=_vintage(rows[rows["period"] == str(last)], tz), previous=previous,
        previous_period=str(before), year_on_year=year_on_year,
        target=None if ind.target is None else float(ind.target))


def _per_year(p: Period) -> int:
    return {"A": 1, "Q": 4, "M": 12}.get(p.freq, 1)


def projects_figure(session: Session, area_code: str, today: dt.date) -> KeyFigure | None:
    """Key projects within the area: how many, and their total investment in 亿元."""
    count, total_wan = session.execute(
        select(func.count(Project.id), func.coalesce(func.sum(Project.total_wan), 0))
        .where(Project.area_code.startswith(area_code))).one()
    if not count:
        return None
    return KeyFigure(
        code=PROJECTS_CODE, name_zh=translate(T_PROJECTS, ZH),
        name_en=translate(T_PROJECTS, EN), value=float(count), unit="个",
        period=str(Period.of(today, "D")), year_to_date=False,
        source_zh=translate(T_PROJECTS_SOURCE, ZH),
        source_en=translate(T_PROJECTS_SOURCE, EN),
        extra_value=round(float(total_wan) / 10_000, 2), as_of=today.isoformat())


def _figures(store: ObservationStore, fw: Framework, area_code: str,
             wanted: tuple[tuple[str, bool], ...], today: dt.date, tz: ZoneInfo,
             year_on_year: bool) -> list[KeyFigure]:
    codes = [c for c, _ in wanted if _has(fw, c)]
    if not codes:
        return []
    rows = store.query(indicators=codes, area_codes=[area_code])
    rows = rows.assign(period=rows["period"].astype(str))
    found = (indicator_figure(fw, rows, code, cumulate, today, tz, year_on_year=year_on_year)
             for code, cumulate in wanted if code in codes)
    return [f for f in found if f is not None]


def indicator_figures(store: ObservationStore, fw: Framework, area_code: str, today: dt.date,
                      tz: ZoneInfo) -> list[KeyFigure]:
    """The headline indicators of the area (``KEY_INDICATORS``), each against the same
    period a year before."""
    return _figures(store, fw, area_code, KEY_INDICATORS, today, tz, year_on_year=True)


def key_figures(session: Session, store: ObservationStore, fw: Framework, area_code: str,
                today: dt.date, tz: ZoneInfo) -> list[KeyFigure]:
    """The area's headline figures for their latest complete periods before ``today``, and
    its key projects."""
    out = indicator_figures(store, fw, area_code, today, tz)
    projects = projects_figure(session, area_code, today)
    return out + ([projects] if projects is not None else [])


def case_figures(store: ObservationStore, fw: Framework, area_code: str, today: dt.date,
                 tz: ZoneInfo) -> list[KeyFigure]:
    """Case handling in the area's latest complete month, against the month before (rates
    of a whole month, so they compare with the framework's targets like for like)."""
    return _figures(store, fw, area_code, tuple((c, False) for c in CASE_INDICATORS), today,
                    tz, year_on_year=False)


def _has(fw: Framework, code: str) -> bool:
    try:
        fw.indicator(code)
    except NotFound:
        return False
    return True
