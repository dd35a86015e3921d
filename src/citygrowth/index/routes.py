"""JSON API of the index (``/api/index/…``); thin over the service. Tables also as CSV."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query

from citygrowth.i18n import N_, get_locale
from citygrowth.index import service
from citygrowth.index.schemas import ComputeIn
from citygrowth.web.deps import RuntimeDep, SessionDep, UserDep
from citygrowth.web.render import csv_response, frame_table

router = APIRouter(prefix="/api/index", tags=["index"])

Level = Literal["street", "community", "grid"]
Framework = Annotated[str, Query(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")]
Code = Annotated[str, Query(min_length=1, max_length=60)]
PeriodQ = Annotated[str, Query(min_length=4, max_length=12)]
# optional parameters: ``| None`` inside ``Annotated`` (outside, pydantic sees the Query on
# one member of a union and warns that its alias has no effect)
FrameworkOpt = Annotated[str | None, Query(min_length=1, max_length=60,
                                           pattern=r"^[A-Za-z0-9_.-]+$")]
CodeOpt = Annotated[str | None, Query(min_length=1, max_length=60)]
PeriodOpt = Annotated[str | None, Query(min_length=4, max_length=12)]


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    clean = df.astype(object).where(pd.notna(df), None)
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
            for r in clean.to_dict("records")]


# in index tables ``unit`` is the area the index ranks and ``code`` a node of the framework
LABELS = {"unit": N_("Area code"), "code": N_("Node")}


def _table(df: pd.DataFrame, fmt: str, name: str) -> Any:
    if fmt == "csv":
        cols, rows = frame_table(df, LABELS)
        return csv_response(cols, rows, name, get_locale())
    return {"ok": True, "rows": _records(df)}


@router.get("/results", summary="Index results per unit, period and node")
def results(runtime: RuntimeDep, actor: UserDep, framework: Framework = "default",
            vintage: Annotated[str, Query(max_length=40)] = "latest", level: Level = "street",
            period: PeriodOpt = None, code: CodeOpt = None,
            format: Literal["json", "csv"] = "json") -> Any:
    df = service.results_for(runtime, actor, framework, vintage, level, period, code)
    return _table(df, format, f"index-{level}")


@router.get("/runs", summary="Runs of the index, newest first")
def runs(session: SessionDep, actor: UserDep, framework: FrameworkOpt = None,
         limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    return {"ok": True, "runs": [r.as_dict() for r in service.list_runs(
        session, actor, framework, limit)]}


@router.post("/runs", summary="Compute the index now from the observation store")
def compute(body: ComputeIn, session: SessionDep, runtime: RuntimeDep,
            actor: UserDep) -> dict[str, Any]:
    run = service.compute_index(session, runtime, actor, body.framework)
    return {"ok": True, "run": run.as_dict()}


@router.get("/audit", summary="Statistical audit of the latest run")
def audit(runtime: RuntimeDep, actor: UserDep, framework: Framework = "default",
          level: Level = "street") -> dict[str, Any]:
    return {"ok": True, **service.audit_for(runtime, actor, framework, level)}


@router.get("/uncertainty", summary="Monte Carlo rank intervals per unit")
def uncertainty(runtime: RuntimeDep, actor: UserDep, framework: Framework = "default",
                level: Level = "street", runs: Annotated[int, Query(ge=2, le=200)] = 50,
                weights_noise: Annotated[float, Query(ge=0, le=1)] = 0.25,
                vary_aggregation: bool = True, seed: Annotated[int, Query(ge=0, le=2**31)] = 1,
                remedy: Literal["shift", "rescale"] | None = None,
                format: Literal["json", "csv"] = "json") -> Any:
    """Per unit and period: nominal and median rank, the 5–95 % interval and ``zero_share``
    (the share of replications in which a zero under the geometric mean set or pulled down
    the unit's index); ``remedy`` applies ``shift`` or ``rescale`` to every replication."""
    df = service.uncertainty_for(runtime, actor, framework, level, runs, weights_noise,
                                 vary_aggregation, seed, remedy)
    if format == "csv":
        return _table(df, format, f"index-uncertainty-{level}")
    return {"ok": True, "rows": _records(df), "replications": runs,
            "zero_replications": int(df.attrs.get("zero_replications", 0))}


@router.get("/explanations", summary="Each indicator's contribution to a unit's change")
def explanations(runtime: RuntimeDep, actor: UserDep, unit: Code, start: PeriodQ,
                 end: PeriodQ, framework: Framework = "default", level: Level = "street",
                 code: CodeOpt = None, format: Literal["json", "csv"] = "json") -> Any:
    df = service.explain_for(runtime, actor, unit, start, end, framework, level, code)
    if format == "csv":
        return _table(df, format, f"index-explain-{unit}")
    return {"ok": True, "change": df.attrs["node_change"], "residual": df.attrs["residual"],
            "rows": _records(df)}


@router.get("/strengths", summary="A unit's strongest and weakest indicators")
def strengths(runtime: RuntimeDep, actor: UserDep, unit: Code, period: PeriodQ,
              framework: Framework = "default", level: Level = "street",
              n: Annotated[int, Query(ge=1, le=50)] = 5) -> dict[str, Any]:
    return {"ok": True, **service.strengths_for(runtime, actor, unit, period, framework,
                                                level, n)}
