"""Target status: green, amber or red — from progress against plan and a forecast.

Definitions (all in *fractions of the whole target*, so 0 is the baseline and 1 the target):

* **actual** ``a`` = (latest reported value on or before today − baseline) / (target − baseline).
  With no report yet the latest value is the baseline (``a = 0``).
* **planned** ``p`` = where the plan says the target should be today. ``linear``: the share of
  the days from start to deadline that have passed. ``milestones``: straight lines through
  (start, baseline), each milestone (due date, planned value) and (deadline, target).
* **gap** = ``a − p`` (negative = behind plan).
* **forecast** ``f`` = the fraction expected at the deadline: the latest value plus the trend
  (least-squares slope per day over the baseline at the start date and every report) times the
  days left. No forecast exists before the first report or on the start date.
* **odds** (optional, from ``citygrowth.analysis``) = probability of attainment; when given it
  replaces the trend forecast.

Rules, first match wins; a value exactly on a threshold takes the worse colour:

1. ``a ≥ 1`` → green (achieved).
2. past the deadline and ``a < 1`` → red (missed).
3. red   when ``gap ≤ −0.20``, or ``f ≤ 0.80`` (or ``odds ≤ 0.50``).
4. amber when ``gap ≤ −0.05``, or ``f ≤ 0.95`` (or ``odds ≤ 0.80``).
5. green otherwise.

Fractions are rounded to 6 decimals before comparison, so 45 of 100 against a plan of 50 is a
gap of exactly −0.05.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from citygrowth.i18n import N_

GAP_AMBER = -0.05
GAP_RED = -0.20
FORECAST_AMBER = 0.95
FORECAST_RED = 0.80
ODDS_AMBER = 0.80
ODDS_RED = 0.50
STATUSES = ("green", "amber", "red")
STATUS_NAMES = {"green": N_("On track"), "amber": N_("At risk"), "red": N_("Off track")}

STATUS_RULES = N_("Status rules: 5 points or more behind plan, or a forecast of 95% or less, is "
                  "at risk; 20 points or more behind plan, or a forecast of 80% or less, is off "
                  "track.")
R_ACHIEVED = N_("Target achieved")
R_MISSED = N_("Deadline passed before the target was reached")
R_GAP_RED = N_("20 points or more behind plan")
R_GAP_AMBER = N_("5 points or more behind plan")
R_FC_RED = N_("Forecast at the deadline is 80% of the target or less")
R_FC_AMBER = N_("Forecast at the deadline is 95% of the target or less")
R_ODDS_RED = N_("Probability of attainment is 50% or less")
R_ODDS_AMBER = N_("Probability of attainment is 80% or less")


@dataclass(frozen=True)
class TargetStatus:
    status: str
    actual: float
    planned: float
    gap: float
    forecast: float | None
    odds: float | None
    latest_value: float
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "actual": self.actual, "planned": self.planned,
            "gap": self.gap, "forecast": self.forecast, "odds": self.odds,
            "latest_value": self.latest_value, "reasons": list(self.reasons),
        }


def _r(x: float) -> float:
    return round(x, 6)


def _fraction(target: Any, value: float) -> float:
    span = target.target_value - target.baseline
    if span == 0:
        return 1.0 if value == target.target_value else 0.0
    return float((value - target.baseline) / span)


def _plan_points(target: Any) -> list[tuple[dt.date, float]]:
    points = [(target.start_date, float(target.baseline))]
    if target.plan == "milestones":
        for m in sorted(target.milestones, key=lambda m: m.due_date):
            if target.start_date < m.due_date < target.deadline:
                points.append((m.due_date, float(m.planned_value)))
    points.append((target.deadline, float(target.target_value)))
    return points


def planned_value_at(target: Any, day: dt.date) -> float:
    """The value the plan expects on ``day`` (linear, or through the milestones)."""
    points = _plan_points(target)
    if day <= points[0][0]:
        return points[0][1]
    for (d0, v0), (d1, v1) in zip(points, points[1:], strict=False):
        if day <= d1:
            span = (d1 - d0).days
            return v1 if span == 0 else v0 + (v1 - v0) * (day - d0).days / span
    return points[-1][1]


def reports_until(target: Any, day: dt.date) -> list[Any]:
    return sorted(
        (r for r in target.reports if r.reported_on <= day),
        key=lambda r: (r.reported_on, r.id or 0),
    )


def latest_value(target: Any, day: dt.date) -> float:
    reports = reports_until(target, day)
    return float(reports[-1].value) if reports else float(target.baseline)


def trend_per_day(target: Any, reports: Sequence[Any]) -> float | None:
    """Least-squares slope (value per day) through the baseline at start and every report."""
    pts = [(0.0, float(target.baseline))]
    pts += [(float((r.reported_on - target.start_date).days), float(r.value)) for r in reports]
    if len(pts) < 2:
        return None
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in pts) / sxx


def forecast_fraction(target: Any, today: dt.date) -> float | None:
    """Fraction of the target expected at the deadline at the current trend (None: no trend)."""
    reports = reports_until(target, today)
    if not reports:
        return None
    last = reports[-1]
    if today >= target.deadline:
        return _fraction(target, float(last.value))
    slope = trend_per_day(target, reports)
    if slope is None:
        return None
    value = float(last.value) + slope * (target.deadline - last.reported_on).days
    return _fraction(target, value)


def status_of(target: Any, today: dt.date, odds: float | None = None) -> TargetStatus:
    """Status of ``target`` on ``today``; ``odds`` (0–1) replaces the trend forecast if given."""
    value = latest_value(target, today)
    a = _r(_fraction(target, value))
    p = _r(_fraction(target, planned_value_at(target, today)))
    gap = _r(a - p)
    fc = forecast_fraction(target, today)
    f = None if fc is None else _r(fc)
    status, reasons = _classify(a, gap, f, odds, today > target.deadline)
    return TargetStatus(status, a, p, gap, f, odds, value, reasons)


def _classify(
    a: float, gap: float, f: float | None, odds: float | None, past: bool
) -> tuple[str, list[str]]:
    if a >= 1:
        return "green", [R_ACHIEVED]
    if past:
        return "red", [R_MISSED]
    for colour, gap_t, fc_t, odds_t, reasons in (
        ("red", GAP_RED, FORECAST_RED, ODDS_RED, (R_GAP_RED, R_FC_RED, R_ODDS_RED)),
        ("amber", GAP_AMBER, FORECAST_AMBER, ODDS_AMBER,
         (R_GAP_AMBER, R_FC_AMBER, R_ODDS_AMBER)),
    ):
        found = []
        if gap <= gap_t:
            found.append(reasons[0])
        if odds is not None:
            if odds <= odds_t:
                found.append(reasons[2])
        elif f is not None and f <= fc_t:
            found.append(reasons[1])
        if found:
            return colour, found
    return "green", []
