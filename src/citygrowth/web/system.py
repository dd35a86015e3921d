"""System routes: ``/healthz`` (liveness and database reachability) and ``/favicon.ico``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from sqlalchemy import text

from citygrowth import __version__
from citygrowth.web.deps import SessionDep
from citygrowth.web.schemas import HealthOut

router = APIRouter(tags=["system"])
FAVICON = Path(__file__).parent / "static" / "favicon.ico"


@router.get("/healthz", summary="Health check", response_model=HealthOut)
def healthz(session: SessionDep) -> dict[str, Any]:
    """Answers ``{"ok": true}`` when the app runs and its database answers."""
    session.execute(text("SELECT 1"))
    return {"ok": True, "version": __version__}


@router.get("/favicon.ico", summary="The site's icon", include_in_schema=False)
def favicon() -> FileResponse:
    """Browsers ask for it on every site; pages also link ``/static/favicon.svg``."""
    return FileResponse(FAVICON, media_type="image/vnd.microsoft.icon",
                        headers={"Cache-Control": "public, max-age=86400"})
