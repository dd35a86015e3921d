"""Intake over HTTP: the push API, the upload page, Excel templates and the load history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from citygrowth import durable
from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import require
from citygrowth.catalog.datasets import get_dataset, list_datasets
from citygrowth.errors import ValidationFailed
from citygrowth.i18n import get_locale
from citygrowth.ingest import history
from citygrowth.ingest.readers import ReadLimits, check_upload, readers
from citygrowth.ingest.schemas import DatasetOut, LoadOut, LoadRecordOut
from citygrowth.ingest.service import LoadResult, load_file, record_rejection
from citygrowth.ingest.templates_xlsx import dataset_template
from citygrowth.ingest.validate import LoadRejected
from citygrowth.runtime import Runtime
from citygrowth.web.deps import RuntimeDep, SessionDep, UserDep
from citygrowth.web.openapi import CSV, XLSX
from citygrowth.web.paging import Page, PageRequest, paging
from citygrowth.web.render import columns, csv_response, workbook_response
from citygrowth.web.templating import export_time, render_page

router = APIRouter(tags=["ingest"])
UPLOAD_BODY = {
    "requestBody": {"content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["dataset", "file"], "properties": {
            "csrf_token": {"type": "string"}, "dataset": {"type": "string"},
            "file": {"type": "string", "format": "binary"}}}}}},
}
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


def _file_name(upload: UploadFile) -> str:
    name = Path(upload.filename or "").name.strip()
    return name if name not in ("", ".", "..") else "upload.csv"


def _too_large(limit: int) -> ValidationFailed:
    return ValidationFailed("The upload is larger than {mb} MiB.", code="too_large", status=413,
                            mb=limit // 2**20)


def _copy(src: BinaryIO, path: Path, limit: int) -> None:
    size = 0
    with path.open("wb") as out:
        while chunk := src.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            out.write(chunk)


async def _save_upload(upload: UploadFile, folder: Path, limit: int) -> Path:
    """The uploaded file (spooled to disk by the form parser) as a file of its own name."""
    path = folder / _file_name(upload)
    await run_in_threadpool(_copy, upload.file, path, limit)
    return path


async def _save_body(request: Request, folder: Path, limit: int) -> Path:
    """A pushed JSON body, streamed to ``request.json`` without holding it in memory."""
    path = folder / "request.json"
    size, buffer = 0, bytearray()
    with path.open("wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            buffer += chunk
            if len(buffer) >= 1 << 20:
                await run_in_threadpool(out.write, bytes(buffer))
                buffer.clear()
        await run_in_threadpool(out.write, bytes(buffer))
    if size == 0:
        raise ValidationFailed("The body is not valid JSON.", code="bad_json")
    return path


def _load(session: Session, runtime: Runtime, actor: Actor, path: Path, dataset: str,
          source: str, file_name: str) -> LoadResult:
    """Run in a worker thread: the upload's limits, then the load (all or nothing); a rejected
    load is kept in the history."""
    check_upload(path, ReadLimits.of(runtime.settings))
    try:
        return load_file(session, runtime, actor, path, dataset=dataset, source=source,
                         file_name=file_name)
    except LoadRejected as err:
        _rejected(session, actor, err)
        raise


@router.post("/api/ingest/{dataset}", summary="Push observations for a dataset",
             openapi_extra=PUSH_BODY, response_model=LoadOut)
async def push(dataset: str, request: Request, session: SessionDep, runtime: RuntimeDep,
               actor: UserDep) -> dict[str, Any]:
    """Send rows as JSON (a list of objects, or ``{"rows": [...]}``) or a file (multipart
    field ``file``: CSV, XLSX or JSON) with the department's API key (``X-API-Key``). All or
    nothing: any problem rejects the whole request with 422 and the problems. The body is
    streamed to disk (at most ``max_upload_mb``) and loaded in a worker thread."""
    require(actor, "data.load", get_dataset(dataset, runtime.frameworks.load()))
    limit = runtime.settings.max_upload_mb * 2**20
    with durable.scratch(runtime.settings) as tmp:  # under the data folder, cleaned at start-up
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form(max_files=1, max_fields=10)
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ValidationFailed("Send the data as a file in the field 'file'.",
                                       code="no_file")
            path, name = await _save_upload(upload, Path(tmp), limit), _file_name(upload)
        else:
            path, name = await _save_body(request, Path(tmp), limit), "request.json"
        try:
            result = await run_in_threadpool(_load, session, runtime, actor, path, dataset,
                                             "push", name)
        except ValidationFailed as err:
            if name == "request.json" and err.code == "unreadable_file":
                raise ValidationFailed("The body is not valid JSON.", code="bad_json",
                                       problems=err.problems) from None
            raise
    return {"ok": True, **result.as_dict()}


@router.get("/api/ingest/datasets", summary="Datasets and their schemas",
            response_model=Page[DatasetOut])
def datasets(runtime: RuntimeDep,
             page: Annotated[PageRequest, paging(100, 1000)]) -> dict[str, Any]:
    """The datasets departments send, with columns and indicators (as
    ``/api/catalog/datasets``)."""
    fw = runtime.frameworks.load()
    return page.slice([d.as_dict(fw) for d in list_datasets(fw)])


LoadsStatus = Annotated[str | None, Query(pattern=r"^(accepted|rejected)$")]
LoadsDataset = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
LoadsLimit = Annotated[int, Query(ge=1, le=10000, description=(
    "How many of the newest loads: 1000 unless given, at most 10000."))]


@router.get("/api/ingest/loads", summary="Load history, newest first",
            response_model=Page[LoadRecordOut])
def loads(session: SessionDep, actor: UserDep,
          page: Annotated[PageRequest, paging(100, 1000)], status: LoadsStatus = None,
          dataset: LoadsDataset = None) -> dict[str, Any]:
    """Who, when, source hash, vintage, rows, status and problems of each load."""
    after = page.after_as(int)
    rows = history.list_loads(session, actor, status=status, dataset=dataset,
                              limit=page.limit + 1, before=after[0] if after else None)
    return page.answer(rows, key=lambda r: (r["id"],))


@router.get("/api/ingest/loads.csv", summary="Load history as CSV", response_class=Response,
            responses=CSV)
def loads_csv(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
              status: LoadsStatus = None, dataset: LoadsDataset = None,
              limit: LoadsLimit = 1000) -> Response:
    """The load history as CSV (problems counted, not listed); times in the district's zone."""
    rows = history.list_loads(session, actor, status=status, dataset=dataset, limit=limit)
    tz = runtime.tz
    local = [{k: export_time(v, tz) if k in ("created_at", "vintage") else v
              for k, v in r.items()} for r in rows]
    return csv_response(columns(*history.CSV_COLUMNS), local, "loads", get_locale())


@router.get("/data/templates/{dataset}.xlsx", summary="Excel template of a dataset",
            response_class=Response, responses=XLSX)
def template(dataset: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    """A workbook with a ``data`` sheet (header comments list allowed codes, periods, units)
    and a sheet per list."""
    fw = runtime.frameworks.load()
    body = dataset_template(session, runtime.settings, fw, get_dataset(dataset, fw))
    return workbook_response(body, dataset)


@router.get("/data/upload", summary="Upload page", response_class=HTMLResponse)
def upload_page(request: Request, actor: UserDep, runtime: RuntimeDep) -> Response:
    """Choose a dataset and a file; problems are listed with row and column. The file types
    offered are those of every reader, plugins' included."""
    return render_page(request, "ingest/upload.html", actor, {
        "datasets": list_datasets(runtime.frameworks.load()),
        "extensions": sorted(readers(runtime))})


@router.post("/data/upload", summary="Upload a file (form)", response_class=HTMLResponse,
             openapi_extra=UPLOAD_BODY,
             responses={404: {"description": "No dataset of that name."}})
async def upload(request: Request, session: SessionDep, runtime: RuntimeDep,
                 actor: UserDep) -> Response:
    """Form fields ``dataset`` and ``file``; answers with the result (an htmx partial). The
    file is loaded in a worker thread; a file over the limits is refused with the reason."""
    require(actor, "data.load")
    form = await request.form(max_files=1, max_fields=10)
    dataset = str(form.get("dataset") or "")
    upload_file = form.get("file")
    if not dataset or not isinstance(upload_file, UploadFile):
        raise ValidationFailed("Choose a dataset and a file.", code="no_file")
    get_dataset(dataset, runtime.frameworks.load())
    ctx: dict[str, Any] = {}
    try:
        with durable.scratch(runtime.settings) as tmp:  # under the data folder
            path = await _save_upload(upload_file, Path(tmp),
                                      runtime.settings.max_upload_mb * 2**20)
            ctx["result"] = await run_in_threadpool(
                _load, session, runtime, actor, path, dataset, "upload", _file_name(upload_file))
    except (LoadRejected, ValidationFailed) as err:
        ctx.update(error=err.render_message(), problems=[p.render() for p in err.problems])
    status = 422 if "error" in ctx and not request.headers.get("hx-request") else 200
    return render_page(request, "ingest/_result.html", actor, ctx, status_code=status)


@router.get("/data/loads", summary="Load history page", response_class=HTMLResponse)
def loads_page(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
               status: LoadsStatus = None, dataset: LoadsDataset = None) -> Response:
    """Every load, newest first, with the problems of rejected ones."""
    rows = history.list_loads(session, actor, status=status, dataset=dataset, limit=200)
    return render_page(request, "ingest/loads.html", actor,
                       {"loads": rows, "status": status or "", "dataset": dataset or "",
                        "datasets": list_datasets(runtime.frameworks.load())})

