"""The JSON API of cases (``/api/cases…``) and help tasks (``/api/help…``), and case media."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can, require
from citygrowth.errors import NotFound, Problem, ValidationFailed
from citygrowth.governance import media
from citygrowth.governance.evaluation import evaluate, recent_months
from citygrowth.governance.intake import nearby
from citygrowth.governance.intake_http import credentials, report
from citygrowth.governance.lifecycle import STATUSES
from citygrowth.governance.models import CaseMedia
from citygrowth.governance.schemas import (
    ActionIn,
    CaseActedOut,
    CaseDetailOut,
    CaseOut,
    CategoryOut,
    EvaluationRowOut,
    NearbyCaseOut,
    PhotoOut,
    QueueCountsOut,
    ReportAckOut,
    ReportIn,
)
from citygrowth.governance.service import (
    CaseFilter,
    act,
    case_dict,
    case_dicts,
    case_key,
    count_cases,
    event_dict,
    events_of,
    get_case,
    iter_case_batches,
    page_cases,
    photo_readable,
    queue_counts,
)
from citygrowth.governance.taxonomy import leaf_categories
from citygrowth.i18n import bilingual, get_locale, translate
from citygrowth.inputs import Month
from citygrowth.runtime import Runtime
from citygrowth.web.deps import ActorDep, RuntimeDep, SessionDep, SettingsDep, UserDep
from citygrowth.web.limits import photo_body_limit, photo_route
from citygrowth.web.openapi import CSV, REQUIRED, ErrorOut
from citygrowth.web.paging import Page, PageRequest, paging
from citygrowth.web.render import columns, csv_response, frame_table
from citygrowth.web.templating import export_time

router = APIRouter(tags=["cases"])
Status = Annotated[list[str] | None, Query(max_length=20)]
Code = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
Queue = Annotated[str | None, Query(pattern=r"^(open|overdue|warning|supervised|pending)$")]


def _filter(status: list[str] | None, category: str | None, area: str | None,
            department: str | None, queue: str | None) -> CaseFilter:
    bad = [s for s in status or [] if s not in STATUSES]
    if bad:
        raise ValidationFailed("Unknown status {value}.", value=bad[0])
    return CaseFilter(status=status, category_code=category, area_prefix=area,
                      department_code=department, queue=queue)


CasePageQ = Annotated[PageRequest, paging(100, 1000)]
CountQ = Annotated[bool, Query(description="Also count every matching case (total)")]


@router.get("/api/cases", summary="Cases the caller may see, newest first",
            response_model=Page[CaseOut])
def api_cases(runtime: RuntimeDep, session: SessionDep, actor: UserDep, page: CasePageQ,
              status: Status = None,
              category: Code = None, area: Code = None, department: Code = None,
              queue: Queue = None, count: CountQ = False) -> dict[str, Any]:
    """A page of the cases within the caller's areas (and departments), newest first;
    ``next`` goes on. ``total`` is counted only when asked (``count=true``): over a city's
    cases that costs more than the page (``/api/cases/queues`` has the counts per queue)."""
    f = _filter(status, category, area, department, queue)
    cases = page_cases(session, actor, f, page.after_as(dt.datetime, int), page.limit + 1)
    return page.answer(cases, key=case_key,
                       items=lambda shown: case_dicts(session, shown, tz=runtime.tz),
                       total=count_cases(session, actor, f) if count else None)


TIME_COLUMNS = ("reported_at", "due_at", "closed_at")
CSV_COLUMNS = ["id", "status", "category_code", "category", "area_code", "department_code",
               "source", "reported_at", "due_at", "closed_at", "overdue", "supervised",
               "escalation_level", "rework_count", "satisfaction", "address"]


@router.get("/api/cases.csv", summary="Every case the caller may see, as CSV (streamed)",
            response_class=Response, responses=CSV)
def api_cases_csv(runtime: RuntimeDep, actor: UserDep, status: Status = None,
                  category: Code = None, area: Code = None, department: Code = None,
                  queue: Queue = None) -> Response:
    """All matching cases, newest first, read and sent a thousand at a time; times in the
    district's zone; the header row in the reader's language."""
    require(actor, "case.view", None)
    f = _filter(status, category, area, department, queue)

    def rows() -> Iterator[dict[str, Any]]:
        with runtime.sessionmaker() as session:
            for batch in iter_case_batches(session, actor, f):
                for row in case_dicts(session, batch, tz=runtime.tz):
                    yield {**row, **{k: export_time(row[k], runtime.tz) for k in TIME_COLUMNS}}

    return csv_response(columns(*CSV_COLUMNS), rows(), "cases", get_locale())


@router.get("/api/cases/queues", summary="Counts per status and queue",
            response_model=QueueCountsOut)
def api_queues(session: SessionDep, actor: UserDep, area: Code = None) -> dict[str, Any]:
    return {"ok": True, "counts": queue_counts(session, actor, area)}


@router.get("/api/cases/categories", summary="Case categories (小类) to pick from",
            response_model=Page[CategoryOut])
def api_categories(session: SessionDep,
                   page: Annotated[PageRequest, paging(500, 1000)]) -> dict[str, Any]:
    return page.slice([
        {"code": c.code, "kind": c.kind, "parent_code": c.parent_code,
         "name": bilingual(c.name_zh, c.name_en), "name_zh": c.name_zh, "name_en": c.name_en,
         "department_code": c.department_code, "time_limit_hours": c.time_limit_hours}
        for c in leaf_categories(session)])


@router.get("/api/cases/nearby", summary="Open cases of a category near a position",
            response_model=Page[NearbyCaseOut])
def api_nearby(session: SessionDep, runtime: RuntimeDep,
               page: Annotated[PageRequest, paging(10, 50)],
               lat: Annotated[float, Query(ge=-90, le=90)],
               lon: Annotated[float, Query(ge=-180, le=180)], category: Code = None,
               radius: Annotated[float | None, Query(gt=0, le=2000)] = None) -> dict[str, Any]:
    """The nearest first (at most 50 in all); times in the district's zone."""
    found = nearby(session, lat, lon, category, radius or runtime.cases.nearby_metres, 50)
    tz = runtime.tz
    return page.slice([
        {"id": c.id, "category_code": c.category_code, "status": c.status,
         "status_label": translate(STATUSES[c.status]), "distance_m": round(d, 1),
         "reported_at": c.reported_at.astimezone(tz).isoformat()} for c, d in found])


@router.post("/api/cases", summary="Report a case (idempotent with Idempotency-Key)",
             status_code=201, response_model=ReportAckOut, responses={
                 200: {"model": ReportAckOut, "description": "The same report was taken in "
                                                             "before (same Idempotency-Key)"},
                 401: {"model": ErrorOut}, 403: {"model": ErrorOut}},
             openapi_extra={"security": REQUIRED})
async def api_report(request: Request, body: ReportIn,
                     idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key",
                                                                   max_length=64)] = None
                     ) -> Response:
    """Reports go through the group-commit writer: acknowledged only once committed.

    Well-formed JSON reports of machine clients are normally served by the intake's fast path
    (``governance.fastpath``) before they reach this route, doing exactly what it does
    (``governance.intake_http``); this route answers the rest (and every report when
    ``CITYGROWTH_CASES_FAST_PATH=false``) and documents the endpoint."""
    key, uid = credentials(request)
    return await report(request.app, key, uid, body, idempotency_key)


PHOTO_PERMISSIONS = ("case.report", "case.handle", "case.verify", "case.rework")
PHOTO_BODY = {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["photo"], "properties": {
        "photo": {"type": "string", "format": "binary"}}}},
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
    "image/png": {"schema": {"type": "string", "format": "binary"}},
    "image/webp": {"schema": {"type": "string", "format": "binary"}}}}


def _store(runtime: Runtime, photo: media.Encoded, owner: str) -> dict[str, Any]:
    with runtime.session() as s:
        row = media.store_photo(s, runtime.settings.store_dir, photo, owner, runtime.now())
        ref = media.ref_of(row.id)
        return {"ok": True, "url": ref, "thumbnail": media.thumb_ref(ref), "width": row.width,
                "height": row.height}


@router.post("/api/cases/photos", summary="Upload a case photo", status_code=201,
             response_model=PhotoOut,
             openapi_extra={**photo_route(1, PHOTO_BODY), "x-reads-body": True})
async def api_photo(request: Request, actor: ActorDep, runtime: RuntimeDep) -> dict[str, Any]:
    """One photo (multipart field ``photo``, or the image itself as the body), at most
    ``photo_max_mb`` MiB. It is checked by its bytes (JPEG, PNG, WebP), re-encoded without its
    metadata (EXIF, GPS) and kept under a random name; the answer's ``url`` is what a report
    (``photos``) or an action (``photos``) then names. Only its uploader can use it, once."""
    if not any(can(actor, p) for p in PHOTO_PERMISSIONS):
        require(actor, "case.report")
    limits = media.Limits.of(runtime.settings)
    body = await media.read_limited(request, photo_body_limit(limits.max_bytes, 1), limits)
    if request.headers.get("content-type", "").startswith("image/"):
        name, data = "photo", body
    else:
        form = await media.parse_form(request.headers, body, max_files=1, max_fields=4)
        files = await media.form_photos(form, "photo", 1)
        if not files:
            raise ValidationFailed(problems=[Problem("The photo is empty.", field="photo")])
        name, data = files[0]
    if not data:
        raise ValidationFailed(problems=[Problem("The photo is empty.", field="photo")])
    photo = await run_in_threadpool(media.encode_photo, data, limits, name)
    return await run_in_threadpool(_store, runtime, photo, media.owner_of(actor))


@router.get("/media/cases/{name}", summary="A case photo", include_in_schema=False)
def media_file(session: SessionDep, actor: ActorDep, settings: SettingsDep,
               name: Annotated[str, Path(max_length=60)]) -> FileResponse:
    """A stored photo (``<id>.jpg``) or its thumbnail (``<id>.thumb.jpg``), for those who may
    see its case (``service.photo_readable``); anyone else gets 404."""
    found = media.file_for(settings.store_dir, name)
    row = session.get(CaseMedia, found[0]) if found else None
    if found is None or row is None or not photo_readable(session, actor, row):
        raise NotFound()
    return media.photo_response(found[1])


@router.get("/api/cases/evaluation", summary="Evaluation per department, street, grid, month",
            response_model=Page[EvaluationRowOut])
def api_evaluation(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                   page: Annotated[PageRequest, paging(1000, 5000)],
                   month: Annotated[list[Month] | None, Query(max_length=24)] = None,
                   level: Annotated[str | None, Query(
                       pattern=r"^(district|street|grid|department)$")] = None
                   ) -> dict[str, Any]:
    df = _evaluation(session, actor, runtime, month, level)
    return page.slice(df.astype(object).where(df.notna(), None).to_dict("records"))


@router.get("/api/cases/evaluation.csv", summary="Evaluation as CSV", response_class=Response,
            responses=CSV)
def api_evaluation_csv(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                       month: Annotated[list[Month] | None, Query(max_length=24)] = None,
                       level: Annotated[str | None, Query(
                           pattern=r"^(district|street|grid|department)$")] = None) -> Response:
    df = _evaluation(session, actor, runtime, month, level)
    cols, rows = frame_table(df)
    return csv_response(cols, rows, "evaluation", get_locale())


def _evaluation(session: Session, actor: Actor, runtime: Runtime, month: list[str] | None,
                level: str | None) -> pd.DataFrame:
    df = evaluate(session, actor, month or recent_months(runtime), runtime.calendar)
    return df[df["level"] == level].reset_index(drop=True) if level else df


@router.get("/api/cases/{case_id}", summary="One case with its history",
            response_model=CaseDetailOut)
def api_case(runtime: RuntimeDep, session: SessionDep, actor: UserDep,
             case_id: Annotated[int, Path(ge=1, le=2**31)]) -> dict[str, Any]:
    """The case and its history; times in the district's zone, ISO 8601 with the offset."""
    case = get_case(session, actor, case_id)
    tz = runtime.tz
    return {"ok": True, "case": case_dict(session, case, actor=actor, tz=tz,
                                          calendar=runtime.calendar),
            "events": [event_dict(e, tz) for e in events_of(session, case)]}


@router.post("/api/cases/{case_id}/actions/{action}", summary="Apply a lifecycle action",
             response_model=CaseActedOut)
def api_act(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
            case_id: Annotated[int, Path(ge=1, le=2**31)],
            action: Annotated[str, Path(max_length=30)], body: ActionIn) -> dict[str, Any]:
    case = act(session, actor, case_id, action, runtime=runtime, **body.model_dump())
    return {"ok": True, "case": case_dict(session, case, actor=actor, tz=runtime.tz)}
