"""The statutory working-day calendar, shared by every domain that counts working time.

Working days follow China's statutory calendar: public holidays are off and make-up working
days (调休, often a Saturday) are on. A :class:`HolidayCalendar` answers from, in this order:

1. the State Council holiday notices an administrator loaded into the operational store
   (``citygrowth calendar load 2027.yaml`` or the admin page, see ``citygrowth.holidays``);
2. the maintained ``chinese_calendar`` package for the years it covers (2004 to 2026 in
   chinesecalendar 1.11.0);
3. Monday to Friday for any other year — such a year is *unknown*: :meth:`HolidayCalendar.knows`
   says so, and every deadline or approval time that reaches it is flagged where it is shown.

The calendar of an installation is built from its store, per runtime
(``runtime.calendar.days``, see ``citygrowth.holidays.store``); :data:`STATUTORY` is the one
without loaded notices, for code that has no store at hand. Case deadlines count working
*hours* on it (``citygrowth.governance.sla.WorkCalendar``); approval times count whole working
days (below).

Whole days are counted the way administrative deadlines are (期间开始之日不计算在内): the day of
submission does not count; every working day after it up to and including the day of approval
does. An item approved on the day it was submitted took 0 working days; one submitted on a
Friday and approved the next Monday took 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as chinese_constants

Source = Literal["notice", "package", "weekdays"]
#: the holiday names chinese_calendar uses, as the Chinese names notices use
PACKAGE_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节",
                 "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
                 "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节",
                 "National Day": "国庆节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}


@lru_cache(maxsize=1)
def calendar_years() -> tuple[int, int]:
    """First and last year whose statutory holidays the installed chinese_calendar knows."""
    years = sorted({d.year for d in chinese_constants.holidays})
    return years[0], years[-1]


@dataclass(frozen=True)
class YearNotice:
    """The days a year's State Council notice changes: holidays off, make-up days on."""

    year: int
    holidays: Mapping[dt.date, str]  # day → festival name (weekend days of a break included)
    workdays: Mapping[dt.date, str]  # make-up working day → festival it makes up for
    title: str = ""

    def is_workday(self, day: dt.date) -> bool:
        return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)


@dataclass(frozen=True, eq=False)
class HolidayCalendar:
    """Working days from loaded notices, then chinese_calendar, then Monday–Friday."""

    notices: Mapping[int, YearNotice] = field(default_factory=dict)

    def source(self, year: int) -> Source:
        if year in self.notices:
            return "notice"
        first, last = calendar_years()
        return "package" if first <= year <= last else "weekdays"

    def knows(self, year: int) -> bool:
        """Whether the holidays of ``year`` are known (a loaded notice or the package)."""
        return self.source(year) != "weekdays"

    def is_workday(self, day: dt.date) -> bool:
        """True on working days: statutory holidays off, make-up working days on."""
        notice = self.notices.get(day.year)
        if notice is not None:
            return notice.is_workday(day)
        if self.source(day.year) == "package":
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def day_name(self, day: dt.date) -> str:
        """The festival a holiday or make-up working day belongs to ("" for other days)."""
        notice = self.notices.get(day.year)
        if notice is not None:
            return notice.holidays.get(day) or notice.workdays.get(day) or ""
        if self.source(day.year) == "package":
            name = chinese_constants.holidays.get(day) or chinese_constants.workdays.get(day)
            return PACKAGE_NAMES.get(str(name), str(name)) if name else ""
        return ""

    def special_days(self, year: int) -> tuple[dict[dt.date, str], dict[dt.date, str]]:
        """(holidays, make-up working days) of ``year`` with their festival names."""
        notice = self.notices.get(year)
        if notice is not None:
            return dict(notice.holidays), dict(notice.workdays)
        if self.source(year) == "package":
            return ({d: PACKAGE_NAMES.get(n, n) for d, n in chinese_constants.holidays.items()
                     if d.year == year},
                    {d: PACKAGE_NAMES.get(n, n) for d, n in chinese_constants.workdays.items()
                     if d.year == year})
        return {}, {}

    def unknown_years(self, start: dt.date, end: dt.date) -> list[int]:
        """Years from ``start`` to ``end`` (either order) whose holidays are not known."""
        lo, hi = sorted((start.year, end.year))
        return [y for y in range(lo, hi + 1) if not self.knows(y)]

    def known_years(self) -> list[int]:
        first, last = calendar_years()
        return sorted(set(range(first, last + 1)) | set(self.notices))

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end ≤ start)."""
        days = 0
        day = start + dt.timedelta(days=1)
        while day <= end:
            if self.is_workday(day):
                days += 1
            day += dt.timedelta(days=1)
        return days

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``start`` itself when ``n`` is 0)."""
        day = start
        while n > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                n -= 1
        return day


#: the calendar without loaded notices: chinese_calendar, then Monday–Friday
STATUTORY = HolidayCalendar()


def is_workday(day: dt.date, calendar: HolidayCalendar = STATUTORY) -> bool:
    """True on working days of ``calendar``: statutory holidays off, make-up days on."""
    return calendar.is_workday(day)


def local_date(moment: dt.datetime, tz: str) -> dt.date:
    """The calendar date of an aware UTC moment in the time zone deadlines are counted in."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; times are aware UTC")
    return moment.astimezone(ZoneInfo(tz)).date()


def working_days_between(start: dt.date, end: dt.date,
                         calendar: HolidayCalendar = STATUTORY) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    return calendar.working_days_between(start, end)


def working_days_elapsed(submitted_at: dt.datetime, done_at: dt.datetime,
                         tz: str, calendar: HolidayCalendar = STATUTORY) -> int:
    """Working days from a submission to its approval, both aware UTC moments."""
    return calendar.working_days_between(local_date(submitted_at, tz), local_date(done_at, tz))


def add_working_days(start: dt.date, n: int, calendar: HolidayCalendar = STATUTORY) -> dt.date:
    """The ``n``-th working day after ``start`` (``start`` itself when ``n`` is 0)."""
    return calendar.add_working_days(start, n)
