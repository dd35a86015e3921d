"""Years the statutory calendar does not cover fall back to Monday–Friday."""

from __future__ import annotations

import datetime as dt

from citygrowth.workdays import calendar_years, is_workday


def test_covered_years_use_the_calendar_and_others_fall_back() -> None:
    first, last = calendar_years()
    assert first <= 2026 <= last
    assert is_workday(dt.date(2026, 2, 14)) is True   # make-up Saturday
    assert is_workday(dt.date(2026, 2, 17)) is False  # Spring Festival
    later = dt.date(last + 1, 1, 1)
    assert is_workday(later) is (later.weekday() < 5)
