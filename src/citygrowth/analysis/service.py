"""The analysis domain's actions: forecasts, anomaly checks of loads and their decisions,
target odds. Briefings are in :mod:`.briefing.service`.

Every action takes ``(session, actor, …)`` and checks permission first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.models import Target
from citygrowth.analysis.anomaly import AnomalyWarning, check_batch
from citygrowth.analysis.changes import breaks, relation
from citygrowth.analysis.forecast import Forecast, ForecastCache, forecast_series
from citygrowth.analysis.models import AnomalyRecord
from citygrowth.analysis.odds import target_odds
from citygrowth.analysis.series import to_series
from citygrowth.areas.models import Area, level_of
from citygrowth.auth.actor import Actor, system_actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import can, require
from citygrowth.catalog.framework import Framework
from citygrowth.db import utcnow
from citygrowth.errors import CityGrowthError, NotFound, ValidationFailed
from citygrowth.index.service import read_results
from citygrowth.logging_setup import get_logger
from citygrowth.observatory.models import ObservationLoad
from citygrowth.observatory.store import ObservationStore
from citygrowth.plugins import AcceptedLoad
from citygrowth.runtime import Runtime

_CACHES: dict[str, ForecastCache] = {}

log = get_logger(__name__)


def forecast_cache(runtime: Runtime) -> ForecastCache:
    """The process-wide forecast cache of an installation (memory + JSON files)."""
    folder = runtime.settings.store_dir / "results" / "forecasts"
    key = str(folder.resolve())
    if key not in _CACHES:
        _CACHES[key] = ForecastCache(folder)
    return _CACHES[key]


def index_results(runtime: Runtime, area_code: str) -> pd.DataFrame | None:
    """Index results for the area's level and the level below (None when the index engine has
    stored none yet)."""
    frames = []
    for code in (area_code, area_code + "000"):
        level = level_of(code)
        if level is None:
            continue
        try:
            frames.append(read_results(runtime, framework="default", vintage="latest",
                                       level=level))
        except CityGrowthError as exc:  # no results yet: the briefing says so
            log.info("no index results", level=level, error=str(exc))
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return None
    out = pd.concat(frames, ignore_index=True)
    out["period"] = out["period"].astype(str)
    out["unit"] = out["unit"].astype(str)
    return out


def series_for(runtime: Runtime, code: str, area_code: str) -> pd.Series:
    """An indicator's series from the store, or an index node's from the index results."""
    obs = ObservationStore(runtime.settings).query(indicators=[code], area_codes=[area_code])
    if not obs.empty:
        obs = obs.assign(period=obs["period"].astype(str))
        freqs = obs["freq"].astype(str)
        finest = min(set(freqs), key=lambda f: "DWMQA".index(f) if f in "DWMQA" else 9)
        return to_series(obs[freqs == finest], code, area_code)
    index = index_results(runtime, area_code)
    if index is not None:
        rows = index[(index["unit"] == area_code) & (index["code"] == code)]
        if not rows.empty:
            frame = pd.DataFrame({"indicator": code, "area_code": area_code,
                                  "period": rows["period"], "value": rows["value"]})
            return to_series(frame, code, area_code)
    raise NotFound("No data for {code} in area {area}.", code=code, area=area_code)


def forecast_for(session: Session, actor: Actor, runtime: Runtime, code: str,
                 area_code: str, horizon: int = 12) -> Forecast:
    """Forecast an indicator (or an index node) for an area."""
    require(actor, "analysis.view", area_code)
    return forecast_series(series_for(runtime, code, area_code), horizon,
                           cache=forecast_cache(runtime))


def _history_for(runtime: Runtime, frame: pd.DataFrame,
                 as_of: dt.datetime | None) -> pd.DataFrame:
    """What the store holds for the batch's indicators in the batch's areas and, for the
    unit-slip and spatial checks, in every area of the batch's levels (siblings).

    When the batch has areas below the district, every area of its levels is read once per
    level, which already holds the batch's own areas; they are not read a second time (only
    areas of no known level are)."""
    inds = sorted(set(frame["indicator"].astype(str).unique()))
    areas = sorted(set(frame["area_code"].astype(str).unique()))
    parents = sorted({a[:-3] for a in areas if len(a) > 6})
    store = ObservationStore(runtime.settings)
    levels = sorted({lv for a in areas if (lv := _level(a))}) if parents else []
    own = [a for a in areas if not _level(a)] if levels else areas
    parts = [store.frame(inds, level=lv, as_of=as_of) for lv in levels]
    if own or not parts:
        parts.insert(0, store.frame(inds, area_codes=own, as_of=as_of))
    if len(parts) == 1:  # one query: one row per (indicator, area, period) already
        return parts[0]
    out = pd.concat([p.astype({c: object for c in ("indicator", "area_code", "period",
                                                   "load_id")}) for p in parts],
                    ignore_index=True)
    return out.drop_duplicates(["indicator", "area_code", "period"], keep="last")


def _level(code: str) -> str | None:
    return level_of(code)


def check_load_frame(session: Session, runtime: Runtime, frame: pd.DataFrame,
                     as_of: dt.datetime | None = None) -> list[AnomalyWarning]:
    """``check_batch`` with history, catalog and areas read from the system (what the ingest
    path calls before committing a load; ``as_of`` = just before the load for a re-check)."""
    if frame.empty:
        return []
    history = _history_for(runtime, frame, as_of)
    if as_of is None and "load_id" in frame.columns:
        history = history[~history["load_id"].isin(set(frame["load_id"]))]
    codes = {str(a) for a in frame["area_code"].unique()}
    parents = {c[:-3] for c in codes}
    areas = session.scalars(select(Area).where(Area.parent_code.in_(parents))).all()
    return check_batch(frame, history, runtime.frameworks.load(), areas)


ANOMALY_ROW_LIMIT = 200_000
BATCH_COLUMNS = ["indicator", "area_code", "period", "value", "load_id"]


def warnings_for_accepted_load(session: Session, runtime: Runtime,
                               load: AcceptedLoad) -> list[dict[str, Any]]:
    """Plausibility checks of an accepted load's rows against their history (unit slips,
    jumps, impossible values, broken seasonality, an area out of line with its neighbours),
    kept with the load so the loader can accept or send back each warning. Loads over
    ``ANOMALY_ROW_LIMIT`` rows and illustrative demo loads are checked on demand instead
    (``citygrowth analysis anomalies --load ID``). The ``citygrowth_load_accepted`` hook."""
    if load.illustrative or load.rows > ANOMALY_ROW_LIMIT:
        return []
    frame = pd.read_parquet(load.batch, columns=BATCH_COLUMNS)
    warnings = check_load_frame(session, runtime, frame)
    record_warnings(session, system_actor("ingest"), load.load_id, warnings)
    return [w.to_dict() for w in warnings]


def record_warnings(session: Session, actor: Actor, load_id: str,
                    warnings: list[AnomalyWarning]) -> list[AnomalyRecord]:
    """Keep the warnings of a load so the loader can accept or send back each one."""
    require(actor, "analysis.check")
    existing = {r.key: r for r in session.scalars(
        select(AnomalyRecord).where(AnomalyRecord.load_id == load_id))}
    out = []
    for w in warnings:
        rec = existing.get(w.key)
        if rec is None:
            rec = AnomalyRecord(load_id=load_id, key=w.key, kind=w.kind, indicator=w.indicator,
                                area_code=w.area_code, period=w.period, value=w.value,
                                expected=w.expected, severity=w.severity, message=w.message,
                                params=dict(w.params), decision="pending", note="")
            session.add(rec)
        out.append(rec)
    session.flush()
    return out


#: the department of a warning whose load and indicator name none (no officer's to decide)
NO_DEPARTMENT = "(none)"


def load_department(load: ObservationLoad | None, indicator: str, fw: Framework) -> str:
    """The department a warning belongs to: its load's (the department that loaded it), else —
    a load of several departments' indicators — its indicator's."""
    if load is not None and load.department_code:
        return load.department_code
    ind = fw.indicator_map().get(indicator)
    return ind.department if ind is not None else NO_DEPARTMENT


def warning_resource(rec: AnomalyRecord, load: ObservationLoad | None,
                     fw: Framework) -> dict[str, str]:
    """What ``require`` scopes a warning on: its area and its load's department, so that an
    officer sees and decides only their own department's loads within their areas."""
    return {"area_code": rec.area_code,
            "department_code": load_department(load, rec.indicator, fw)}


def _load_of(session: Session, load_id: str) -> ObservationLoad | None:
    return session.scalar(select(ObservationLoad).where(ObservationLoad.load_id == load_id))


def anomalies_for_load(session: Session, actor: Actor, runtime: Runtime,
                       load_id: str) -> list[AnomalyRecord]:
    """The warnings of a load the actor may see: those recorded at load time, else checked now
    (and kept) — a load of a department the actor does not serve is not found."""
    require(actor, "analysis.view")
    fw = runtime.frameworks.load()
    load = _load_of(session, load_id)
    if load is not None and load.department_code and not can(
            actor, "analysis.view", {"department_code": load.department_code}):
        raise NotFound("No load with id {load_id}.", load_id=load_id)
    rows = _visible(session, actor, load, load_id, fw)
    if rows:
        return rows

    if load is None:
        raise NotFound("No load with id {load_id}.", load_id=load_id)
    frame = ObservationStore(runtime.settings).query(indicators=list(load.indicators or []))
    frame = frame[frame["load_id"] == load_id].assign(period=lambda f: f["period"].astype(str))
    before = load.created_at - dt.timedelta(microseconds=1)
    warnings = check_load_frame(session, runtime, frame, as_of=before)

    record_warnings(session, system_actor("analysis"), load_id, warnings)
    return _visible(session, actor, load, load_id, fw)


def _visible(session: Session, actor: Actor, load: ObservationLoad | None, load_id: str,
             fw: Framework) -> list[AnomalyRecord]:
    rows = session.scalars(select(AnomalyRecord).where(AnomalyRecord.load_id == load_id)
                           .order_by(AnomalyRecord.id)).all()
    return [r for r in rows if can(actor, "analysis.view", warning_resource(r, load, fw))]


def loads_with_warnings(session: Session, actor: Actor, fw: Framework, limit: int = 200
                        ) -> list[dict[str, Any]]:
    """The loads whose values were warned about, newest first, with how many warnings are
    pending, accepted and sent back — counting only the warnings the actor may see (within
    their areas and, for officers, of their department's loads)."""
    require(actor, "analysis.view")
    records = session.execute(select(AnomalyRecord.load_id, AnomalyRecord.decision,
                                     AnomalyRecord.area_code, AnomalyRecord.indicator)).all()
    ids = sorted({r.load_id for r in records})
    loads = {x.load_id: x for x in session.scalars(select(ObservationLoad).where(
        ObservationLoad.load_id.in_(ids)))} if ids else {}
    counts: dict[str, dict[str, int]] = {}
    for load_id, decision, area, indicator in records:
        resource = {"area_code": area,
                    "department_code": load_department(loads.get(load_id), indicator, fw)}
        if can(actor, "analysis.view", resource):
            c = counts.setdefault(load_id, {"pending": 0, "accepted": 0, "returned": 0})
            c[decision] = c.get(decision, 0) + 1
    newest_first = sorted(counts, key=lambda k: (loads[k].created_at if k in loads else utcnow(),
                                                 k), reverse=True)
    return [{"load_id": k, **counts[k], "load": loads.get(k)} for k in newest_first[:limit]]


def decide_anomaly(session: Session, actor: Actor, anomaly_id: int, decision: str,
                   note: str = "", *, framework: Framework) -> AnomalyRecord:
    """Accept a warned value, or send it back to the department — only within the actor's
    areas and, for an officer, on their own department's load."""
    rec = session.get(AnomalyRecord, anomaly_id)
    resource = warning_resource(rec, _load_of(session, rec.load_id), framework) if rec else None
    require(actor, "analysis.decide", resource)
    if rec is None:
        raise NotFound("No anomaly warning with id {id}.", id=anomaly_id)
    if decision not in ("accepted", "returned"):
        raise ValidationFailed("A decision is accepted or returned.", code="bad_decision")
    rec.decision, rec.note = decision, note[:2000]
    rec.decided_by, rec.decided_at = actor.username, utcnow()
    record(session, actor, "analysis.decide", f"anomaly:{rec.id}",
           {"decision": decision, "key": rec.key, "load_id": rec.load_id})
    session.flush()
    return rec


def odds_for_target_code(session: Session, actor: Actor, code: str,
                         today: dt.date) -> dict[str, Any]:

    target = session.scalar(select(Target).where(Target.code == code))
    require(actor, "analysis.view", target.area_code if target else None)
    if target is None:
        raise NotFound("No target with code {code}.", code=code)
    odds, detail = target_odds(target, today)
    return {"target": code, "odds": odds, **detail}


def breaks_for(session: Session, actor: Actor, runtime: Runtime, code: str,
               area_code: str) -> list[dict[str, Any]]:
    """Structural breaks (level shifts) of an indicator's series in an area."""
    require(actor, "analysis.view", area_code)
    return breaks(series_for(runtime, code, area_code))


def relation_for(session: Session, actor: Actor, runtime: Runtime, x: str, y: str,
                 area_code: str, max_lag: int = 6) -> dict[str, Any]:
    """Lead/lag association of two indicators in an area (cross-correlation of differences,
    Granger p-values), with its cautious sentence."""
    require(actor, "analysis.view", area_code)
    return relation(series_for(runtime, x, area_code), series_for(runtime, y, area_code),
                    x, y, max_lag)
