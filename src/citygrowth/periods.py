"""One ``Period`` type for every time reference: year, quarter, month, week or day.

``Period.parse`` reads ``2024``, ``2024Q3`` (also ``2024-Q3``), ``2024-09`` (also ``2024M09``),
``2024-W05`` and ``2024-09-30``; ``str(period)`` writes the same canonical forms (SDMX-style),
so periods sort as text within one frequency.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from citygrowth.errors import ValidationFailed

Freq = Literal["A", "Q", "M", "W", "D"]
FREQ_ORDER: dict[str, int] = {"D": 0, "W": 1, "M": 2, "Q": 3, "A": 4}
# the years a period may lie in: wide enough for any statistical series, narrow enough that
# every period has a next and a previous one (``date`` stops at the year 9999)
FIRST_YEAR, LAST_YEAR = 1900, 2200
FREQ_NAMES = {"A": "annual", "Q": "quarterly", "M": "monthly", "W": "weekly", "D": "daily"}

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d{4})$"), "A"),
    (re.compile(r"^(\d{4})-?Q([1-4])$", re.I), "Q"),
    (re.compile(r"^(\d{4})-?M?(\d{2})$", re.I), "M"),
    (re.compile(r"^(\d{4})-?W(\d{2})$", re.I), "W"),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "D"),
]


@dataclass(frozen=True, order=True)
class Period:
    """A calendar period, identified by its frequency and first day."""

    start: dt.date
    freq: str

    @classmethod
    def parse(cls, text: str | int | Period) -> Period:
        if isinstance(text, Period):
            return text
        s = str(text).strip()
        for pattern, freq in _PATTERNS:
            m = pattern.match(s)
            if not m:
                continue
            if not FIRST_YEAR <= int(m.group(1)) <= LAST_YEAR:
                raise ValidationFailed("'{text}' lies outside the years {first} to {last}.",
                                       code="bad_period", text=s, first=FIRST_YEAR,
                                       last=LAST_YEAR)
            try:
                return cls._from_match(freq, m.groups())
            except ValueError:
                break
        raise ValidationFailed(
            "'{text}' is not a period (use 2024, 2024Q3, 2024-09, 2024-W05 or 2024-09-30).",
            code="bad_period",
            text=s,
        )

    @classmethod
    def _from_match(cls, freq: str, groups: tuple[str | None, ...]) -> Period:
        y = int(groups[0] or 0)
        if freq == "A":
            return cls(dt.date(y, 1, 1), "A")
        if freq == "Q":
            q = int(groups[1] or 1)
            return cls(dt.date(y, 3 * q - 2, 1), "Q")
        if freq == "M":
            return cls(dt.date(y, int(groups[1] or 1), 1), "M")
        if freq == "W":
            return cls(dt.date.fromisocalendar(y, int(groups[1] or 1), 1), "W")
        return cls(dt.date(y, int(groups[1] or 1), int(groups[2] or 1)), "D")

    @classmethod
    def of(cls, day: dt.date, freq: str) -> Period:
        """The period of frequency ``freq`` that contains ``day``."""
        if freq == "A":
            return cls(dt.date(day.year, 1, 1), "A")
        if freq == "Q":
            return cls(dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), "Q")
        if freq == "M":
            return cls(dt.date(day.year, day.month, 1), "M")
        if freq == "W":
            return cls(day - dt.timedelta(days=day.weekday()), "W")
        if freq == "D":
            return cls(day, "D")
        raise ValidationFailed("Unknown frequency '{freq}'.", code="bad_frequency", freq=freq)

    def __str__(self) -> str:
        d = self.start
        if self.freq == "A":
            return f"{d.year:04d}"
        if self.freq == "Q":
            return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"
        if self.freq == "M":
            return f"{d.year:04d}-{d.month:02d}"
        if self.freq == "W":
            iso = d.isocalendar()
            return f"{iso.year:04d}-W{iso.week:02d}"
        return d.isoformat()

    @property
    def end(self) -> dt.date:
        """Last day of the period."""
        return self.next().start - dt.timedelta(days=1)

    def shift(self, n: int) -> Period:
        d = self.start
        if self.freq in ("A", "Q", "M"):
            months = {"A": 12, "Q": 3, "M": 1}[self.freq] * n
            idx = d.year * 12 + (d.month - 1) + months
            return Period(dt.date(idx // 12, idx % 12 + 1, 1), self.freq)
        days = 7 * n if self.freq == "W" else n
        return Period(d + dt.timedelta(days=days), self.freq)

    def next(self) -> Period:
        return self.shift(1)

    def prev(self) -> Period:
        return self.shift(-1)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def to_freq(self, freq: str) -> Period:
        """The period of a coarser (or equal) frequency containing this one's start."""
        return Period.of(self.start, freq)

    def range_to(self, other: Period) -> list[Period]:
        """Every period from this one to ``other`` inclusive (same frequency)."""
        if other.freq != self.freq:
            raise ValidationFailed(
                "Periods {a} and {b} have different frequencies.", a=str(self), b=str(other)
            )
        out: list[Period] = []
        p = self
        while p <= other:
            out.append(p)
            p = p.next()
        return out


def parse_period(text: str | int | Period) -> Period:
    return Period.parse(text)


def is_complete(period: Period, today: dt.date) -> bool:
    """True when ``period`` was over before ``today`` (its last day is past)."""
    return period.end < today


def latest_complete(periods: Iterable[str | Period], today: dt.date) -> Period | None:
    """The latest of ``periods`` that was over before ``today`` (None if none was). A
    briefing for a month asks with the day after the month; a live screen with today."""
    done = [p for p in map(Period.parse, periods) if is_complete(p, today)]
    return max(done, key=lambda p: (p.end, -FREQ_ORDER[p.freq])) if done else None


_ZH_QUARTERS = ("一", "二", "三", "四")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")


def period_text(period: Period, locale: str, *, year_to_date: bool = False) -> str:
    """A period in words: 2025年 / 2026年第三季度 / 2026年11月 (en: 2025, Q3 2026, Nov 2026).
    ``year_to_date`` names the year up to the period: 2026年前三季度, 2026年1—11月 (en:
    Q1–Q3 2026, Jan–Nov 2026); up to its last quarter or month, the year itself."""
    y, m, en = period.start.year, period.start.month, locale == "en"
    if year_to_date and period.end.month == 12:
        return period_text(period.to_freq("A"), locale)  # the whole year
    if period.freq == "Q":
        q = (m - 1) // 3 + 1
        if year_to_date and q > 1:
            return f"Q1–Q{q} {y}" if en else f"{y}年前{_ZH_QUARTERS[q - 1]}季度"
        return f"Q{q} {y}" if en else f"{y}年第{_ZH_QUARTERS[q - 1]}季度"
    if period.freq == "M":
        if year_to_date and m > 1:
            return f"Jan–{_EN_MONTHS[m - 1]} {y}" if en else f"{y}年1—{m}月"
        return f"{_EN_MONTHS[m - 1]} {y}" if en else f"{y}年{m}月"
    if period.freq == "A":
        return str(y) if en else f"{y}年"
    if period.freq == "D":
        d = period.start
        return f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}" if en else \
            f"{d.year}年{d.month}月{d.day}日"
    return str(period)
