"""Working-time arithmetic on China's statutory calendar: the 2026 Spring Festival holiday
(15–23 February) and its make-up working Saturdays (14 and 28 February)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from citygrowth.errors import ValidationFailed
from citygrowth.governance.lifecycle import clock
from citygrowth.governance.sla import WorkCalendar, parse_periods
from citygrowth.workdays import is_workday

BJ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar.from_settings("08:30-12:00,13:30-17:30", "Asia/Shanghai")


def bj(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BJ)


def test_calendar_knows_holidays_and_make_up_days() -> None:
    assert is_workday(dt.date(2026, 2, 13))  # Friday
    assert is_workday(dt.date(2026, 2, 14))  # make-up Saturday
    assert not is_workday(dt.date(2026, 2, 16))  # Spring Festival
    assert not is_workday(dt.date(2026, 2, 23))  # last holiday (a Monday)
    assert is_workday(dt.date(2026, 2, 24))
    assert is_workday(dt.date(2026, 2, 28))  # make-up Saturday
    assert not is_workday(dt.date(2026, 3, 7))  # an ordinary Saturday
    assert CAL.hours_per_day == 7.5


def test_deadline_crosses_the_spring_festival() -> None:
    # Friday 13 Feb 16:30 + 4 working hours: 1 h on Friday, 3 h on the make-up Saturday
    assert CAL.add_working_hours(bj(2026, 2, 13, 16, 30), 4) == bj(2026, 2, 14, 11, 30)
    # Saturday 14 Feb 16:00 + 8 working hours: 1.5 h on Saturday, then the holiday
    # (15–23 Feb) is skipped; 3.5 h + 3 h on Tuesday 24 Feb → 16:30
    assert CAL.add_working_hours(bj(2026, 2, 14, 16, 0), 8) == bj(2026, 2, 24, 16, 30)
    assert CAL.working_hours_between(bj(2026, 2, 14, 16, 0), bj(2026, 2, 24, 16, 30)) == 8


def test_make_up_saturday_counts_and_ordinary_saturday_does_not() -> None:
    # Friday 27 Feb 17:00 + 1 h → Saturday 28 Feb (a make-up day) 09:00
    assert CAL.add_working_hours(bj(2026, 2, 27, 17, 0), 1) == bj(2026, 2, 28, 9, 0)
    # Friday 6 Mar 17:00 + 1 h → Monday 9 Mar 09:00
    assert CAL.add_working_hours(bj(2026, 3, 6, 17, 0), 1) == bj(2026, 3, 9, 9, 0)


def test_lunch_break_and_evenings_do_not_count() -> None:
    assert CAL.add_working_hours(bj(2026, 3, 2, 11, 0), 2) == bj(2026, 3, 2, 14, 30)
    assert CAL.add_working_hours(bj(2026, 3, 2, 20, 0), 0.5) == bj(2026, 3, 3, 9, 0)
    assert CAL.working_hours_between(bj(2026, 3, 2, 12, 0), bj(2026, 3, 2, 13, 30)) == 0


def test_working_days() -> None:
    # 2 working days from Friday 13 Feb: the make-up Saturday, then Tuesday 24 Feb
    assert CAL.add_working_days(bj(2026, 2, 13, 10, 0), 2) == bj(2026, 2, 24, 17, 30)


def test_configurable_periods() -> None:
    cal = WorkCalendar.from_settings("09:00-17:00", "Asia/Shanghai")
    assert cal.add_working_hours(bj(2026, 3, 2, 16, 0), 2) == bj(2026, 3, 3, 10, 0)
    for bad in ("9-17", "17:00-09:00", "08:00-12:00,11:00-13:00", ""):
        with pytest.raises(ValidationFailed):
            parse_periods(bad)
    with pytest.raises(ValidationFailed):
        CAL.add_working_hours(bj(2026, 3, 2, 9, 0), -1)


def test_clock_pauses_while_postponed_and_adds_extensions() -> None:
    def ev(at: dt.datetime, to: str, action: str, **detail: object) -> dict[str, object]:
        return {"at": at, "to_status": to, "action": action, "detail": detail}

    events = [
        ev(bj(2026, 2, 13, 16, 30), "dispatched", "dispatch", limit_hours=4.0),
        ev(bj(2026, 2, 13, 17, 0), "handling", "accept"),
        ev(bj(2026, 2, 13, 17, 15), "handling", "approve_extension", hours=2.0),
        ev(bj(2026, 2, 13, 17, 30), "postponed", "approve_postponement"),
        ev(bj(2026, 2, 24, 9, 30), "handling", "resume"),
    ]
    c = clock(events, None, CAL)
    assert c.limit_hours == 6.0
    assert c.elapsed_hours == 1.0  # Friday 16:30–17:30; the postponement does not count
    assert c.due_at == bj(2026, 2, 24, 16, 0)  # 5 h left from Tuesday 09:30
    done = clock([*events, ev(bj(2026, 2, 24, 16, 0), "handled", "handle")], None, CAL)
    assert done.elapsed_hours == 6.0 and done.on_time and done.running_since is None
    late = clock([*events, ev(bj(2026, 2, 24, 16, 30), "handled", "handle")], None, CAL)
    assert not late.on_time
