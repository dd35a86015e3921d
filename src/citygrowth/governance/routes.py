"""The JSON API of cases (``/api/cases…``) and help tasks (``/api/help…``), and case media."""

from __future__ import annotations

import csv
import io
from pathlib import Path as FsPath
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, File, Header, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import require
from citygrowth.errors import NotFound, ValidationFailed
from citygrowth.governance.evaluation import evaluate, recent_months
from citygrowth.governance.intake import nearby, save_photo
from citygrowth.governance.intake_http import credentials, report
from citygrowth.governance.lifecycle import STATUSES
from citygrowth.governance.schemas import ActionIn, ReportIn
from citygrowth.governance.service import (
    CaseFilter,
    act,
    case_dict,
    event_dict,
    events_of,
    get_case,
    list_cases,
    queue_counts,
)
from citygrowth.governance.taxonomy import leaf_categories
from citygrowth.i18n import bilingual, translate
from citygrowth.runtime import Runtime
from citygrowth.web.deps import RuntimeDep, SessionDep, SettingsDep, UserDep

router = APIRouter(tags=["cases"])
Status = Annotated[list[str] | None, Query(max_length=20)]
Code = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
Queue = Annotated[str | None, Query(pattern=r"^(open|overdue|warning|supervised|pending)$")]
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


def _filter(status: list[str] | None, category: str | None, area: str | None,
            department: str | None, queue: str | None, limit: int, offset: int) -> CaseFilter:
    bad = [s for s in status or [] if s not in STATUSES]
    if bad:
        raise ValidationFailed("Unknown status {value}.", value=bad[0])
    return CaseFilter(status=status, category_code=category, area_prefix=area,
                      department_code=department, queue=queue, limit=limit, offset=offset)


@router.get("/api/cases", summary="Cases the caller may see")
def api_cases(session: SessionDep, actor: UserDep, status: Status = None,
              category: Code = None, area: Code = None, department: Code = None,
              queue: Queue = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Annotated[int, Query(ge=0, le=10**7)] = 0) -> dict[str, Any]:
    f = _filter(status, category, area, department, queue, limit, offset)
    cases, total = list_cases(session, actor, f)
    return {"ok": True, "total": total, "cases": [case_dict(session, c) for c in cases]}


CSV_COLUMNS = ["id", "status", "category_code", "category", "area_code", "department_code",
               "source", "reported_at", "due_at", "closed_at", "overdue", "supervised",
               "escalation_level", "rework_count", "satisfaction", "address"]


@router.get("/api/cases.csv", summary="Cases the caller may see, as CSV")
def api_cases_csv(session: SessionDep, actor: UserDep, status: Status = None,
                  category: Code = None, area: Code = None, department: Code = None,
                  queue: Queue = None) -> Response:
    f = _filter(status, category, area, department, queue, 1000, 0)
    cases, _ = list_cases(session, actor, f)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    w.writeheader()
    for c in cases:
        w.writerow(case_dict(session, c))
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8")


@router.get("/api/cases/queues", summary="Counts per status and queue")
def api_queues(session: SessionDep, actor: UserDep, area: Code = None) -> dict[str, Any]:
    return {"ok": True, "counts": queue_counts(session, actor, area)}


@router.get("/api/cases/categories", summary="Case categories (小类) to pick from")
def api_categories(session: SessionDep) -> dict[str, Any]:
    return {"ok": True, "categories": [
        {"code": c.code, "kind": c.kind, "parent_code": c.parent_code,
         "name": bilingual(c.name_zh, c.name_en), "name_zh": c.name_zh, "name_en": c.name_en,
         "department_code": c.department_code, "time_limit_hours": c.time_limit_hours}
        for c in leaf_categories(session)]}


@router.get("/api/cases/nearby", summary="Open cases of a category near a position")
def api_nearby(session: SessionDep, runtime: RuntimeDep,
               lat: Annotated[float, Query(ge=-90, le=90)],
               lon: Annotated[float, Query(ge=-180, le=180)], category: Code = None,
               radius: Annotated[float | None, Query(gt=0, le=2000)] = None) -> dict[str, Any]:
    found = nearby(session, lat, lon, category, radius or runtime.cases.nearby_metres)
    return {"ok": True, "cases": [
        {"id": c.id, "category_code": c.category_code, "status": c.status,
         "status_label": translate(STATUSES[c.status]), "distance_m": round(d, 1),
         "reported_at": c.reported_at.isoformat()} for c, d in found]}


@router.post("/api/cases", summary="Report a case (idempotent with Idempotency-Key)",
             status_code=201)
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


@router.post("/api/cases/photos", summary="Upload a case photo")
async def api_photo(session: SessionDep, actor: UserDep, settings: SettingsDep,
                    photo: Annotated[UploadFile, File()]) -> dict[str, Any]:
    require(actor, "case.report", None)
    data = await photo.read(settings.max_upload_mb * 1024 * 1024 + 1)
    url = save_photo(settings.store_dir, photo.content_type or "", data, settings.max_upload_mb)
    return {"ok": True, "url": url}


@router.get("/media/cases/{name}", summary="A case photo", include_in_schema=False)
def media(settings: SettingsDep, name: str) -> FileResponse:
    if not name.replace(".", "").isalnum() or name.count(".") != 1:
        raise NotFound()
    path = FsPath(settings.store_dir) / "uploads" / "cases" / name
    if not path.is_file():
        raise NotFound()
    return FileResponse(path)


@router.get("/api/cases/evaluation", summary="Evaluation per department, street, grid, month")
def api_evaluation(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                   month: Annotated[list[str] | None, Query(max_length=24)] = None,
                   level: Annotated[str | None, Query(
                       pattern=r"^(district|street|grid|department)$")] = None
                   ) -> dict[str, Any]:
    df = _evaluation(session, actor, runtime, month, level)
    return {"ok": True, "rows": df.astype(object).where(df.notna(), None).to_dict("records")}


@router.get("/api/cases/evaluation.csv", summary="Evaluation as CSV")
def api_evaluation_csv(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                       month: Annotated[list[str] | None, Query(max_length=24)] = None,
                       level: Annotated[str | None, Query(
                           pattern=r"^(district|street|grid|department)$")] = None) -> Response:
    df = _evaluation(session, actor, runtime, month, level)
    return Response(df.to_csv(index=False), media_type="text/csv; charset=utf-8")


def _evaluation(session: Session, actor: Actor, runtime: Runtime, month: list[str] | None,
                level: str | None) -> pd.DataFrame:
    df = evaluate(session, actor, month or recent_months(runtime), runtime.calendar)
    return df[df["level"] == level].reset_index(drop=True) if level else df


@router.get("/api/cases/{case_id}", summary="One case with its history")
def api_case(session: SessionDep, actor: UserDep,
             case_id: Annotated[int, Path(ge=1, le=2**31)]) -> dict[str, Any]:
    case = get_case(session, actor, case_id)
    return {"ok": True, "case": case_dict(session, case, actor=actor),
            "events": [event_dict(e) for e in events_of(session, case)]}


@router.post("/api/cases/{case_id}/actions/{action}", summary="Apply a lifecycle action")
def api_act(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
            case_id: Annotated[int, Path(ge=1, le=2**31)],
            action: Annotated[str, Path(max_length=30)], body: ActionIn) -> dict[str, Any]:
    case = act(session, actor, case_id, action, runtime=runtime, **body.model_dump())
    return {"ok": True, "case": case_dict(session, case, actor=actor)}
