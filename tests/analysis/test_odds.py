"""Target odds are the one target status's probability (accountability.status)."""

from __future__ import annotations

import datetime as dt

from citygrowth.accountability.models import ProgressReport, Target
from citygrowth.accountability.status import target_status
from citygrowth.analysis.odds import target_odds

START, DEADLINE, TODAY = dt.date(2026, 1, 1), dt.date(2026, 12, 31), dt.date(2026, 7, 1)


def _target(baseline: float, goal: float, values: list[float]) -> Target:
    t = Target(code="T", name_zh="测试", baseline=baseline, target_value=goal, kind="reach",
               start_date=START, deadline=DEADLINE, plan="linear", department_code="urban",
               area_code="370203")
    t.reports = [ProgressReport(id=i + 1, reported_on=dt.date(2026, i + 2, 1), value=v)
                 for i, v in enumerate(values)]
    t.milestones = []
    return t


def test_odds_are_the_status_probability() -> None:
    t = _target(0, 100, [8, 17, 24, 33, 41])
    odds, detail = target_odds(t, TODAY)
    st = target_status(t, TODAY)
    assert odds == st.probability and detail["status"] == st.status
    assert detail["odds_available"] and detail["direction"] == "up"


def test_falling_target_odds_mirror_rising_ones() -> None:
    up, _ = target_odds(_target(0, 100, [8, 17, 24, 33, 41]), TODAY)
    down, detail = target_odds(_target(100, 0, [92, 83, 76, 67, 59]), TODAY)
    assert down == up and detail["direction"] == "down"


def test_no_odds_before_two_reports() -> None:
    odds, detail = target_odds(_target(0, 100, [8]), TODAY)
    assert odds is None and not detail["odds_available"]
