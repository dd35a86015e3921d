"""The one target status (citygrowth.accountability.status.target_status), by hand.

Every expected number below is worked out in the comment next to it, following the rules of
docs/accountability.md: fractions of the way, the plan line through the milestones, the random
walk with drift through the reports and its floor.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from citygrowth.accountability.models import Milestone, ProgressReport, Target
from citygrowth.accountability.status import outlook, planned_value_at, target_status

START = dt.date(2025, 1, 1)
DEADLINE = START + dt.timedelta(days=200)
DAY = {n: START + dt.timedelta(days=n) for n in (25, 50, 75, 100, 150, 200, 201)}
MID = DAY[100]  # half the time gone: a linear plan expects half the way


def target(*reports: tuple[dt.date, float], baseline: float = 0.0, goal: float = 100.0,
           milestones: tuple[tuple[dt.date, float], ...] = (), kind: str = "reach",
           start: dt.date = START, deadline: dt.date = DEADLINE) -> Target:
    t = Target(code="T", name_zh="测试", baseline=baseline, target_value=goal, start_date=start,
               deadline=deadline, plan="milestones" if milestones else "linear", kind=kind,
               department_code="urban", area_code="370203")
    t.reports = [ProgressReport(id=i + 1, reported_on=d, value=v)
                 for i, (d, v) in enumerate(reports)]
    t.milestones = [Milestone(due_date=d, planned_value=v, title_zh="m") for d, v in milestones]
    return t


# floor of a 0 → 100 target over 200 days: 25 % of 100·30/200 = 3.75 per 30 days
FLOOR = 3.75 / math.sqrt(30)  # 0.684653 per √day
SQRT200 = math.sqrt(100 + 100 ** 2 / 100)  # h = 100 days left, T = 100 days observed


@pytest.mark.parametrize(("value", "expected"), [
    (45.0, "amber"),      # gap exactly −0.05: on the amber threshold → amber
    (45.0000001, "amber"),  # fractions are rounded to 6 decimals: still on the line
    (46.0, "green"),
    (30.0, "red"),        # gap exactly −0.20 → red
    (31.0, "amber"),
])
def test_gap_thresholds_before_a_probability_exists(value: float, expected: str) -> None:
    # one report only: no probability yet, the gap alone decides
    st = target_status(target((MID, value)), MID)
    assert st.probability is None and st.probability_note is not None
    assert st.status == expected


def test_probability_from_two_reports_by_hand() -> None:
    # points (0, 0), (50, 40), (100, 55): drift 55/100 = 0.55 a day
    # z = ((40 − 27.5)/√50, (15 − 27.5)/√50) = (1.767767, −1.767767); sample sd 2.5 > floor
    # mean at the deadline 55 + 0.55·100 = 110; sd 2.5·√(100 + 100²/100) = 35.355339
    # P = Φ((110 − 100)/35.355339) = Φ(0.282843) = 0.611352
    st = target_status(target((DAY[50], 40.0), (MID, 55.0)), MID)
    assert st.forecast_value == pytest.approx(110.0)
    assert st.forecast == pytest.approx(1.1)
    assert st.probability == pytest.approx(0.611352, abs=2e-6)
    assert (st.gap, st.status, st.reasons) == (0.05, "green", ())


def test_the_floor_applies_when_reports_are_steady() -> None:
    # z = ((30 − 27.5)/√50, (25 − 27.5)/√50) = ±0.353553: sd 0.5 < floor 0.684653
    # sd at the deadline 0.684653·√200 = 9.682458; P = Φ(10/9.682458) = Φ(1.032796) = 0.849150
    st = target_status(target((DAY[50], 30.0), (MID, 55.0)), MID)
    assert st.probability == pytest.approx(0.849150, abs=2e-6)
    assert FLOOR * SQRT200 == pytest.approx(9.682458, abs=2e-6)


def test_exactly_on_plan_is_an_even_chance_and_on_track() -> None:
    # 25 at day 50, 50 at day 100: no spread (floor), mean exactly 100 → P = 0.5 → green
    st = target_status(target((DAY[50], 25.0), (MID, 50.0)), MID)
    assert (st.gap, st.probability, st.status) == (0.0, 0.5, "green")


def test_probability_below_one_half_is_at_risk() -> None:
    # (0,0) (50,35) (100,48): drift 0.48; z = ±11/√50 = ±1.555635; sd 2.2
    # mean 96, sd 2.2·√200 = 31.112698, P = Φ(−4/31.112698) = Φ(−0.128565) = 0.448851
    st = target_status(target((DAY[50], 35.0), (MID, 48.0)), MID)
    assert st.probability == pytest.approx(0.448851, abs=2e-6)
    assert st.gap == -0.02  # not behind enough for the gap rule
    assert (st.status, st.reasons) == ("amber", ("Probability of attainment is below 50%",))


def test_probability_below_one_fifth_is_off_track() -> None:
    # (0,0) (50,25) (100,40): drift 0.4; z = ±5/√50 = ±0.707107; sd 1.0 > floor
    # mean 80, sd √200 = 14.142136, P = Φ(−1.414214) = 0.078650 → red; gap −0.10 (amber)
    st = target_status(target((DAY[50], 25.0), (MID, 40.0)), MID)
    assert st.probability == pytest.approx(0.078650, abs=2e-6)
    assert (st.gap, st.status) == (-0.1, "red")
    assert st.reasons == ("Probability of attainment is below 20%",)


def test_four_increments_use_the_interquartile_range() -> None:
    # reports every 25 days: 10, 25, 35, 55 → drift 0.55, expected step 13.75
    # z = (−3.75, 1.25, −3.75, 6.25)/5 = (−0.75, 0.25, −0.75, 1.25)
    # inclusive quartiles of (−.75, −.75, .25, 1.25): Q1 −0.75, Q3 0.5 → σ = 1.25/1.349
    # mean 110, sd 0.926612·√200 = 13.104335, P = Φ(0.763106) = 0.777300
    st = target_status(target((DAY[25], 10.0), (DAY[50], 25.0), (DAY[75], 35.0), (MID, 55.0)),
                       MID)
    assert st.probability == pytest.approx(0.777300, abs=2e-6)


def test_one_catch_up_report_does_not_make_the_pace_look_erratic() -> None:
    # T-CHOKE of the issue: 23 choke points this year, monthly reports reaching 14 by
    # 25 November, then 22 reported on 5 December (95.7 % done, 92.9 % planned)
    start, deadline, today = dt.date(2026, 1, 1), dt.date(2026, 12, 31), dt.date(2026, 12, 5)
    monthly = [1, 2, 3, 5, 6, 7, 9, 10, 11, 12, 14]
    reports = [(dt.date(2026, m, 25), float(v)) for m, v in enumerate(monthly, start=1)]
    t = target(*reports, (today, 22.0), goal=23.0, start=start, deadline=deadline)
    st = target_status(t, today)
    assert (round(st.actual * 100, 1), round(st.planned * 100, 1)) == (95.7, 92.9)
    # pace 22/338 a day for the 26 days left: 23.69 expected; a Poisson count at that rate
    # would bring the missing one with probability 1 − e^(−1.69) ≈ 0.82
    assert st.forecast_value == pytest.approx(22 + 22 / 338 * 26, abs=2e-6)
    assert 0.8 < st.probability < 0.9  # type: ignore[operator]
    assert st.status == "green" and st.label == "On track"
    before = target_status(target(*reports, goal=23.0, start=start, deadline=deadline),
                           dt.date(2026, 11, 30))
    assert before.status == "red"  # 14 of 23 at the end of November was far behind


def test_falling_targets_mirror_rising_ones() -> None:
    # 100 → 0 with 60 at day 50 and 45 at day 100 is (40, 55) of a rising target, mirrored
    down = target_status(target((DAY[50], 60.0), (MID, 45.0), baseline=100.0, goal=0.0), MID)
    up = target_status(target((DAY[50], 40.0), (MID, 55.0)), MID)
    assert down.direction == "down" and up.direction == "up"
    assert (down.actual, down.planned, down.gap, down.status) == (0.55, 0.5, 0.05, "green")
    assert down.probability == pytest.approx(up.probability)  # type: ignore[arg-type]
    assert down.forecast_value == pytest.approx(-10.0)  # 45 − 0.55·100: cleared early


def test_shantytown_households_falling_to_zero() -> None:
    # 49,000 waiting households cleared in five years; 10,000 cleared in the first 11 months
    start, deadline, today = dt.date(2026, 1, 1), dt.date(2030, 12, 31), dt.date(2026, 12, 5)
    reports = [(dt.date(2026, m, 25), 49000.0 - 10000 * (m * 30.4 - 6) / 328)
               for m in range(1, 11)] + [(dt.date(2026, 11, 25), 39000.0)]
    st = target_status(target(*reports, baseline=49000.0, goal=0.0, start=start,
                              deadline=deadline), today)
    assert st.direction == "down" and st.latest_value == 39000.0
    # 10,000 of 49,000 = 20.4 % of the way against 18.5 % planned; the pace (30.5 a day)
    # beats the 21.2 a day still needed, so zero is reached before the deadline
    assert (round(st.actual * 100, 1), round(st.planned * 100, 1)) == (20.4, 18.5)
    assert st.probability is not None and st.probability > 0.9
    assert st.status == "green"
    # the same target with only 3,000 cleared is behind, and its chance of zero is small
    slow = [(d, 49000.0 - (49000.0 - v) * 0.3) for d, v in reports]
    st = target_status(target(*slow, baseline=49000.0, goal=0.0, start=start,
                              deadline=deadline), today)
    assert st.status == "red" and st.probability is not None and st.probability < 0.2


def test_achieved_is_green_and_missed_deadline_is_red() -> None:
    st = target_status(target((MID, 100.0)), MID)
    assert (st.status, st.label, st.achieved) == ("green", "Achieved", True)
    st = target_status(target((DEADLINE, 99.0)), DAY[201])
    assert (st.status, st.label) == ("red", "Missed")
    assert st.reasons == ("Deadline passed before the target was reached",)


def test_no_report_counts_as_no_progress() -> None:
    st = target_status(target(), START + dt.timedelta(days=10))  # plan 5 %, actual 0
    assert (st.gap, st.forecast, st.latest_on, st.status) == (-0.05, None, None, "amber")
    assert target_status(target(), START + dt.timedelta(days=9)).status == "green"


def test_reports_after_today_are_not_counted() -> None:
    t = target((DAY[50], 25.0), (DAY[150], 90.0))
    st = target_status(t, MID)
    assert (st.latest_value, st.reports, st.probability) == (25.0, 1, None)


def test_milestone_plan_interpolates_between_milestones() -> None:
    t = target(milestones=((MID, 20.0),))
    assert planned_value_at(t, MID) == 20.0
    assert planned_value_at(t, DAY[50]) == 10.0
    assert planned_value_at(t, DAY[150]) == 60.0  # 20 → 100 over the second half
    # 15 reached against 20 planned: gap exactly −0.05 → amber
    assert target_status(target((MID, 15.0), milestones=((MID, 20.0),)), MID).status == "amber"
    assert target_status(target((MID, 16.0), milestones=((MID, 20.0),)), MID).status == "green"


def test_hold_above_by_hand() -> None:
    # keep ≥ 60 (family-doctor coverage): 61 at the start, 61.5 at day 50, 61 at day 100
    # drift 0; z = ±0.5/√50 = ±0.070711, sd 0.1 < floor 1 % × 61 / √30 = 0.111370
    # mean 61, sd 0.111370·√200 = 1.575013, P = Φ(1/1.575013) = Φ(0.634915) = 0.737258
    t = target((DAY[50], 61.5), (MID, 61.0), baseline=61.0, goal=60.0, kind="hold_above")
    st = target_status(t, MID)
    assert st.direction == "hold_above" and (st.actual, st.planned, st.gap) == (1.0, 1.0, 0.0)
    assert st.probability == pytest.approx(0.737258, abs=2e-6)
    assert st.status == "green"
    assert planned_value_at(t, MID) == 60.0


def test_hold_breached_is_red_and_judged_at_the_deadline_afterwards() -> None:
    t = target((DAY[50], 61.0), (MID, 59.9), baseline=61.0, goal=60.0, kind="hold_above")
    st = target_status(t, MID)
    assert (st.status, st.actual, st.reasons) == (
        "red", 0.0, ("The latest value is on the wrong side of the limit",))
    below = target((DAY[50], 4.0), (DEADLINE, 5.4), baseline=4.2, goal=5.5, kind="hold_below")
    st = target_status(below, DAY[201])
    assert (st.status, st.label, st.achieved) == ("green", "Achieved", True)


def test_a_harder_target_never_gets_better_odds() -> None:
    reports = ((DAY[50], 40.0), (MID, 55.0))
    odds = [target_status(target(*reports, goal=g), MID).probability for g in range(60, 261, 10)]
    assert all(a is not None and b is not None and a >= b
               for a, b in zip(odds, odds[1:], strict=False))
    assert odds[0] > 0.9 and odds[-1] < 0.01  # type: ignore[operator]


def test_outlook_on_the_deadline_is_certain() -> None:
    pts = [(START, 0.0), (DAY[100], 50.0), (DEADLINE, 99.0)]
    out = outlook(pts, DEADLINE, 100.0, 1, 1.0)
    assert out is not None and (out.mean, out.probability) == (99.0, 0.0)
