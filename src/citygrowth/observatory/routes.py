"""Observations, roll-ups and freshness as JSON/CSV; the app's event stream as SSE."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import require, scope_prefixes
from citygrowth.events import Event
from citygrowth.i18n import get_locale
from citygrowth.observatory.store import ObservationStore, parse_as_of
from citygrowth.runtime import Runtime
from citygrowth.web.deps import ActorDep, RuntimeDep, SessionDep, runtime_of
from citygrowth.web.render import csv_response, frame_table

router = APIRouter(tags=["observatory"])

CODE = r"^[A-Za-z0-9_]{1,60}$"
Indicators = Annotated[list[str] | None, Query(
    description="Indicator code (repeatable).", max_length=100)]
Areas = Annotated[list[str] | None, Query(
    alias="area", description="Area code (repeatable).", max_length=2000)]
PeriodQ = Annotated[str | None, Query(
    pattern=r"^\d{4}(-?Q[1-4]|-?M?\d{2})?$", description="Period: 2024, 2024-Q3 or 2024-09.")]
AsOf = Annotated[str | None, Query(
    pattern=r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+([+-]\d{2}:?\d{2}|Z)?)?$",
    description="Show the data as known at this date/time (Asia/Shanghai unless a zone is "
                "given).")]
Level = Annotated[str | None, Query(pattern=r"^(district|street|community|grid)$")]


def _scoped(actor: Actor, areas: list[str] | None, df: pd.DataFrame) -> pd.DataFrame:
    prefixes = scope_prefixes(actor, "data.view")
    if prefixes is None or df.empty:
        return df
    return df[df["area_code"].str.startswith(tuple(prefixes))] if prefixes else df.iloc[:0]


def observations_frame(runtime: Runtime, actor: Actor, indicator: list[str] | None,
                       area: list[str] | None, start: str | None, end: str | None,
                       as_of: str | None, level: str | None) -> pd.DataFrame:
    require(actor, "data.view")
    store = ObservationStore(runtime.settings)
    df = store.query(indicators=indicator, area_codes=area, start=start, end=end,
                     as_of=parse_as_of(as_of, runtime.tz), level=level)
    return _scoped(actor, area, df)


def frame_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = df.copy()
    if "vintage" in out:
        out["vintage"] = out["vintage"].map(lambda v: v.isoformat())
    return out.to_dict(orient="records")  # type: ignore[no-any-return]


@router.get("/api/observations", summary="Observations (current view or as of a date)")
def observations(runtime: RuntimeDep, actor: ActorDep, indicator: Indicators = None,
                 area: Areas = None, start: PeriodQ = None, end: PeriodQ = None,
                 as_of: AsOf = None, level: Level = None) -> dict[str, Any]:
    """Long rows ``indicator, area_code, period, freq, value, unit, load_id, vintage``."""
    df = observations_frame(runtime, actor, indicator, area, start, end, as_of, level)
    return {"count": len(df), "observations": frame_records(df)}


@router.get("/api/observations.csv", summary="Observations as CSV", response_class=Response)
def observations_csv(runtime: RuntimeDep, actor: ActorDep, indicator: Indicators = None,
                     area: Areas = None, start: PeriodQ = None, end: PeriodQ = None,
                     as_of: AsOf = None, level: Level = None) -> Response:
    """The same rows as ``/api/observations``, as CSV (UTF-8 with BOM; vintages in the
    district's time zone)."""
    df = observations_frame(runtime, actor, indicator, area, start, end, as_of, level)
    cols, rows = frame_table(df)
    return csv_response(cols, rows, "observations", get_locale(), runtime.tz)


@router.get("/api/observatory/rollup", summary="An indicator rolled up to an area level")
def rollup(runtime: RuntimeDep, actor: ActorDep,
           indicator: Annotated[str, Query(pattern=CODE)],
           level: Annotated[str, Query(pattern=r"^(district|street|community|grid)$")],
           start: PeriodQ = None, end: PeriodQ = None, as_of: AsOf = None) -> dict[str, Any]:
    """Values aggregated from the indicator's finest level by its roll-up rule."""
    require(actor, "data.view")
    df = ObservationStore(runtime.settings).rollup(
        indicator, level, start=start, end=end, as_of=parse_as_of(as_of, runtime.tz),
        framework=runtime.frameworks.load())
    df = _scoped(actor, None, df)
    return {"count": len(df), "rows": df.to_dict(orient="records")}


@router.get("/api/observatory/freshness", summary="Freshness of every indicator")
def freshness(session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    """Per indicator: last load, latest period, next period expected, and a stale flag."""
    require(actor, "data.view")
    rows = ObservationStore(runtime.settings).freshness(session, runtime.frameworks.load(),
                                                        runtime.today())
    return {"count": len(rows), "stale": sum(r["stale"] for r in rows), "indicators": rows}


def sse_message(event: Event) -> str:
    data = json.dumps({"topic": event.topic, "at": event.at, "payload": event.payload},
                      ensure_ascii=False, default=str)
    return f"event: {event.topic}\ndata: {data}\n\n"


async def event_stream(request: Request, topics: set[str] | None,
                       heartbeat: float = 15.0) -> AsyncIterator[str]:
    bus = runtime_of(request).bus
    queue = bus.subscribe()
    try:
        yield ": connected\n\n"
        while not await request.is_disconnected():
            try:
                event = await asyncio.wait_for(queue.get(), timeout=heartbeat)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if topics is None or event.topic in topics:
                yield sse_message(event)
    finally:
        bus.unsubscribe(queue)


@router.get("/api/events", include_in_schema=False)
def events(request: Request, actor: ActorDep,
           topic: Annotated[list[str] | None, Query()] = None) -> StreamingResponse:
    """Server-sent events: every event published on the app's bus (``observations.loaded``,
    ``case.changed``, ``index.computed``, ``target.changed`` …); ``?topic=`` filters.
    Needs ``data.view``."""
    require(actor, "data.view")
    return StreamingResponse(
        event_stream(request, set(topic) if topic else None), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
