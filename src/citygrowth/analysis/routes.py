"""JSON API of the analysis domain (``/api/analysis/…``): thin over the services."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse
from pydantic import Field

from citygrowth.analysis import service
from citygrowth.analysis.anomaly import KIND_NAMES, AnomalyWarning
from citygrowth.analysis.briefing import service as briefings
from citygrowth.analysis.changes import M_BREAK
from citygrowth.analysis.models import AnomalyRecord
from citygrowth.analysis.schemas import (
    AnomalyOut,
    AnomalyPage,
    BreaksOut,
    BriefingOut,
    BriefingSummaryOut,
    ForecastOut,
    OddsOut,
    RelationOut,
)
from citygrowth.i18n import get_locale, translate
from citygrowth.inputs import InputModel, Month, Text
from citygrowth.web.deps import RuntimeDep, SessionDep, UserDep
from citygrowth.web.openapi import DOCX_TYPE, PNG, media
from citygrowth.web.paging import Page, PageRequest, paging

router = APIRouter(prefix="/api/analysis", tags=["analysis"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Code = Annotated[str, Query(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")]
AreaQ = Annotated[str, Query(min_length=6, max_length=15, pattern=r"^[0-9]+$")]
MonthQ = Annotated[Month, Query()]
Lang = Literal["zh_CN", "en"]


class DecisionIn(InputModel):
    decision: Literal["accepted", "returned"]
    note: Text = Field(default="", max_length=2000)


class BriefingIn(InputModel):
    area_code: str = Field(min_length=6, max_length=15, pattern=r"^[0-9]+$")
    month: Month
    lang: Lang = "zh_CN"


def anomaly_json(r: AnomalyRecord) -> dict[str, Any]:
    w = AnomalyWarning(r.kind, r.indicator, r.area_code, r.period, r.value, r.message,
                       dict(r.params), r.severity, r.expected)
    out = w.to_dict(get_locale())
    out.update(id=r.id, load_id=r.load_id, decision=r.decision, note=r.note,
               decided_by=r.decided_by,
               decided_at=r.decided_at.isoformat() if r.decided_at else None)
    out["kind_name"] = translate(KIND_NAMES[r.kind])
    return out


@router.get("/forecast", summary="Forecast of an indicator or index node for an area",
            response_model=ForecastOut)
def forecast(session: SessionDep, actor: UserDep, runtime: RuntimeDep, indicator: Code,
             area: AreaQ, horizon: Annotated[int, Query(ge=1, le=60)] = 12) -> dict[str, Any]:
    fc = service.forecast_for(session, actor, runtime, indicator, area, horizon)
    out = fc.to_dict()
    out.update(indicator=indicator, area_code=area,
               notes=[translate(n) for n in fc.notes])
    return out


@router.get("/breaks", summary="Structural breaks of an indicator's series in an area",
            response_model=BreaksOut)
def breaks(session: SessionDep, actor: UserDep, runtime: RuntimeDep, indicator: Code,
           area: AreaQ) -> dict[str, Any]:
    found = service.breaks_for(session, actor, runtime, indicator, area)
    for b in found:
        b["text"] = translate(M_BREAK).format(x=indicator, period=b["period"],
                                              before=f"{b['before']:.4g}",
                                              after=f"{b['after']:.4g}")
    return {"indicator": indicator, "area_code": area, "breaks": found}


@router.get("/relation", summary="Lead/lag association of two indicators (not causation)",
            response_model=RelationOut)
def relation(session: SessionDep, actor: UserDep, runtime: RuntimeDep, x: Code, y: Code,
             area: AreaQ, max_lag: Annotated[int, Query(ge=0, le=24)] = 6) -> dict[str, Any]:
    rel = service.relation_for(session, actor, runtime, x, y, area, max_lag)
    rel["text"] = translate(rel.pop("message")).format(**rel["params"])
    rel["granger"] = {str(k): v for k, v in rel["granger"].items()}
    return rel


@router.get("/anomalies", summary="Anomaly warnings of a load", response_model=AnomalyPage)
def anomalies(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
              page: Annotated[PageRequest, paging(200, 1000)],
              load_id: Annotated[str, Query(min_length=1, max_length=40)]) -> dict[str, Any]:
    rows = service.anomalies_for_load(session, actor, runtime, load_id)
    return page.slice(rows, items=lambda shown: [anomaly_json(r) for r in shown],
                      load_id=load_id)


@router.post("/anomalies/{anomaly_id}/decision", summary="Accept or send back a warned value",
             response_model=AnomalyOut)
def decide(session: SessionDep, actor: UserDep, runtime: RuntimeDep, anomaly_id: Id,
           body: DecisionIn) -> dict[str, Any]:
    return anomaly_json(service.decide_anomaly(session, actor, anomaly_id, body.decision,
                                               body.note, framework=runtime.frameworks.load()))


@router.get("/odds", summary="Probability of reaching a target by its deadline",
            response_model=OddsOut)
def odds(session: SessionDep, actor: UserDep, runtime: RuntimeDep, target: Code
         ) -> dict[str, Any]:
    today = dt.datetime.now(ZoneInfo(runtime.settings.timezone)).date()
    return service.odds_for_target_code(session, actor, target, today)


@router.get("/briefings", summary="Archived briefings, newest month first",
            response_model=Page[BriefingSummaryOut])
def list_(session: SessionDep, actor: UserDep,
          page: Annotated[PageRequest, paging(100, 1000)]) -> dict[str, Any]:
    rows = briefings.list_briefings(session, actor)
    return page.slice(rows, items=lambda shown: [
        {"id": r.id, "area_code": r.area_code, "month": r.month, "locale": r.locale,
         "formats": list(r.formats), "figures": r.figure_count,
         "created_at": r.created_at.isoformat()} for r in shown])


@router.post("/briefings", summary="Make (or remake) a briefing", response_model=BriefingOut)
def make(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
         body: BriefingIn) -> dict[str, Any]:
    """Composes the briefing from the latest periods complete by the end of ``month``, writes
    its PDF, Word and JSON files and archives them; answers with the briefing."""
    rec = briefings.make_briefing(session, actor, runtime, body.area_code, body.month,
                                  body.lang)
    return briefings.briefing_json(rec)


@router.get("/briefings/{briefing_id}", summary="A briefing with its figures and sources",
            response_model=BriefingOut)
def show(session: SessionDep, actor: UserDep, briefing_id: Id) -> dict[str, Any]:
    return briefings.briefing_json(briefings.get_briefing(session, actor, briefing_id))


@router.get("/briefings/{briefing_id}/file/{fmt}", summary="Download a briefing's PDF/DOCX",
            response_class=FileResponse,
            responses=media("application/pdf", DOCX_TYPE, "application/json"))
def download(session: SessionDep, actor: UserDep, briefing_id: Id,
             fmt: Literal["pdf", "docx", "json"]) -> FileResponse:
    rec = briefings.get_briefing(session, actor, briefing_id)
    path = briefings.briefing_file(rec, fmt)
    media = {"pdf": "application/pdf", "json": "application/json",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    return FileResponse(path, media_type=media[fmt],
                        filename=f"briefing-{rec.area_code}-{rec.month}-{rec.locale}.{fmt}")


@router.get("/briefings/{briefing_id}/chart/{name}", summary="A chart of a briefing (PNG)",
            response_class=FileResponse, responses=PNG)
def chart(session: SessionDep, actor: UserDep, briefing_id: Id,
          name: Annotated[str, Path(pattern=r"^[a-z]{1,20}$")]) -> FileResponse:
    """The image of one chart (``trend``, ``radar``, ``ranking``, ``targets``, ``cases``),
    the same as in the briefing's PDF and Word files."""
    rec = briefings.get_briefing(session, actor, briefing_id)
    return FileResponse(briefings.briefing_chart(rec, name), media_type="image/png",
                        headers={"Cache-Control": "private, max-age=300"})
