"""Data health: freshness per indicator and department, late indicators, failed loads."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import departments_for, require
from citygrowth.errors import fill
from citygrowth.i18n import _, bilingual, translate
from citygrowth.observatory.models import ObservationLoad
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import Runtime
from citygrowth.screens import charts

FAILED_LIMIT = 50


def department_names(session: Session) -> dict[str, str]:
    return {d.code: bilingual(d.name_zh, d.name_en) for d in session.scalars(select(Department))}


def data_health(session: Session, actor: Actor, runtime: Runtime) -> dict[str, Any]:
    """Freshness of every indicator (limited to the viewer's departments, if any)."""
    require(actor, "data.health.view")
    depts = departments_for(actor, "data.health.view")
    names = department_names(session)
    store = ObservationStore(runtime.settings)
    rows = [r for r in store.freshness(session, runtime.frameworks.load(), runtime.today())
            if depts is None or r["department"] in depts]
    for r in rows:
        r["name"] = bilingual(r["name_zh"], r["name_en"])
        r["department_name"] = names.get(r["department"], r["department"])
    by_dept: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"indicators": 0, "stale": 0, "last_load_at": None})
    for r in rows:
        d = by_dept[r["department"]]
        d["indicators"] += 1
        d["stale"] += int(bool(r["stale"]))
        last = r["last_load_at"]
        if last and (d["last_load_at"] is None or last > d["last_load_at"]):
            d["last_load_at"] = last
    departments = [{"department": k, "name": names.get(k, k), **v,
                    "fresh": v["indicators"] - v["stale"]} for k, v in sorted(by_dept.items())]
    failed = failed_loads(session, depts)
    option = charts.bars(
        [d["name"] for d in departments],
        [{"name": _("Up to date"), "values": [d["fresh"] for d in departments]},
         {"name": _("Late"), "values": [d["stale"] for d in departments]}],
    )
    return {"ok": True, "indicators": rows, "departments": departments,
            "late": [r for r in rows if r["stale"]], "failed_loads": failed, "option": option}


def failed_loads(session: Session, depts: set[str] | None) -> list[dict[str, Any]]:
    q = (select(ObservationLoad).where(ObservationLoad.status == "rejected")
         .order_by(ObservationLoad.created_at.desc()).limit(FAILED_LIMIT))
    out = []
    for load in session.scalars(q):
        if depts is not None and load.department_code not in depts:
            continue
        first = (load.problems or [{}])[0]
        out.append({"load_id": load.load_id, "at": load.created_at.isoformat(),
                    "dataset": load.dataset, "department": load.department_code,
                    "file_name": load.file_name, "actor": load.actor,
                    "problem_count": load.problem_count,
                    "first_problem": _problem_text(first)})
    return out


def _problem_text(stored: dict[str, Any]) -> str:
    """A stored problem (msgid and params) as the reader reads it, in their language."""
    if not stored.get("message"):
        return ""
    return fill(translate(str(stored["message"])), dict(stored.get("params") or {}))


def indicators_table(data: dict[str, Any]) -> pd.DataFrame:
    cols = ["indicator", "name", "department", "frequency", "last_period", "last_load_at",
            "expected_next", "stale"]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in data["indicators"]], columns=cols)
