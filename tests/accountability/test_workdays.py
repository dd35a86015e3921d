"""Approval times in working days over holidays and make-up working days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from citygrowth.accountability import approvals
from citygrowth.accountability.schemas import ApprovalIn
from citygrowth.auth.actor import system_actor
from citygrowth.workdays import (
    add_working_days,
    is_workday,
    working_days_between,
    working_days_elapsed,
)
from tests.accountability.conftest import setup_district
from tests.factories import STREET_A

SH = ZoneInfo("Asia/Shanghai")

SHANGHAI = "Asia/Shanghai"


def at(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=SH).astimezone(dt.UTC)


def test_golden_week_2025_is_one_working_day_across() -> None:
    # submitted Tue 30 Sep; 1–8 Oct are holidays; approved Thu 9 Oct
    assert working_days_between(dt.date(2025, 9, 30), dt.date(2025, 10, 9)) == 1
    assert [is_workday(dt.date(2025, 10, d)) for d in (1, 3, 8, 9)] == \
        [False, False, False, True]


def test_make_up_working_days_count() -> None:
    # Sun 28 Sep 2025 and Sat 11 Oct 2025 are make-up working days (调休)
    assert is_workday(dt.date(2025, 9, 28)) and is_workday(dt.date(2025, 10, 11))
    assert working_days_between(dt.date(2025, 9, 26), dt.date(2025, 9, 29)) == 2
    assert working_days_between(dt.date(2025, 10, 10), dt.date(2025, 10, 13)) == 2
    # an ordinary weekend does not count
    assert working_days_between(dt.date(2025, 10, 17), dt.date(2025, 10, 20)) == 1


def test_same_day_is_zero_and_adding_skips_the_holiday() -> None:
    assert working_days_between(dt.date(2025, 9, 30), dt.date(2025, 9, 30)) == 0
    assert add_working_days(dt.date(2025, 9, 30), 1) == dt.date(2025, 10, 9)
    assert add_working_days(dt.date(2025, 9, 26), 1) == dt.date(2025, 9, 28)


def test_dates_are_taken_in_shanghai_not_utc() -> None:
    # 00:30 on 9 Oct in Shanghai is still 8 Oct in UTC
    submitted = at(2025, 9, 30)
    approved = dt.datetime(2025, 10, 9, 0, 30, tzinfo=SH)
    assert approved.astimezone(dt.UTC).date() == dt.date(2025, 10, 8)
    assert working_days_elapsed(submitted, approved.astimezone(dt.UTC), SHANGHAI) == 1


def test_recorded_approval_over_golden_week(session: Session) -> None:
    setup_district(session)
    item = approvals.record_approval(session, system_actor(), ApprovalIn(
        code="AP-1", name_zh="海洋科技中心备案", department_code="ndrc", area_code=STREET_A,
        submitted_at=at(2025, 9, 30, 9), approved_at=at(2025, 10, 9, 16), limit_days=1,
        steps=[{"name_zh": "受理", "department_code": "ndrc", "started_at": at(2025, 9, 30, 9),
                "finished_at": at(2025, 9, 30, 11)}]))
    assert approvals.working_days(item, SHANGHAI) == 1
    stats = approvals.approval_stats(session, system_actor(), dt.date(2025, 12, 1), SHANGHAI)
    assert stats["by_month"] == [{"period": "2025-10", "count": 1, "mean_days": 1.0,
                                  "median_days": 1}]


def test_pending_item_beyond_its_limit_is_overdue(sqlite_session: Session) -> None:
    setup_district(sqlite_session)
    approvals.record_approval(sqlite_session, system_actor(), ApprovalIn(
        code="AP-2", name_zh="待批项目", department_code="ndrc", area_code=STREET_A,
        submitted_at=at(2025, 9, 26), limit_days=2))
    stats = lambda day: approvals.approval_stats(  # noqa: E731
        sqlite_session, system_actor(), day, SHANGHAI)
    assert stats(dt.date(2025, 9, 29))["overdue"] == []  # 2 working days (28 Sep counts)
    assert [o["elapsed_days"] for o in stats(dt.date(2025, 9, 30))["overdue"]] == [3]
    # through Golden Week only 9 Oct is added: 28, 29, 30 Sep and 9 Oct
    over = stats(dt.date(2025, 10, 9))["overdue"]
    assert [(o["code"], o["elapsed_days"]) for o in over] == [("AP-2", 4)]
