"""The working-time calendar of case deadlines: working hours on working days.

Which days are working days comes from the installation's holiday calendar
(:class:`citygrowth.workdays.HolidayCalendar`: the State Council notices loaded into the store,
then the chinese_calendar package; holidays off, make-up working days on); ``runtime.calendar``
is built with it. Within a working day only the working periods count (default 08:30–12:00
and 13:30–17:30 local time). A deadline reaching a year whose holidays are not known is counted
on Monday–Friday and flagged (:meth:`WorkCalendar.unknown_years`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from citygrowth.errors import ValidationFailed
from citygrowth.workdays import STATUTORY, HolidayCalendar

Period = tuple[dt.time, dt.time]


def parse_periods(text: str) -> tuple[Period, ...]:
    """``"08:30-12:00,13:30-17:30"`` → ((08:30, 12:00), (13:30, 17:30))."""
    out: list[Period] = []
    try:
        for part in text.split(","):
            a, b = part.strip().split("-")
            start, end = dt.time.fromisoformat(a.strip()), dt.time.fromisoformat(b.strip())
            if end <= start or (out and start < out[-1][1]):
                raise ValueError(part)
            out.append((start, end))
    except ValueError:
        raise ValidationFailed("Working periods are not valid: {value}", value=text) from None
    if not out:
        raise ValidationFailed("Working periods are not valid: {value}", value=text)
    return tuple(out)


@dataclass(frozen=True)
class WorkCalendar:
    periods: tuple[Period, ...]
    tz: ZoneInfo
    days: HolidayCalendar = STATUTORY
    _spans: dict[dt.date, tuple[tuple[dt.datetime, dt.datetime], ...]] = field(
        default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_settings(cls, periods: str, timezone: str,
                      days: HolidayCalendar = STATUTORY) -> WorkCalendar:
        """The calendar of ``Settings.cases_work_periods`` in ``Settings.timezone``."""
        return cls(parse_periods(periods), ZoneInfo(timezone), days)

    def with_days(self, days: HolidayCalendar) -> WorkCalendar:
        """The same working periods on another holiday calendar."""
        return WorkCalendar(self.periods, self.tz, days)

    def unknown_years(self, start: dt.datetime, end: dt.datetime) -> list[int]:
        """Years (local time) from ``start`` to ``end`` whose holidays are not known: a
        deadline reaching one counts Monday–Friday as working days and must be flagged."""
        return self.days.unknown_years(start.astimezone(self.tz).date(),
                                       end.astimezone(self.tz).date())

    @property
    def hours_per_day(self) -> float:
        return sum(_seconds(a, b) for a, b in self.periods) / 3600

    def _day_spans(self, day: dt.date) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
        """The working periods of ``day`` as aware datetimes (none on a day off)."""
        spans = self._spans.get(day)
        if spans is None:
            spans = () if not self.days.is_workday(day) else tuple(
                (dt.datetime.combine(day, a, self.tz), dt.datetime.combine(day, b, self.tz))
                for a, b in self.periods)
            if len(self._spans) > 20000:  # a bound on the per-calendar memo
                self._spans.clear()
            self._spans[day] = spans
        return spans

    def working_hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working hours elapsed from ``start`` to ``end`` (0 when end ≤ start)."""
        if end <= start:
            return 0.0
        s, e = start.astimezone(self.tz), end.astimezone(self.tz)
        total = 0.0
        day = s.date()
        while day <= e.date():
            for a, b in self._day_spans(day):
                lo, hi = max(a, s), min(b, e)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return total / 3600

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The moment when ``hours`` working hours have passed since ``start`` (UTC)."""
        if hours < 0:
            raise ValidationFailed("Working hours must not be negative.")
        left = hours * 3600
        s = start.astimezone(self.tz)
        day = s.date()
        for _ in range(3700):  # ten years of days: a hard bound on the walk
            for a, b in self._day_spans(day):
                lo = max(a, s)
                if b <= lo:
                    continue
                span = (b - lo).total_seconds()
                if left <= span:
                    return (lo + dt.timedelta(seconds=left)).astimezone(dt.UTC)
                left -= span
            day += dt.timedelta(days=1)
        raise ValidationFailed("Working hours must not be negative.")

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """End of the working day ``days`` working days after ``start``'s day (UTC).

        A deadline of 1 working day set on a Friday before a holiday ends on the first working
        day after it, at the close of its last working period.
        """
        day = start.astimezone(self.tz).date()
        counted = 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.days.is_workday(day):
                counted += 1
        end = dt.datetime.combine(day, self.periods[-1][1], self.tz)
        return end.astimezone(dt.UTC)

    def next_working_moment(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself when inside working time, else the start of the next period."""
        return self.add_working_hours(moment, 0.0)


def _seconds(a: dt.time, b: dt.time) -> float:
    day = dt.date.min
    return (dt.datetime.combine(day, b) - dt.datetime.combine(day, a)).total_seconds()
