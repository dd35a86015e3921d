"""Working days on the statutory calendar (holidays and make-up working days).

Which day is a working day comes from ``citygrowth.governance.sla.is_workday`` (the same
statutory calendar the case SLA clocks use: ``chinese_calendar``'s holidays and 调休 make-up
working days; Monday to Friday in years it has no data for). This module adds whole-day
counting for approval times, which the SLA calendar (counting working *hours*) does not offer.

Approval times are counted the way administrative deadlines are (期间开始之日不计算在内): the
day of submission does not count; every working day after it up to and including the day of
approval does. An item approved on the day it was submitted took 0 working days; one submitted
on a Friday and approved the next Monday took 1.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from citygrowth.governance.sla import is_workday

DEFAULT_TZ = "Asia/Shanghai"


def is_working_day(day: dt.date) -> bool:
    """True on a working day: a weekday that is no public holiday, or a make-up working day."""
    return is_workday(day)


def local_date(moment: dt.datetime, tz: str = DEFAULT_TZ) -> dt.date:
    """The calendar date of an aware UTC moment in the time zone deadlines are counted in."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; times are aware UTC")
    return moment.astimezone(ZoneInfo(tz)).date()


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    days = 0
    day = start + dt.timedelta(days=1)
    while day <= end:
        if is_working_day(day):
            days += 1
        day += dt.timedelta(days=1)
    return days


def working_days_elapsed(
    submitted_at: dt.datetime, done_at: dt.datetime, tz: str = DEFAULT_TZ
) -> int:
    """Working days from a submission to its approval, both aware UTC moments."""
    return working_days_between(local_date(submitted_at, tz), local_date(done_at, tz))


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``start`` (``start`` itself when ``n`` is 0)."""
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day
