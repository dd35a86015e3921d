"""Scheduled work: the monthly briefings and warming the forecast cache.

``monthly_briefings`` makes, for the previous month — the latest complete one in the district's
zone — the district's and every street's briefing in zh_CN and en (once: an existing archive
entry is kept). ``warm_forecasts`` forecasts every district- and street-level series so pages
answer from the cache.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.analysis.briefing.service import make_briefings
from citygrowth.analysis.forecast import forecast_series
from citygrowth.analysis.models import BriefingRecord
from citygrowth.analysis.series import to_series
from citygrowth.analysis.service import forecast_cache
from citygrowth.areas.models import Area
from citygrowth.auth.actor import system_actor
from citygrowth.logging_setup import get_logger
from citygrowth.observatory.store import ObservationStore
from citygrowth.periods import Period
from citygrowth.runtime import Runtime

log = get_logger(__name__)
LOCALES = ("zh_CN", "en")


def previous_month(runtime: Runtime, now: dt.datetime | None = None) -> str:
    """The month before ``now`` (default: the runtime's clock), in the district's zone."""
    today = runtime.local(now).date() if now is not None else runtime.today()
    return str(Period.of(today, "M").prev())


def briefing_areas(session: Session, district: str) -> list[str]:
    streets = session.scalars(select(Area.code).where(Area.parent_code == district)).all()
    return [district, *sorted(streets)]


def monthly_briefings(runtime: Runtime, month: str | None = None) -> list[str]:
    """Make the month's missing briefings (district and streets, zh_CN and en): one
    gathering of the numbers per area, one transaction per area."""
    month = month or previous_month(runtime)
    actor = system_actor("briefings")
    with runtime.session() as session:
        areas = briefing_areas(session, runtime.settings.district_code)
        have = {(a, loc) for a, loc in session.execute(
            select(BriefingRecord.area_code, BriefingRecord.locale)
            .where(BriefingRecord.month == month))}
    made = []
    for code in areas:
        missing = tuple(loc for loc in LOCALES if (code, loc) not in have)
        if not missing:
            continue
        with runtime.session() as session:
            make_briefings(session, actor, runtime, code, month, missing)
        made += [f"{code}/{month}/{loc}" for loc in missing]
    log.info("briefings made", count=len(made), month=month)
    return made


def warm_forecasts(runtime: Runtime, horizon: int = 12) -> int:
    """Forecast every district and street series (fills the cache); returns the count."""
    cache = forecast_cache(runtime)

    store = ObservationStore(runtime.settings)
    frame = pd.concat([store.query(level="street"), store.query(level="district")],
                      ignore_index=True)
    frame = frame.assign(period=frame["period"].astype(str))
    n = 0
    for (ind, area, _f), g in frame.groupby(["indicator", "area_code", "freq"]):
        s = to_series(g, str(ind), str(area))
        if len(s) >= 2:
            forecast_series(s, horizon, cache=cache)
            n += 1
    return n
