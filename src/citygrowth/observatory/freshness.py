"""Freshness: per indicator, when it was last loaded, its latest period, when the next one is
expected and whether it is overdue (stale).

The next period is expected ``LAG[freq]`` days after it ends (annual figures take a quarter
to be published, monthly ones a couple of weeks); an indicator is stale when that date has
passed without the period arriving, or when it has no data at all.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.catalog.framework import Framework
from citygrowth.observatory.models import ObservationLoad
from citygrowth.periods import Period

if TYPE_CHECKING:
    from citygrowth.observatory.store import ObservationStore

LAG_DAYS: dict[str, int] = {"A": 90, "Q": 45, "M": 20}


def last_loads(session: Session) -> dict[str, dt.datetime]:
    """indicator → time of the latest accepted load that carried it."""
    out: dict[str, dt.datetime] = {}
    rows = session.execute(
        select(ObservationLoad.created_at, ObservationLoad.indicators)
        .where(ObservationLoad.status == "accepted")
    ).all()
    for at, inds in rows:
        for code in inds or []:
            if code not in out or at > out[code]:
                out[code] = at
    return out


def freshness(session: Session, store: ObservationStore, fw: Framework, today: dt.date
              ) -> list[dict[str, Any]]:
    loads = last_loads(session)
    summary = store.summary()
    latest: dict[str, Any] = {
        r.indicator: r.last_period_start for r in summary.itertuples(index=False)
    }
    out: list[dict[str, Any]] = []
    for ind in fw.indicators:
        start = latest.get(ind.code)
        last_period = expected = None
        stale = True
        if start is not None and not pd.isna(start):
            p = Period.of(pd.Timestamp(start).date(), ind.frequency)
            last_period = str(p)
            expected = p.next().end + dt.timedelta(days=LAG_DAYS[ind.frequency])
            stale = today > expected
        at = loads.get(ind.code)
        out.append({
            "indicator": ind.code, "name_zh": ind.name_zh, "name_en": ind.name_en,
            "department": ind.department, "frequency": ind.frequency,
            "last_load_at": at.isoformat() if at else None, "last_period": last_period,
            "expected_next": expected.isoformat() if expected else None, "stale": stale,
        })
    return out
