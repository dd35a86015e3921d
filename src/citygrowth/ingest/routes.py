"""Intake over HTTP: the push API, the upload page, Excel templates and the load history."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.catalog.datasets import get_dataset, list_datasets
from citygrowth.errors import ValidationFailed
from citygrowth.ingest import history
from citygrowth.ingest.readers import records_table
from citygrowth.ingest.service import LoadResult, load_file, load_observations, record_rejection
from citygrowth.ingest.templates_xlsx import dataset_template
from citygrowth.ingest.validate import LoadRejected
from citygrowth.observatory.routes import frame_csv
from citygrowth.runtime import Runtime
from citygrowth.settings import Settings
from citygrowth.web.deps import RuntimeDep, SessionDep, UserDep
from citygrowth.web.templating import export_time, render_page

router = APIRouter(tags=["ingest"])
PUSH_BODY = {
    "requestBody": {"content": {
        "application/json": {"schema": {"oneOf": [
            {"type": "array", "items": {"type": "object"}},
            {"type": "object", "properties": {"rows": {"type": "array",
                                                       "items": {"type": "object"}}}},
        ]}},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}}}},
    }},
}


def _rejected(session: Session, actor: Actor, err: LoadRejected) -> None:
    session.rollback()
    record_rejection(session, actor, err)
    session.commit()


async def _upload_to_file(upload: Any, settings: Settings, tmp: Path) -> Path:
    name = Path(str(getattr(upload, "filename", "") or "upload.csv")).name
    path = tmp / name
    limit = settings.max_upload_mb * 2**20
    size = 0
    with path.open("wb") as fh:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise ValidationFailed("The upload is larger than {mb} MiB.", code="too_large",
                                       status=413, mb=settings.max_upload_mb)
            fh.write(chunk)
    return path


def _load_rows(session: Session, runtime: Runtime, actor: Actor, dataset: str,
               data: Any) -> LoadResult:
    frame = records_table(data).to_pandas()
    return load_observations(session, runtime, actor, frame, dataset=dataset, source="push",
                             file_name="request.json")


@router.post("/api/ingest/{dataset}", summary="Push observations for a dataset",
             openapi_extra=PUSH_BODY)
async def push(dataset: str, request: Request, session: SessionDep, runtime: RuntimeDep,
               actor: UserDep) -> dict[str, Any]:
    """Send rows as JSON (a list of objects, or ``{"rows": [...]}``) or a file (multipart
    field ``file``: CSV, XLSX or JSON) with the department's API key (``X-API-Key``). All or
    nothing: any problem rejects the whole request with 422 and the problems."""
    get_dataset(dataset, runtime.frameworks.load())
    ctype = request.headers.get("content-type", "")
    try:
        if ctype.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise ValidationFailed("Send the data as a file in the field 'file'.",
                                       code="no_file")
            with tempfile.TemporaryDirectory() as tmp:
                path = await _upload_to_file(upload, runtime.settings, Path(tmp))
                result = load_file(session, runtime, actor, path, dataset=dataset,
                                   source="push")
        else:
            try:
                data = json.loads(await request.body() or b"null")
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ValidationFailed("The body is not valid JSON.", code="bad_json") from None
            result = _load_rows(session, runtime, actor, dataset, data)
    except LoadRejected as err:
        _rejected(session, actor, err)
        raise
    return {"ok": True, **result.as_dict()}


@router.get("/api/ingest/datasets", summary="Datasets and their schemas")
def datasets(runtime: RuntimeDep) -> dict[str, Any]:
    """The datasets departments send, with columns and indicators."""
    fw = runtime.frameworks.load()
    return {"datasets": [d.as_dict(fw) for d in list_datasets(fw)]}


LoadsStatus = Annotated[str | None, Query(pattern=r"^(accepted|rejected)$")]
LoadsDataset = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
LoadsLimit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/api/ingest/loads", summary="Load history")
def loads(session: SessionDep, actor: UserDep, status: LoadsStatus = None,
          dataset: LoadsDataset = None, limit: LoadsLimit = 100) -> dict[str, Any]:
    """Latest loads first: who, when, source hash, vintage, rows, status and problems."""
    rows = history.list_loads(session, actor, status=status, dataset=dataset, limit=limit)
    return {"count": len(rows), "loads": rows}


@router.get("/api/ingest/loads.csv", summary="Load history as CSV", response_class=Response)
def loads_csv(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
              status: LoadsStatus = None, dataset: LoadsDataset = None,
              limit: LoadsLimit = 1000) -> Response:
    """The load history as CSV (problems counted, not listed); times in the district's zone."""
    rows = history.list_loads(session, actor, status=status, dataset=dataset, limit=limit)
    tz = runtime.tz
    df = pd.DataFrame([{k: export_time(v, tz) if k in ("created_at", "vintage") else v
                        for k, v in r.items() if k != "problems"} for r in rows],
                      columns=history.CSV_COLUMNS)
    return frame_csv(df, "loads")


@router.get("/data/templates/{dataset}.xlsx", summary="Excel template of a dataset",
            response_class=Response)
def template(dataset: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    """A workbook with a ``data`` sheet (header comments list allowed codes, periods, units)
    and a sheet per list."""
    fw = runtime.frameworks.load()
    body = dataset_template(session, runtime.settings, fw, get_dataset(dataset, fw))
    return Response(body, media_type="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{dataset}.xlsx"'})


@router.get("/data/upload", summary="Upload page", response_class=Response)
def upload_page(request: Request, actor: UserDep, runtime: RuntimeDep) -> Response:
    """Choose a dataset and a file; problems are listed with row and column."""
    return render_page(request, "ingest/upload.html", actor,
                       {"datasets": list_datasets(runtime.frameworks.load())})


@router.post("/data/upload", summary="Upload a file (form)", response_class=Response)
async def upload(request: Request, session: SessionDep, runtime: RuntimeDep,
                 actor: UserDep) -> Response:
    """Form fields ``dataset`` and ``file``; answers with the result (an htmx partial)."""
    form = await request.form()
    dataset = str(form.get("dataset") or "")
    upload_file = form.get("file")
    if not dataset or upload_file is None or isinstance(upload_file, str):
        raise ValidationFailed("Choose a dataset and a file.", code="no_file")
    get_dataset(dataset, runtime.frameworks.load())
    ctx: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = await _upload_to_file(upload_file, runtime.settings, Path(tmp))
            ctx["result"] = load_file(session, runtime, actor, path, dataset=dataset,
                                      source="upload")
    except LoadRejected as err:
        _rejected(session, actor, err)
        ctx.update(error=err.render_message(), problems=[p.render() for p in err.problems])
    status = 422 if "error" in ctx and not request.headers.get("hx-request") else 200
    return render_page(request, "ingest/_result.html", actor, ctx, status_code=status)


@router.get("/data/loads", summary="Load history page", response_class=Response)
def loads_page(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
               status: LoadsStatus = None, dataset: LoadsDataset = None) -> Response:
    """Every load, newest first, with the problems of rejected ones."""
    rows = history.list_loads(session, actor, status=status, dataset=dataset, limit=200)
    return render_page(request, "ingest/loads.html", actor,
                       {"loads": rows, "status": status or "", "dataset": dataset or "",
                        "datasets": list_datasets(runtime.frameworks.load())})

