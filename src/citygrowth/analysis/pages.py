"""HTML pages: ``/briefings`` (the archive) and ``/briefings/{id}`` (one briefing, with its
figures, their sources, charts and downloads). JSON twins live under ``/api/analysis/``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from citygrowth.analysis.briefing import service as briefings
from citygrowth.analysis.briefing.charts import echarts_options
from citygrowth.auth.actor import Actor
from citygrowth.web.deps import SessionDep, UserDep
from citygrowth.web.templating import render_page

router = APIRouter(tags=["analysis pages"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _render(request: Request, name: str, actor: Actor, **ctx: Any) -> Response:
    return render_page(request, name, actor, ctx)


@router.get("/briefings", summary="Briefing archive (page)")
def briefing_list(request: Request, session: SessionDep, actor: UserDep) -> Response:
    rows = briefings.list_briefings(session, actor)
    return _render(request, "analysis/briefings.html", actor, rows=rows)


@router.get("/briefings/{briefing_id}", summary="One briefing (page)")
def briefing_page(request: Request, session: SessionDep, actor: UserDep,
                  briefing_id: Id) -> Response:
    rec = briefings.get_briefing(session, actor, briefing_id)
    data = briefings.briefing_json(rec)
    charts = echarts_options(data.get("charts", {}), rec.locale)
    return _render(request, "analysis/briefing.html", actor, rec=rec, data=data,
                   charts=charts, figure_keys=list(data["figures"]))
