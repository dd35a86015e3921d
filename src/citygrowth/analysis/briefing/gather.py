"""Gather a briefing's numbers from the running system: the observation store, the index
results, the area tree and the targets (each optional: a missing part leaves its section out).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.models import Target
from citygrowth.analysis.briefing.compose import BriefingInputs, TargetOdds
from citygrowth.analysis.meta import indicator_info
from citygrowth.analysis.odds import target_odds
from citygrowth.analysis.service import index_results
from citygrowth.areas.models import Area, level_of
from citygrowth.auth.actor import system_actor
from citygrowth.catalog.framework import Framework
from citygrowth.errors import NotFound
from citygrowth.index.service import explain_for
from citygrowth.logging_setup import get_logger
from citygrowth.observatory.store import ObservationStore
from citygrowth.periods import Period
from citygrowth.runtime import Runtime

log = get_logger(__name__)


def framework_parts(fw: Framework) -> tuple[dict[str, Any], dict[str, tuple[str, str]], str]:
    """Indicator infos, pillars (code → names) and the index's root code of a framework."""
    infos = {i.code: indicator_info(i) for i in fw.indicators}
    pillars = {n.code: (n.name_zh, n.name_en) for n in fw.nodes if n.kind == "pillar"}
    return infos, pillars, fw.root.code


def index_contributions(runtime: Runtime, index: pd.DataFrame | None, area_code: str,
                        root: str, month: Period) -> pd.DataFrame | None:
    """The index engine's per-indicator contributions to the area's latest index change, when
    the engine can explain it (else None, and the briefing ranks normalised changes)."""
    if index is None:
        return None
    rows = index[(index["unit"] == area_code) & (index["code"] == root)]
    periods = sorted((p for p in set(rows["period"]) if Period.parse(p).end <= month.end),
                     key=lambda p: Period.parse(p).start)
    level = level_of(area_code)
    if len(periods) < 2 or level is None:
        return None
    try:
        out = explain_for(runtime, system_actor("briefing"), area_code, periods[-2],
                          periods[-1], level=level)
    except Exception as exc:  # noqa: BLE001 - no explanation: fall back, and say so
        log.info("no index explanation", area=area_code, error=str(exc))
        return None
    return out[["indicator", "contribution"]]


def target_odds_rows(session: Session, runtime: Runtime, area_code: str,
                     today: dt.date) -> list[TargetOdds]:
    """Status and odds of every running target within the area, from the one target status
    (``accountability.status.target_status``, through ``analysis.odds.target_odds``)."""
    rows = session.scalars(select(Target).where(Target.area_code.startswith(area_code))).all()
    out = []
    for t in rows:
        if t.deadline < today:
            continue
        odds, detail = target_odds(t, today)
        out.append(TargetOdds(t.code, t.name_zh, t.name_en, t.target_value, t.unit_zh,
                              t.deadline.isoformat(), odds if odds is not None else 0.0,
                              str(detail["status"]), detail))
    return [t for t in out if t.detail.get("odds_available")]


def gather(session: Session, runtime: Runtime, area_code: str, month: str) -> BriefingInputs:
    """Everything a briefing for ``area_code`` and ``month`` needs, read from the system."""
    area = session.get(Area, area_code)
    if area is None:
        raise NotFound("No area with code {code}.", code=area_code)
    m = Period.parse(month)
    infos, pillars, root = framework_parts(runtime.frameworks.load())
    obs = ObservationStore(runtime.settings).query(area_codes=[area_code], end=str(m))
    obs = obs.assign(period=obs["period"].astype(str), vintage=obs["vintage"].astype(str))
    children = session.scalars(select(Area).where(Area.parent_code == area_code)).all()
    index, vintage = index_results(runtime, area_code)
    return BriefingInputs(
        area_code=area_code, area_name_zh=area.name_zh, area_name_en=area.name_en,
        month=str(m), observations=obs, indicators=infos, index=index, index_code=root,
        index_vintage=vintage or "latest", pillars=pillars,
        children={c.code: (c.name_zh, c.name_en) for c in children},
        targets=target_odds_rows(session, runtime, area_code, m.end),
        contributions=index_contributions(runtime, index, area_code, root, m),
    )
