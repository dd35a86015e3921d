"""The statutory working-day calendar, shared by every domain that counts working time.

Working days follow China's statutory calendar through the maintained ``chinese_calendar``
package: public holidays are off and make-up working days (调休, often a Saturday) are on.
Outside the years the package knows, Monday–Friday are working days. Case deadlines count
working *hours* on it (``citygrowth.governance.sla.WorkCalendar``); approval times count whole
working days (below).

Whole days are counted the way administrative deadlines are (期间开始之日不计算在内): the day of
submission does not count; every working day after it up to and including the day of approval
does. An item approved on the day it was submitted took 0 working days; one submitted on a
Friday and approved the next Monday took 1.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar.constants import holidays


@lru_cache(maxsize=4096)
def is_workday(day: dt.date) -> bool:
    """True on working days: statutory holidays off, make-up working days on."""
    first, last = calendar_years()
    if not first <= day.year <= last:  # a year the calendar does not cover yet
        return day.weekday() < 5
    return bool(chinese_calendar.is_workday(day))


@lru_cache(maxsize=1)
def calendar_years() -> tuple[int, int]:
    """First and last year whose statutory holidays the installed calendar knows."""
    years = sorted({d.year for d in holidays})
    return years[0], years[-1]


def local_date(moment: dt.datetime, tz: str) -> dt.date:
    """The calendar date of an aware UTC moment in the time zone deadlines are counted in."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; times are aware UTC")
    return moment.astimezone(ZoneInfo(tz)).date()


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    days = 0
    day = start + dt.timedelta(days=1)
    while day <= end:
        if is_workday(day):
            days += 1
        day += dt.timedelta(days=1)
    return days


def working_days_elapsed(
    submitted_at: dt.datetime, done_at: dt.datetime, tz: str
) -> int:
    """Working days from a submission to its approval, both aware UTC moments."""
    return working_days_between(local_date(submitted_at, tz), local_date(done_at, tz))


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``start`` (``start`` itself when ``n`` is 0)."""
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day
