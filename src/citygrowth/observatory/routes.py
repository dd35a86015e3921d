"""Observations, roll-ups and freshness as JSON/CSV; the app's event stream as SSE."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import pandas as pd
import pyarrow as pa
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.errors import Forbidden, Unauthenticated
from citygrowth.events import Event, TopicScope, visible_payload
from citygrowth.i18n import get_locale
from citygrowth.observatory.rows import observation, page_key
from citygrowth.observatory.schemas import FreshnessPage, ObservationOut, RollupRowOut
from citygrowth.observatory.store import ObservationStore, parse_as_of
from citygrowth.periods import Period
from citygrowth.runtime import Runtime
from citygrowth.web.deps import ActorDep, RuntimeDep, SessionDep, runtime_of
from citygrowth.web.export import arrow_csv_lines, parquet_stream
from citygrowth.web.openapi import CSV, PARQUET
from citygrowth.web.paging import Page, PageRequest, paging
from citygrowth.web.render import CSV_TYPE, columns, disposition

router = APIRouter(tags=["observatory"])
#: how long one event stream lasts before the browser reconnects (and is checked anew)
STREAM_SECONDS = 120.0
RECONNECT_MS = 1000

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


def frame_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = df.copy()
    if "vintage" in out:
        out["vintage"] = out["vintage"].map(lambda v: v.isoformat())
    return out.to_dict(orient="records")  # type: ignore[no-any-return]


ObsPage = Annotated[PageRequest, paging(1000, 10000)]


def _page_after(page: PageRequest) -> tuple[Any, ...] | None:
    after = page.after_as(str, str, dt.date, str)
    if after is not None and (after[2] is None or None in after):
        page.after_as(int)  # a cursor of another list: its 422
    return after


@router.get("/api/observations", summary="Observations (current view or as of a date)",
            response_model=Page[ObservationOut])
def observations(runtime: RuntimeDep, actor: ActorDep, page: ObsPage,
                 indicator: Indicators = None, area: Areas = None, start: PeriodQ = None,
                 end: PeriodQ = None, as_of: AsOf = None, level: Level = None
                 ) -> dict[str, Any]:
    """Long rows ``indicator, area_code, period, freq, value, unit, load_id, vintage`` by
    indicator, area and period, a page at a time (``limit``, then ``next``); for everything
    at once use the CSV or Parquet export."""
    require(actor, "data.view")
    rows = ObservationStore(runtime.settings).page(
        indicator, area, start, end, parse_as_of(as_of, runtime.tz), level,
        prefixes=scope_prefixes(actor, "data.view"), after=_page_after(page),
        limit=page.limit + 1)
    return page.answer(rows, key=page_key, items=lambda shown: [observation(r) for r in shown])


def _export(runtime: Runtime, actor: Actor, indicator: list[str] | None,
            area: list[str] | None, start: str | None, end: str | None, as_of: str | None,
            level: str | None) -> Callable[[], Iterator[pa.RecordBatch]]:
    """The batches of an export, checked now (a refusal is an error answer, not a broken
    download) and read when the answer is sent."""
    require(actor, "data.view")
    store = ObservationStore(runtime.settings)
    when = parse_as_of(as_of, runtime.tz)
    prefixes = scope_prefixes(actor, "data.view")
    for period in (start, end):
        if period is not None:
            Period.parse(period)

    def batches() -> Iterator[pa.RecordBatch]:
        for rb in store.batches(indicator, area, start, end, when, level, prefixes=prefixes):
            yield rb.cast(EXPORT_SCHEMA)
    return batches


EXPORT_SCHEMA = pa.schema([
    ("indicator", pa.string()), ("area_code", pa.string()), ("period", pa.string()),
    ("freq", pa.string()), ("value", pa.float64()), ("unit", pa.string()),
    ("load_id", pa.string()), ("vintage", pa.timestamp("us", tz="UTC"))])


@router.get("/api/observations.csv", summary="Observations as CSV (every row, streamed)",
            response_class=Response, responses=CSV)
def observations_csv(runtime: RuntimeDep, actor: ActorDep, indicator: Indicators = None,
                     area: Areas = None, start: PeriodQ = None, end: PeriodQ = None,
                     as_of: AsOf = None, level: Level = None) -> Response:
    """The rows of ``/api/observations``, all of them, read and sent in batches (UTF-8 with
    BOM; the header row in the reader's language, vintages in the district's time zone)."""
    batches = _export(runtime, actor, indicator, area, start, end, as_of, level)
    cols, locale, tz = columns(*EXPORT_SCHEMA.names), get_locale(), runtime.tz

    def pieces() -> Iterator[bytes]:
        yield from arrow_csv_lines(batches(), cols, locale, tz)
    return StreamingResponse(pieces(), media_type=CSV_TYPE,
                             headers={"Content-Disposition": disposition("observations", "csv")})


@router.get("/api/observations.parquet",
            summary="Observations as Apache Parquet (every row, streamed)",
            response_class=Response, responses=PARQUET)
def observations_parquet(runtime: RuntimeDep, actor: ActorDep, indicator: Indicators = None,
                         area: Areas = None, start: PeriodQ = None, end: PeriodQ = None,
                         as_of: AsOf = None, level: Level = None) -> Response:
    """The rows of ``/api/observations`` as one Parquet file (zstd), a row group per batch
    read; for pandas, DuckDB, Spark or R."""
    return parquet_stream(EXPORT_SCHEMA, _export(runtime, actor, indicator, area, start, end,
                                                 as_of, level), "observations")


@router.get("/api/observatory/rollup", summary="An indicator rolled up to an area level",
            response_model=Page[RollupRowOut])
def rollup(runtime: RuntimeDep, actor: ActorDep,
           page: Annotated[PageRequest, paging(1000, 10000)],
           indicator: Annotated[str, Query(pattern=CODE)],
           level: Annotated[str, Query(pattern=r"^(district|street|community|grid)$")],
           start: PeriodQ = None, end: PeriodQ = None, as_of: AsOf = None) -> dict[str, Any]:
    """Values aggregated from the indicator's finest level by its roll-up rule, by area and
    period."""
    require(actor, "data.view")
    df = ObservationStore(runtime.settings).rollup(
        indicator, level, start=start, end=end, as_of=parse_as_of(as_of, runtime.tz),
        framework=runtime.frameworks.load())
    df = _scoped(actor, None, df)
    return page.slice(df.to_dict(orient="records"))


@router.get("/api/observatory/freshness", summary="Freshness of every indicator",
            response_model=FreshnessPage)
def freshness(session: SessionDep, runtime: RuntimeDep, actor: ActorDep,
              page: Annotated[PageRequest, paging(500, 1000)]) -> dict[str, Any]:
    """Per indicator: last load, latest period, next period expected, and a stale flag."""
    require(actor, "data.view")
    rows = ObservationStore(runtime.settings).freshness(session, runtime.frameworks.load(),
                                                        runtime.today())
    return page.slice(rows, stale=sum(r["stale"] for r in rows))


def sse_message(event: Event, payload: dict[str, Any]) -> str:
    data = json.dumps({"topic": event.topic, "at": event.at, "payload": payload},
                      ensure_ascii=False, default=str)
    return f"id: {event.id}\nevent: {event.topic}\ndata: {data}\n\n"


@dataclass(frozen=True)
class Subscriber:
    """One open stream: who reads it, which topics, and what each event is cut to."""

    actor: Actor
    topics: frozenset[str] | None
    scopes: Mapping[str, TopicScope]
    district_code: str

    def message(self, event: Event) -> str | None:
        if self.topics is not None and event.topic not in self.topics:
            return None
        payload = visible_payload(self.actor, event.topic, event.payload, self.scopes,
                                  self.district_code)
        return None if payload is None else sse_message(event, payload)


async def event_stream(request: Request, subscriber: Subscriber, last_id: int | None,
                       heartbeat: float = 15.0, lifetime: float = STREAM_SECONDS,
                       ) -> AsyncIterator[str]:
    """The subscriber's events until the client leaves or ``lifetime`` has passed (the browser
    then reconnects, and the reader's rights are checked anew; ``Last-Event-ID`` replays what
    it missed meanwhile)."""
    bus = runtime_of(request).bus
    queue = bus.subscribe()
    deadline = asyncio.get_running_loop().time() + lifetime
    try:
        yield f"retry: {RECONNECT_MS}\n: connected\n\n"
        for event in bus.since(last_id) if last_id is not None else ():
            if (message := subscriber.message(event)) is not None:
                yield message
        while not await request.is_disconnected():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            try:
                event = await asyncio.wait_for(queue.get(), timeout=min(heartbeat, left))
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if (message := subscriber.message(event)) is not None:
                yield message
    finally:
        bus.unsubscribe(queue)


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id", "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


@router.get("/api/events", include_in_schema=False)
def events(request: Request, actor: ActorDep, runtime: RuntimeDep,
           topic: Annotated[list[str] | None, Query(max_length=50)] = None,
           ) -> StreamingResponse:
    """Server-sent events of the app's bus (``observations.loaded``, ``case.changed``,
    ``index.computed``, ``target.changed``, ``framework.published`` …); ``?topic=`` filters.

    Each event reaches only the readers its topic's scope admits (``events.TOPICS``): a
    street's staff their street's cases, a department officer their department's cases and
    loads, and so on; an event about several areas is cut to the reader's. The stream ends
    after a few minutes and the browser reconnects (``Last-Event-ID`` replays the recent
    events it missed), so a reader whose rights changed stops receiving."""
    bus = runtime.bus
    wanted = set(topic) if topic else set(bus.topics)
    if not any(can(actor, bus.topics[t].permission) for t in wanted if t in bus.topics):
        if actor.is_anonymous:
            raise Unauthenticated()
        raise Forbidden("There are no events here you may follow.", code="no_events")
    subscriber = Subscriber(actor, frozenset(topic) if topic else None, dict(bus.topics),
                            runtime.settings.district_code)
    return StreamingResponse(
        event_stream(request, subscriber, _last_event_id(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
