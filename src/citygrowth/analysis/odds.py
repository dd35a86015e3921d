"""Target odds: the probability that a series reaches a target value by a deadline period.

The series is forecast (see :mod:`.forecast`) up to the deadline; the forecast's predictive
distribution at the deadline is taken as normal with the forecast's mean and standard
deviation, and the probability is ``P(Y ≥ target)`` for targets to rise to (``direction="up"``)
or ``P(Y ≤ target)`` for targets to fall to (``"down"``). Because the distribution does not
depend on the target, a harder target can only get lower odds.

A deadline already inside the observed data is judged on the observed value (1 or 0). When the
predictive spread is zero (a perfectly flat series) the answer is 1 or 0 as the point forecast
meets the target or not.
"""

from __future__ import annotations

import math

import pandas as pd

from citygrowth.analysis.forecast import MAX_HORIZON, Forecast, forecast_series
from citygrowth.analysis.series import periods_between, regularise
from citygrowth.errors import ValidationFailed
from citygrowth.periods import Period

UP = ("up", "increase", "higher", ">=", "at_least", "1", "+")
DOWN = ("down", "decrease", "lower", "<=", "at_most", "-1", "-")


def _sign(direction: str | int) -> int:
    d = str(direction).strip().lower()
    if d in UP:
        return 1
    if d in DOWN:
        return -1
    raise ValidationFailed(
        "Unknown target direction '{direction}' (use up or down).", code="bad_direction",
        direction=d,
    )


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def odds_from(mean: float, sd: float, target_value: float, sign: int) -> float:
    """P(Y ≥ target) (sign +1) or P(Y ≤ target) (sign −1) for Y ~ N(mean, sd²)."""
    if not (sd > 0 and math.isfinite(sd)):
        return 1.0 if sign * (mean - target_value) >= 0 else 0.0
    z = (mean - target_value) / sd
    return normal_cdf(sign * z)


def deadline_forecast(series: pd.Series, deadline_period: str) -> tuple[Forecast | None, int]:
    """The forecast reaching the deadline and the deadline's step (0 when observed already)."""
    s = regularise(series)
    if s.empty:
        raise ValidationFailed("There are no observations to forecast.", code="no_data")
    last = str(s.index[-1])
    deadline = Period.parse(deadline_period)
    steps = periods_between(last, str(deadline))
    if steps <= 0:
        return None, 0
    if steps > MAX_HORIZON:
        raise ValidationFailed(
            "The deadline {deadline} is more than {max} periods after the last observation.",
            code="deadline_too_far", deadline=str(deadline), max=MAX_HORIZON,
        )
    return forecast_series(s, steps), steps


def target_odds(
    series: pd.Series, target_value: float, deadline_period: str, direction: str | int = "up"
) -> float:
    """Probability (0–1) that ``series`` reaches ``target_value`` by ``deadline_period``."""
    sign = _sign(direction)
    s = regularise(series)
    fc, steps = deadline_forecast(s, deadline_period)
    if fc is None:
        deadline = Period.parse(deadline_period)
        observed = s[[p for p in s.index if Period.parse(p).start <= deadline.end]]
        value = float(observed.iloc[-1]) if len(observed) else float(s.iloc[0])
        return 1.0 if sign * (value - target_value) >= 0 else 0.0
    mean, sd = fc.mean[steps - 1], fc.sd[steps - 1]
    return odds_from(mean, sd, float(target_value), sign)
