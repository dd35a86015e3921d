"""JSON API of the index (``/api/index/…``); thin over the service. Tables also as CSV."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query
from fastapi.responses import Response

from citygrowth.i18n import N_, get_locale
from citygrowth.index import service
from citygrowth.index.schemas import (
    AuditOut,
    ComputeIn,
    ExplanationOut,
    ResultRowOut,
    RunAnswer,
    RunOut,
    StrengthsOut,
    UncertaintyPage,
)
from citygrowth.web.deps import RuntimeDep, SessionDep, UserDep
from citygrowth.web.openapi import NOTHING_YET, Responses
from citygrowth.web.paging import Page, PageRequest, paging
from citygrowth.web.render import csv_response, frame_table

router = APIRouter(prefix="/api/index", tags=["index"], responses=NOTHING_YET)

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


def _csv(df: pd.DataFrame, name: str) -> Response:
    cols, rows = frame_table(df, LABELS)
    return csv_response(cols, rows, name, get_locale())


Format = Annotated[Literal["json", "csv"], Query(
    description="json: a page of rows; csv: every row as a file")]
JSON_OR_CSV: Responses = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}


@router.get("/results", summary="Index results per unit, period and node",
            response_model=Page[ResultRowOut], responses=JSON_OR_CSV)
def results(runtime: RuntimeDep, actor: UserDep,
            page: Annotated[PageRequest, paging(1000, 10000)], framework: Framework = "default",
            vintage: Annotated[str, Query(max_length=40)] = "latest", level: Level = "street",
            period: PeriodOpt = None, code: CodeOpt = None, format: Format = "json") -> Any:
    df = service.results_for(runtime, actor, framework, vintage, level, period, code)
    if format == "csv":
        return _csv(df, f"index-{level}")
    return page.slice(_records(df))


@router.get("/runs", summary="Runs of the index, newest first", response_model=Page[RunOut])
def runs(session: SessionDep, actor: UserDep, page: Annotated[PageRequest, paging(50, 500)],
         framework: FrameworkOpt = None) -> dict[str, Any]:
    after = page.after_as(int)
    found = service.list_runs(session, actor, framework, page.limit + 1,
                              before=after[0] if after else None)
    return page.answer(found, key=lambda r: (r.id,),
                       items=lambda shown: [r.as_dict() for r in shown])


@router.post("/runs", summary="Compute the index now from the observation store",
             response_model=RunAnswer)
def compute(body: ComputeIn, session: SessionDep, runtime: RuntimeDep,
            actor: UserDep) -> dict[str, Any]:
    run = service.compute_index(session, runtime, actor, body.framework)
    return {"ok": True, "run": run.as_dict()}


@router.get("/audit", summary="Statistical audit of the latest run", response_model=AuditOut)
def audit(runtime: RuntimeDep, actor: UserDep, framework: Framework = "default",
          level: Level = "street") -> dict[str, Any]:
    return {"ok": True, **service.audit_for(runtime, actor, framework, level)}


@router.get("/uncertainty", summary="Monte Carlo rank intervals per unit",
            response_model=UncertaintyPage, responses=JSON_OR_CSV)
def uncertainty(runtime: RuntimeDep, actor: UserDep,
                page: Annotated[PageRequest, paging(1000, 10000)],
                framework: Framework = "default",
                level: Level = "street", runs: Annotated[int, Query(ge=2, le=200)] = 50,
                weights_noise: Annotated[float, Query(ge=0, le=1)] = 0.25,
                vary_aggregation: bool = True, seed: Annotated[int, Query(ge=0, le=2**31)] = 1,
                remedy: Literal["shift", "rescale"] | None = None,
                format: Format = "json") -> Any:
    """Per unit and period: nominal and median rank, the 5–95 % interval and ``zero_share``
    (the share of replications in which a zero under the geometric mean set or pulled down
    the unit's index); ``remedy`` applies ``shift`` or ``rescale`` to every replication."""
    df = service.uncertainty_for(runtime, actor, framework, level, runs, weights_noise,
                                 vary_aggregation, seed, remedy)
    if format == "csv":
        return _csv(df, f"index-uncertainty-{level}")
    return page.slice(_records(df), replications=runs,
                      zero_replications=int(df.attrs.get("zero_replications", 0)))


@router.get("/explanations", summary="Each indicator's contribution to a unit's change",
            response_model=ExplanationOut, responses=JSON_OR_CSV)
def explanations(runtime: RuntimeDep, actor: UserDep, unit: Code, start: PeriodQ,
                 end: PeriodQ, framework: Framework = "default", level: Level = "street",
                 code: CodeOpt = None, format: Format = "json") -> Any:
    df = service.explain_for(runtime, actor, unit, start, end, framework, level, code)
    if format == "csv":
        return _csv(df, f"index-explain-{unit}")
    return {"ok": True, "change": df.attrs["node_change"], "residual": df.attrs["residual"],
            "rows": _records(df)}


@router.get("/strengths", summary="A unit's strongest and weakest indicators",
            response_model=StrengthsOut)
def strengths(runtime: RuntimeDep, actor: UserDep, unit: Code, period: PeriodQ,
              framework: Framework = "default", level: Level = "street",
              n: Annotated[int, Query(ge=1, le=50)] = 5) -> dict[str, Any]:
    return {"ok": True, **service.strengths_for(runtime, actor, unit, period, framework,
                                                level, n)}
