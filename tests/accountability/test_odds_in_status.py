"""The analysis domain's probability of attainment feeds a target's status."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from citygrowth.accountability.schemas import ProgressIn
from citygrowth.accountability.targets import report_progress, target_detail
from citygrowth.auth.actor import system_actor
from citygrowth.settings import Settings
from tests.accountability.conftest import school_target, setup_district


def _reports(session: Session, target_id: int, values: list[float]) -> None:
    for month, value in enumerate(values, start=1):
        report_progress(session, system_actor(), target_id,
                        ProgressIn(reported_on=dt.date(2025, month, 28), value=value))


def test_slow_progress_gets_low_odds_and_a_worse_status(sqlite_session: Session,
                                                       settings: Settings) -> None:
    setup_district(sqlite_session)
    slow = school_target(sqlite_session, code="T-SLOW")
    fast = school_target(sqlite_session, code="T-FAST")
    _reports(sqlite_session, slow.id, [0.2 * m for m in range(1, 11)])
    _reports(sqlite_session, fast.id, [0.9 * m for m in range(1, 11)])
    today = dt.date(2025, 11, 1)
    d_slow = target_detail(sqlite_session, system_actor(), slow.id, today, settings)
    d_fast = target_detail(sqlite_session, system_actor(), fast.id, today, settings)
    assert d_slow["odds"] is not None and d_fast["odds"] is not None
    assert d_slow["odds"] < d_fast["odds"]
    assert d_slow["odds"] <= 0.5 and d_slow["status"] == "red"
    # without settings no forecast is made: the status rests on the trend alone
    assert target_detail(sqlite_session, system_actor(), slow.id, today)["odds"] is None
