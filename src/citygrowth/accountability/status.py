"""One target status and one attainment probability, for every surface.

:func:`target_status` is the only place where a target's colour (green, amber, red), its plan
for today, its forecast and its probability of attainment are computed. The target pages, the
department views, the JSON API, the big screen, the briefings, the measures and the exports
all call it; ``docs/accountability.md`` explains the rules with worked examples.

Kinds of target (``Target.kind``):

* ``reach`` — move from ``baseline`` to ``target_value`` by the deadline: rising when the
  target is above the baseline, falling (down to zero included) when it is below;
* ``hold_above`` / ``hold_below`` — keep the value at or above (at or below) ``target_value``
  up to the deadline.

Reach targets are measured in *fractions of the way* (0 = baseline, 1 = target), so a falling
target uses the same rules as a rising one.

Plan by today: straight lines through (start, baseline), every milestone (due date, planned
value) when the plan is ``milestones``, and (deadline, target) — read at today's date.

Attainment probability: the progress reports are a random walk with drift. The drift is the
pace since the start (value reached − baseline, per day); its day-to-day spread σ comes from
the standardised increments between reports, (Δᵢ − drift·dᵢ)/√dᵢ — their interquartile range
÷ 1.349 from four increments on (so one catch-up report does not make the pace look erratic),
their standard deviation below — never below a floor (25 % of the plan's 30-day progress for
reach targets, 1 % of the limit per 30 days for hold targets). From the last report, ``h``
days before the deadline, the value at the deadline is normal with mean ``last + drift·h`` and
variance ``σ²·(h + h²/T)`` (``T`` = days from the start to the last report: the second term is the
uncertainty of the drift itself). The probability is that this value is on the target's side.
It needs two reports after the start date.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from citygrowth.i18n import N_, _

GAP_AMBER = -0.05
GAP_RED = -0.20
PROBABILITY_AMBER = 0.50  # below it: at risk (50 % itself: the pace lands on the target)
PROBABILITY_RED = 0.20  # below it: off track
MIN_REPORTS = 2
IQR_TO_SD = 1.349
ROBUST_FROM = 4
REACH_FLOOR = 0.25  # σ over 30 days ≥ 25 % of the plan's 30-day progress
HOLD_FLOOR = 0.01  # σ over 30 days ≥ 1 % of the limit
KINDS = ("reach", "hold_above", "hold_below")
STATUSES = ("green", "amber", "red")
STATUS_NAMES = {"green": N_("On track"), "amber": N_("At risk"), "red": N_("Off track")}
KIND_NAMES = {"reach": N_("Reach a value"), "hold_above": N_("Stay at or above"),
              "hold_below": N_("Stay at or below")}
L_ACHIEVED = N_("Achieved")
L_MISSED = N_("Missed")

STATUS_RULES = N_("Status rules: a target is at risk when it is 5 points or more behind plan or "
                  "its probability of attainment is below 50%, and off track when it is 20 "
                  "points or more behind plan or its probability is below 20%. A target reached "
                  "is achieved; a deadline passed without it is missed.")
R_ACHIEVED = N_("Target achieved")
R_MISSED = N_("Deadline passed before the target was reached")
R_HELD_END = N_("The value was on the right side of the limit at the deadline")
R_BROKEN_END = N_("The value was on the wrong side of the limit at the deadline")
R_BREACHED = N_("The latest value is on the wrong side of the limit")
R_GAP_RED = N_("20 points or more behind plan")
R_GAP_AMBER = N_("5 points or more behind plan")
R_PROB_RED = N_("Probability of attainment is below 20%")
R_PROB_AMBER = N_("Probability of attainment is below 50%")
P_FEW_REPORTS = N_("The probability needs two progress reports after the start date.")


class MilestoneLike(Protocol):
    @property
    def due_date(self) -> dt.date: ...
    @property
    def planned_value(self) -> float: ...


class ReportLike(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def reported_on(self) -> dt.date: ...
    @property
    def value(self) -> float: ...


class TargetLike(Protocol):
    """What the status needs of a target (``accountability.models.Target`` has it)."""

    @property
    def kind(self) -> str: ...
    @property
    def baseline(self) -> float: ...
    @property
    def target_value(self) -> float: ...
    @property
    def start_date(self) -> dt.date: ...
    @property
    def deadline(self) -> dt.date: ...
    @property
    def plan(self) -> str: ...
    @property
    def milestones(self) -> Sequence[MilestoneLike]: ...
    @property
    def reports(self) -> Sequence[ReportLike]: ...


@dataclass(frozen=True)
class TargetStatus:
    """A target's status on a day. Fractions are of the way from baseline to target (reach);
    for hold targets ``actual`` is 1 while the limit is kept, 0 when it is not."""

    status: str  # green | amber | red
    label: str  # msgid: On track, At risk, Off track, Achieved, Missed
    direction: str  # up | down | hold_above | hold_below
    latest_value: float
    latest_on: dt.date | None
    actual: float
    planned: float
    gap: float
    forecast: float | None  # fraction expected at the deadline (reach targets)
    forecast_value: float | None  # value expected at the deadline
    probability: float | None  # of attainment, 0–1
    probability_note: str | None  # msgid: why there is no probability
    reports: int  # reports counted (on or before the day)
    reasons: tuple[str, ...]
    achieved: bool
    past_deadline: bool

    def as_dict(self) -> dict[str, Any]:
        """Numbers and codes with the label and reasons in the current language."""
        return {
            "status": self.status, "status_name": _(self.label), "direction": self.direction,
            "latest_value": self.latest_value,
            "latest_on": self.latest_on.isoformat() if self.latest_on else None,
            "actual": self.actual, "planned": self.planned, "gap": self.gap,
            "forecast": self.forecast, "forecast_value": self.forecast_value,
            "probability": self.probability,
            "probability_note": _(self.probability_note) if self.probability_note else None,
            "reports": self.reports, "reasons": [_(r) for r in self.reasons],
            "achieved": self.achieved, "past_deadline": self.past_deadline,
        }


def _r(x: float) -> float:
    return round(x, 6)


def is_hold(target: TargetLike) -> bool:
    return target.kind in ("hold_above", "hold_below")


def sign_of(target: TargetLike) -> int:
    """+1 when more is better (rising or hold-above), −1 when less is better."""
    if is_hold(target):
        return 1 if target.kind == "hold_above" else -1
    return 1 if target.target_value >= target.baseline else -1


def direction_of(target: TargetLike) -> str:
    if is_hold(target):
        return target.kind
    return "up" if sign_of(target) > 0 else "down"


def plan_points(target: TargetLike) -> list[tuple[dt.date, float]]:
    """The corners of the plan line: start, milestones (``milestones`` plan), deadline; a hold
    target's plan is its limit throughout."""
    if is_hold(target):
        limit = float(target.target_value)
        return [(target.start_date, limit), (target.deadline, limit)]
    points = [(target.start_date, float(target.baseline))]
    if target.plan == "milestones":
        for m in sorted(target.milestones, key=lambda m: m.due_date):
            if target.start_date < m.due_date < target.deadline:
                points.append((m.due_date, float(m.planned_value)))
    points.append((target.deadline, float(target.target_value)))
    return points


def planned_value_at(target: TargetLike, day: dt.date) -> float:
    """The value the plan expects on ``day`` (linear, or through the milestones)."""
    points = plan_points(target)
    if day <= points[0][0]:
        return points[0][1]
    for (d0, v0), (d1, v1) in zip(points, points[1:], strict=False):
        if day <= d1:
            span = (d1 - d0).days
            return v1 if span == 0 else v0 + (v1 - v0) * (day - d0).days / span
    return points[-1][1]


def progress_points(target: TargetLike, day: dt.date) -> list[tuple[dt.date, float]]:
    """(start, baseline) and one point per report date up to ``day`` (the last report of a date
    wins; a report on the start date replaces the baseline)."""
    by_date: dict[dt.date, float] = {target.start_date: float(target.baseline)}
    reports = sorted((r for r in target.reports if target.start_date <= r.reported_on <= day),
                     key=lambda r: (r.reported_on, r.id or 0))
    for r in reports:
        by_date[r.reported_on] = float(r.value)
    return sorted(by_date.items())


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@dataclass(frozen=True)
class Outlook:
    """The value expected at the deadline and the probability of being on the right side."""

    mean: float
    sd: float
    probability: float


def outlook(points: Sequence[tuple[dt.date, float]], deadline: dt.date, goal: float, sign: int,
            floor_30: float) -> Outlook | None:
    """Random walk with drift through ``points`` (the first is the start), judged at the
    deadline against ``goal`` (``sign`` +1: at least the goal; −1: at most). ``floor_30`` is the
    least spread over 30 days. None with fewer than two points after the start."""
    if len(points) < MIN_REPORTS + 1:
        return None
    (t0, v0), (tl, vl) = points[0], points[-1]
    span = (tl - t0).days
    h = (deadline - tl).days
    if h <= 0:
        return Outlook(vl, 0.0, 1.0 if sign * (vl - goal) >= 0 else 0.0)
    drift = (vl - v0) / span
    z = [((b - a) - drift * (db - da).days) / math.sqrt((db - da).days)
         for (da, a), (db, b) in zip(points, points[1:], strict=False)]
    sigma = max(spread(z), abs(floor_30) / math.sqrt(30))
    mean = vl + drift * h
    sd = sigma * math.sqrt(h + h * h / span)
    if sd <= 0:
        return Outlook(mean, 0.0, 1.0 if sign * (mean - goal) >= 0 else 0.0)
    return Outlook(mean, sd, normal_cdf(sign * (mean - goal) / sd))


def spread(z: Sequence[float]) -> float:
    """The spread of standardised increments: IQR ÷ 1.349 from four on (robust to one
    catch-up report), the sample standard deviation below."""
    if len(z) >= ROBUST_FROM:
        q1, _q2, q3 = statistics.quantiles(z, n=4, method="inclusive")
        return (q3 - q1) / IQR_TO_SD
    return statistics.stdev(z) if len(z) > 1 else 0.0


def _floor_30(target: TargetLike) -> float:
    if is_hold(target):
        return HOLD_FLOOR * max(abs(target.target_value), abs(target.baseline))
    days = max((target.deadline - target.start_date).days, 1)
    return REACH_FLOOR * abs(target.target_value - target.baseline) * 30 / days


def target_status(target: TargetLike, today: dt.date) -> TargetStatus:
    """The status of ``target`` on ``today`` (the district's local date): the one rule."""
    points = progress_points(target, today)
    dated = [r.reported_on for r in target.reports
             if target.start_date <= r.reported_on <= today]
    latest_on = max(dated) if dated else None
    count = len(set(dated))
    value = points[-1][1]
    sign = sign_of(target)
    past = today > target.deadline
    look = outlook(points, target.deadline, float(target.target_value), sign,
                   _floor_30(target))
    prob = None if look is None else _r(look.probability)
    note = P_FEW_REPORTS if look is None else None
    fc_value = None if look is None else _r(look.mean)
    if is_hold(target):
        return _hold(target, points, value, latest_on, count, past, prob, note, fc_value)
    span = abs(target.target_value - target.baseline)
    if span == 0:
        a = 1.0 if sign * (value - target.target_value) >= 0 else 0.0
        p, fc = 1.0, None
    else:
        a = _r(sign * (value - target.baseline) / span)
        p = _r(sign * (planned_value_at(target, today) - target.baseline) / span)
        fc = None if fc_value is None else _r(sign * (fc_value - target.baseline) / span)
    gap = _r(a - p)
    reasons: tuple[str, ...]
    if a >= 1:
        colour, label, reasons = "green", L_ACHIEVED, (R_ACHIEVED,)
    elif past:
        colour, label, reasons = "red", L_MISSED, (R_MISSED,)
    else:
        colour, reasons = _classify(gap, prob)
        label = STATUS_NAMES[colour]
    return TargetStatus(colour, label, direction_of(target), value, latest_on, a, p, gap, fc,
                        fc_value, prob, note, count, reasons, a >= 1, past)


def _hold(target: TargetLike, points: list[tuple[dt.date, float]], value: float,
          latest_on: dt.date | None, count: int, past: bool, prob: float | None,
          note: str | None, fc_value: float | None) -> TargetStatus:
    limit, sign = float(target.target_value), sign_of(target)
    reasons: tuple[str, ...]
    if past:
        at_end = [v for d, v in points if d <= target.deadline][-1]
        kept = sign * (at_end - limit) >= 0
        colour, reasons = ("green", (R_HELD_END,)) if kept else ("red", (R_BROKEN_END,))
        label = L_ACHIEVED if kept else L_MISSED
        held = kept
    else:
        held = sign * (value - limit) >= 0
        if not held:
            colour, reasons = "red", (R_BREACHED,)
        else:
            colour, reasons = _classify(0.0, prob)
        label = STATUS_NAMES[colour]
    a = 1.0 if held else 0.0
    return TargetStatus(colour, label, target.kind, value, latest_on, a, 1.0, _r(a - 1.0), None,
                        fc_value, prob, note, count, reasons, past and held, past)


def _classify(gap: float, prob: float | None) -> tuple[str, tuple[str, ...]]:
    for colour, gap_t, prob_t, reasons in (
        ("red", GAP_RED, PROBABILITY_RED, (R_GAP_RED, R_PROB_RED)),
        ("amber", GAP_AMBER, PROBABILITY_AMBER, (R_GAP_AMBER, R_PROB_AMBER)),
    ):
        found = []
        if gap <= gap_t:
            found.append(reasons[0])
        if prob is not None and prob < prob_t:
            found.append(reasons[1])
        if found:
            return colour, tuple(found)
    return "green", ()
