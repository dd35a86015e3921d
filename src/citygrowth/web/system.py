"""System routes: ``/healthz`` (liveness, and whether the store and the data folder can be
written) and ``/favicon.ico``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from citygrowth import __version__
from citygrowth.durable import scratch_dir
from citygrowth.errors import Problem
from citygrowth.i18n import N_, get_locale
from citygrowth.settings import Settings
from citygrowth.storage import StorageUnavailable, storage_failure
from citygrowth.web.deps import RuntimeDep, SessionDep
from citygrowth.web.schemas import HealthOut

router = APIRouter(tags=["system"])
FAVICON = Path(__file__).parent / "static" / "favicon.ico"
#: less free space than this in the data folder is reported as trouble
MIN_FREE_BYTES = 64 * 2**20


def store_check(session: Session, settings: Settings) -> dict[str, Any]:
    """Whether the operational store answers and can be written (without writing to it)."""
    backend = session.get_bind().dialect.name
    session.execute(text("SELECT 1"))
    out: dict[str, Any] = {"backend": backend, "reachable": True, "writable": True}
    if backend == "sqlite":
        database = make_url(settings.resolved_database_url).database or ""
        if database and database != ":memory:":
            path = Path(database)
            out["writable"] = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
        if session.execute(text("PRAGMA query_only")).scalar():
            out["writable"] = False
    elif backend == "postgresql":
        read_only = session.execute(text("SHOW transaction_read_only")).scalar()
        in_recovery = session.execute(text("SELECT pg_is_in_recovery()")).scalar()
        out["writable"] = read_only != "on" and not in_recovery
    return out


def folder_check(settings: Settings) -> dict[str, Any]:
    """Whether a file can be made in the data folder, and how much room is left."""
    out: dict[str, Any] = {"writable": True, "free_mb": None}
    try:
        with tempfile.NamedTemporaryFile(dir=scratch_dir(settings), prefix="healthz-") as fh:
            fh.write(b"ok")
            fh.flush()
        out["free_mb"] = shutil.disk_usage(settings.data_dir).free // 2**20
    except OSError:
        out["writable"] = False
    return out


def _problems(store: dict[str, Any], folder: dict[str, Any]) -> list[Problem]:
    problems = []
    if not store["reachable"]:
        problems.append(Problem(N_("The database does not answer."), field="store"))
    elif not store["writable"]:
        problems.append(Problem(N_("The database cannot be written to."), field="store"))
    if not folder["writable"]:
        problems.append(Problem(N_("The data folder cannot be written to."), field="data_dir"))
    elif folder["free_mb"] is not None and folder["free_mb"] * 2**20 < MIN_FREE_BYTES:
        problems.append(Problem(N_("The data folder has only {mb} MiB of free space left."),
                                {"mb": folder["free_mb"]}, field="data_dir"))
    return problems


@router.get("/healthz", summary="Health check", response_model=HealthOut,
            responses={503: {"description": "Not healthy: the database or the data folder "
                                            "cannot be written (``errors`` names which)."}})
def healthz(session: SessionDep, runtime: RuntimeDep) -> Response:
    """``{"ok": true, …}`` when the app runs, its database answers and can be written, and
    its data folder can be written with room to spare; else 503 naming what is wrong (so a
    read-only or full store is not reported healthy)."""
    settings = runtime.settings
    try:
        store = store_check(session, settings)
    except (SQLAlchemyError, OSError) as exc:
        if storage_failure(exc) is None:
            raise
        store = {"backend": session.get_bind().dialect.name, "reachable": False,
                 "writable": False}
    folder = folder_check(settings)
    problems = _problems(store, folder)
    if not problems:
        return JSONResponse({"ok": True, "version": __version__, "store": store,
                             "data_dir": folder})
    error = StorageUnavailable("The server is not healthy.", problems=problems)
    body = error.to_dict(get_locale())
    return JSONResponse(body, status_code=503, headers={"Retry-After": "30"})


@router.get("/favicon.ico", summary="The site's icon", include_in_schema=False)
def favicon() -> FileResponse:
    """Browsers ask for it on every site; pages also link ``/static/favicon.svg``."""
    return FileResponse(FAVICON, media_type="image/vnd.microsoft.icon",
                        headers={"Cache-Control": "public, max-age=86400"})
