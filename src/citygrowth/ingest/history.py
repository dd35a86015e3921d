"""The load history: accepted and rejected loads, filtered to what the actor may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can, departments_for, require
from citygrowth.errors import Problem
from citygrowth.ingest.validate import LevelProblem
from citygrowth.observatory.models import ObservationLoad

CSV_COLUMNS = ["load_id", "status", "dataset", "department", "source", "file_name", "actor",
               "created_at", "vintage", "sha256", "rows", "problem_count", "period_min",
               "period_max", "illustrative"]


def list_loads(session: Session, actor: Actor, *, status: str | None = None,
               dataset: str | None = None, limit: int = 100,
               before: int | None = None) -> list[dict[str, Any]]:
    """Newest first (older than the load numbered ``before``, if given). Department officers
    see their departments' loads and their own."""
    require(actor, "data.view")
    q = select(ObservationLoad).order_by(ObservationLoad.id.desc()).limit(limit)
    if before is not None:
        q = q.where(ObservationLoad.id < before)
    if status:
        q = q.where(ObservationLoad.status == status)
    if dataset:
        q = q.where(ObservationLoad.dataset == dataset)
    depts = departments_for(actor, "data.load") if can(actor, "data.load") else None
    if depts is not None and not actor.is_system:
        q = q.where(or_(ObservationLoad.department_code.in_(sorted(depts)),
                        ObservationLoad.dataset.in_(sorted(depts)),
                        ObservationLoad.actor == actor.username))
    return [load_dict(x) for x in session.scalars(q)]


def load_dict(x: ObservationLoad) -> dict[str, Any]:
    return {
        "id": x.id, "load_id": x.load_id, "status": x.status, "dataset": x.dataset,
        "department": x.department_code, "source": x.source, "file_name": x.file_name,
        "actor": x.actor, "created_at": x.created_at.isoformat(),
        "vintage": x.vintage.isoformat(), "sha256": x.sha256, "rows": x.row_count,
        "problem_count": x.problem_count, "period_min": x.period_min,
        "period_max": x.period_max, "illustrative": x.illustrative,
        "indicators": list(x.indicators or []),
        "problems": [_render(p) for p in (x.problems or [])],
    }


def _render(p: dict[str, Any]) -> dict[str, Any]:
    cls = LevelProblem if "area_level" in (p.get("params") or {}) else Problem
    return cls(p["message"], p.get("params") or {}, p.get("file"), p.get("row"),
               p.get("field"), p.get("value")).render()
