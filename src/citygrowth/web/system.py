"""System routes: ``/healthz`` (liveness and database reachability)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from citygrowth import __version__
from citygrowth.web.deps import SessionDep

router = APIRouter(tags=["system"])


@router.get("/healthz", summary="Health check")
def healthz(session: SessionDep) -> dict[str, Any]:
    """Answers ``{"ok": true}`` when the app runs and its database answers."""
    session.execute(text("SELECT 1"))
    return {"ok": True, "version": __version__}
