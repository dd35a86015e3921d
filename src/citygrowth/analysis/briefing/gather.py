"""Gather a briefing's numbers from the running system: the observation store, the index
results, the area tree, the targets, the key projects and the catalog (each optional: a
missing part leaves its section out).

Everything is read as of the day after the briefing's month (``BriefingInputs.as_of``), so a
briefing made later for the same month says the same periods.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.models import Target
from citygrowth.accountability.status import target_status
from citygrowth.analysis.briefing.compose import BriefingInputs, TargetOdds, index_periods
from citygrowth.analysis.keyfigures import indicator_figures, local_today, projects_figure
from citygrowth.analysis.meta import indicator_info
from citygrowth.analysis.service import index_results
from citygrowth.areas.models import Area, level_of
from citygrowth.auth.actor import system_actor
from citygrowth.auth.models import Department
from citygrowth.catalog.framework import Framework
from citygrowth.errors import CityGrowthError, NotFound
from citygrowth.index.service import (
    annualise,
    explain_for,
    latest_vintage_computed,
)
from citygrowth.logging_setup import get_logger
from citygrowth.observatory.store import ObservationStore
from citygrowth.periods import Period
from citygrowth.runtime import Runtime

log = get_logger(__name__)


def index_contributions(runtime: Runtime, inp: BriefingInputs) -> pd.DataFrame | None:
    """The index engine's per-indicator contributions to the headline change of a street,
    community or grid cell (None for the district, whose index is derived from its streets',
    or when the engine cannot split the change: the briefing then ranks normalised changes)."""
    last, before = index_periods(inp)
    level = level_of(inp.area_code)
    if last is None or before is None or level in (None, "district"):
        return None
    try:
        out = explain_for(runtime, system_actor("briefing"), inp.area_code, before, last,
                          level=str(level))
    except CityGrowthError as exc:  # no explanation: fall back, and say so
        log.info("no index explanation", area=inp.area_code, error=str(exc))
        return None
    return out[["indicator", "contribution"]]


def yearly(obs: pd.DataFrame, fw: Framework) -> pd.DataFrame:
    """The area's yearly values as the index uses them (``index.service.annualise``: sums of
    flows, means of rates), with each indicator's latest load time."""
    codes = {i.code for i in fw.index_indicators}
    rows = obs[obs["indicator"].isin(codes)]
    if rows.empty:
        return pd.DataFrame(columns=["indicator", "area_code", "period", "value", "vintage"])
    out = annualise(rows, {i.code: i.rollup.rule for i in fw.indicators})
    vintages = rows.groupby("indicator")["vintage"].max().astype(str)
    return out.assign(period=out["period"].astype(str),
                      vintage=out["indicator"].map(vintages))


def target_rows(session: Session, area_code: str, day: dt.date) -> list[TargetOdds]:
    """Every running target within the area on ``day`` with its status and probability of
    attainment from the one target status (``accountability.status.target_status``)."""
    rows = session.scalars(select(Target).where(Target.area_code.startswith(area_code))).all()
    depts = {d.code: d for d in session.scalars(select(Department))}
    out = []
    for t in rows:
        if t.deadline < day or t.start_date > day:
            continue
        st = target_status(t, day)
        dept = depts.get(t.department_code)
        detail = {"method": "target_status", "status": st.status, "reports": st.reports,
                  "odds_available": st.probability is not None}
        out.append(TargetOdds(
            t.code, t.name_zh, t.name_en, t.target_value, t.unit_zh, t.deadline.isoformat(),
            st.probability or 0.0, st.status, detail, actual=st.actual, planned=st.planned,
            department_zh=dept.name_zh if dept else t.department_code,
            department_en=dept.name_en if dept else t.department_code, label=st.label))
    return out


def gather(session: Session, runtime: Runtime, area_code: str, month: str) -> BriefingInputs:
    """Everything a briefing for ``area_code`` and ``month`` needs, read from the system."""
    area = session.get(Area, area_code)
    if area is None:
        raise NotFound("No area with code {code}.", code=area_code)
    m = Period.parse(month)
    fw = runtime.frameworks.load()
    store = ObservationStore(runtime.settings)
    obs = store.query(area_codes=[area_code], end=str(m))
    obs = obs.assign(period=obs["period"].astype(str), vintage=obs["vintage"].astype(str))
    children = session.scalars(select(Area).where(Area.parent_code == area_code)).all()
    index = index_results(runtime, area_code)
    vintage = latest_vintage_computed(session, fw.code, fw.version) or ""  # the run's data
    tz = ZoneInfo(runtime.settings.timezone)
    inp = BriefingInputs(
        area_code=area_code, area_name_zh=area.name_zh, area_name_en=area.name_en,
        month=str(m), observations=obs, indicators={i.code: indicator_info(i)
                                                    for i in fw.indicators},
        index=index, index_code=fw.root.code, index_vintage=vintage or "latest",
        pillars={n.code: (n.name_zh, n.name_en) for n in fw.nodes if n.kind == "pillar"},
        children={c.code: (c.name_zh, c.name_en) for c in children},
        targets=target_rows(session, area_code, m.end),
        annual=yearly(obs, fw), index_indicators=frozenset(i.code for i in fw.index_indicators),
        indicator_targets={i.code: float(i.target) for i in fw.indicators
                           if i.target is not None},
        departments=_departments(fw), index_name=(fw.root.name_zh, fw.root.name_en),
        framework=f"{fw.code} {fw.version}", timezone=runtime.settings.timezone,
    )
    # indicators for their periods complete by the month's end; the project register as it
    # stands when it is read
    projects = projects_figure(session, area_code, local_today(tz))
    inp.key_figures = indicator_figures(store, fw, area_code, inp.as_of, tz) + (
        [projects] if projects else [])
    inp.contributions = index_contributions(runtime, inp)
    return inp


def _departments(fw: Framework) -> dict[str, tuple[str, str]]:
    out = {}
    for i in fw.indicators:
        d = fw.department(i.department)
        out[i.code] = (d.name_zh, d.name_en) if d else (i.department, i.department)
    return out
