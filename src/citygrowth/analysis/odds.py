"""Target odds: the probability that an accountability target is attained by its deadline.

A thin caller of :func:`citygrowth.accountability.status.target_status`, the one rule every
surface uses (the model — a random walk with drift through the target's progress reports —
is described there and in ``docs/accountability.md``). The analysis API and the briefings
read the odds here so that they always agree with the target pages and the big screen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from citygrowth.accountability.status import TargetLike, target_status


def target_odds(target: TargetLike, today: dt.date) -> tuple[float | None, dict[str, Any]]:
    """The probability (0–1, None before two reports) and what it rests on."""
    st = target_status(target, today)
    detail: dict[str, Any] = {
        "method": "target_status", "direction": st.direction, "status": st.status,
        "reports": st.reports, "forecast_value": st.forecast_value,
        "odds_available": st.probability is not None, "today": today.isoformat(),
    }
    return st.probability, detail
