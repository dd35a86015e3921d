"""Target status at its exact boundaries (see citygrowth.accountability.status)."""

from __future__ import annotations

import datetime as dt

import pytest

from citygrowth.accountability.models import Milestone, ProgressReport, Target
from citygrowth.accountability.status import planned_value_at, status_of

START = dt.date(2025, 1, 1)
DEADLINE = START + dt.timedelta(days=200)
MID = START + dt.timedelta(days=100)  # half the time gone: linear plan expects 50


def target(*reports: tuple[dt.date, float], baseline: float = 0.0, goal: float = 100.0,
           milestones: tuple[tuple[dt.date, float], ...] = ()) -> Target:
    t = Target(code="T", name_zh="测试", baseline=baseline, target_value=goal, start_date=START,
               deadline=DEADLINE, plan="milestones" if milestones else "linear",
               department_code="urban", area_code="370203")
    t.reports = [ProgressReport(id=i + 1, reported_on=d, value=v)
                 for i, (d, v) in enumerate(reports)]
    t.milestones = [Milestone(due_date=d, planned_value=v, title_zh="m") for d, v in milestones]
    return t


@pytest.mark.parametrize(("value", "expected"), [
    (45.0, "amber"),      # gap exactly -0.05: on the amber threshold → amber
    (45.0000001, "amber"),  # 6-decimal rounding: still on the line
    (46.0, "green"),
    (30.0, "red"),        # gap exactly -0.20 → red
    (31.0, "amber"),
])
def test_gap_thresholds_with_good_odds(value: float, expected: str) -> None:
    # odds above both odds thresholds isolate the gap rule
    assert status_of(target((MID, value)), MID, odds=0.9).status == expected


def test_forecast_exactly_95_percent_is_amber_and_just_above_is_green() -> None:
    # one report at mid-term: trend = value/100 per day, forecast = 2 × value
    on_line = status_of(target((MID, 47.5)), MID)
    assert (on_line.gap, on_line.forecast, on_line.status) == (-0.025, 0.95, "amber")
    above = status_of(target((MID, 47.6)), MID)
    assert above.forecast == 0.952 and above.status == "green"


def test_forecast_exactly_80_percent_is_red() -> None:
    st = status_of(target((MID, 40.0)), MID)
    assert st.forecast == 0.8 and st.status == "red"
    assert "Forecast at the deadline is 80% of the target or less" in st.reasons


def test_odds_thresholds_replace_the_forecast() -> None:
    t = target((MID, 47.5))  # forecast 0.95 would say amber
    assert status_of(t, MID, odds=0.81).status == "green"
    assert status_of(t, MID, odds=0.80).status == "amber"
    assert status_of(t, MID, odds=0.50).status == "red"
    assert status_of(t, MID, odds=0.51).status == "amber"


def test_achieved_is_green_and_missed_deadline_is_red() -> None:
    assert status_of(target((MID, 100.0)), MID).status == "green"
    late = DEADLINE + dt.timedelta(days=1)
    st = status_of(target((DEADLINE, 99.0)), late)
    assert st.status == "red" and st.reasons == ["Deadline passed before the target was reached"]


def test_no_report_counts_as_no_progress() -> None:
    st = status_of(target(), START + dt.timedelta(days=10))  # plan 5 %, actual 0
    assert (st.gap, st.forecast, st.status) == (-0.05, None, "amber")
    assert status_of(target(), START + dt.timedelta(days=9)).status == "green"


def test_decreasing_target_uses_the_same_fractions() -> None:
    # waiting households 49,000 → 0: at mid-term 26,950 left is 45 % done
    t = target((MID, 26950.0), baseline=49000.0, goal=0.0)
    st = status_of(t, MID, odds=0.9)
    assert (st.actual, st.gap, st.status) == (0.45, -0.05, "amber")


def test_milestone_plan_interpolates_between_milestones() -> None:
    t = target(milestones=((MID, 20.0),))
    assert planned_value_at(t, MID) == 20.0
    assert planned_value_at(t, START + dt.timedelta(days=50)) == 10.0
    assert planned_value_at(t, START + dt.timedelta(days=150)) == 60.0
    # 15 reached against 20 planned: gap exactly -0.05 → amber
    assert status_of(target((MID, 15.0), milestones=((MID, 20.0),)), MID, odds=0.9).status \
        == "amber"
    assert status_of(target((MID, 16.0), milestones=((MID, 20.0),)), MID, odds=0.9).status \
        == "green"
