"""HTML pages of the analysis domain; their JSON twins live under ``/api/analysis/``.

* ``/briefings`` — the archive, and (with ``analysis.briefing``) the form that makes a
  briefing for an area and month; ``/briefings/{id}`` — one briefing with its key figures,
  sentences, charts, sources and downloads.
* ``/anomalies`` — loads whose values were warned about; ``/anomalies/{load_id}`` — each
  warning of a load, accepted or sent back on the page (``analysis.decide``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.analysis import service
from citygrowth.analysis.anomaly import KIND_NAMES, AnomalyWarning
from citygrowth.analysis.briefing import service as briefings
from citygrowth.analysis.briefing.charts import CHART_TITLES
from citygrowth.analysis.briefing.export import key_figure_rows
from citygrowth.analysis.keyfigures import local_today
from citygrowth.analysis.models import AnomalyRecord, BriefingRecord
from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can
from citygrowth.catalog.framework import Framework
from citygrowth.errors import NotFound, ValidationFailed
from citygrowth.i18n import _, bilingual, get_locale
from citygrowth.observatory.models import ObservationLoad
from citygrowth.periods import Period, period_text
from citygrowth.runtime import Runtime
from citygrowth.web.deps import RuntimeDep, SessionDep, UserDep
from citygrowth.web.templating import render_page
from citygrowth.web.urls import root_of

router = APIRouter(tags=["analysis pages"], default_response_class=HTMLResponse)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
LoadId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.:-]+$")]
MonthForm = Annotated[str, Form(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
AreaForm = Annotated[str, Form(min_length=6, max_length=15, pattern=r"^[0-9]+$")]
LANGS = {"zh_CN": ("zh_CN",), "en": ("en",), "both": ("zh_CN", "en")}
MONTHS_OFFERED = 12


def _root(request: Request) -> str:
    return root_of(request.scope)


def _local(when: dt.datetime | None, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when else ""


def month_choices(today: dt.date) -> list[dict[str, str]]:
    """The last complete months, newest first (the first is the latest complete one)."""
    last = Period.of(today, "M").prev()
    return [{"value": str(last.shift(-i)), "text": period_text(last.shift(-i), get_locale())}
            for i in range(MONTHS_OFFERED)]


def _area_names(session: Session, codes: set[str]) -> dict[str, str]:
    rows = session.execute(select(Area.code, Area.name_zh, Area.name_en)
                           .where(Area.code.in_(codes))).all() if codes else []
    return {c: bilingual(zh, en) for c, zh, en in rows}


def briefing_rows(session: Session, rows: list[BriefingRecord], tz: ZoneInfo
                  ) -> list[dict[str, Any]]:
    names = _area_names(session, {r.area_code for r in rows})
    return [{"id": r.id, "month": r.month,
             "month_text": period_text(Period.parse(r.month), get_locale()),
             "area": names.get(r.area_code, r.area_code), "locale": r.locale,
             "language": "中文" if r.locale == "zh_CN" else "English",
             "formats": list(r.formats), "made_at": _local(r.created_at, tz),
             "made_by": r.created_by} for r in rows]


def list_context(session: Session, actor: Actor, runtime: Runtime,
                 made: list[int]) -> dict[str, Any]:
    tz = runtime.tz
    rows = briefing_rows(session, briefings.list_briefings(session, actor), tz)
    areas = briefings.areas_to_brief(session, actor, runtime.settings.district_code) \
        if can(actor, "analysis.briefing") else []
    return {"rows": rows, "made": made, "can_make": bool(areas), "areas": areas,
            "months": month_choices(local_today(tz))}


@router.get("/briefings", summary="Briefing archive, and the form that makes one (page)")
def briefing_list(request: Request, session: SessionDep, actor: UserDep,
                  runtime: RuntimeDep,
                  made: Annotated[list[int] | None, Query(max_length=2)] = None) -> Response:
    return render_page(request, "analysis/briefings.html", actor,
                       list_context(session, actor, runtime, made or []))


@router.post("/briefings", summary="Make (or remake) a briefing from the page")
def briefing_make(request: Request, session: SessionDep, actor: UserDep,
                  runtime: RuntimeDep, area_code: AreaForm, month: MonthForm,
                  lang: Annotated[Literal["zh_CN", "en", "both"], Form()] = "zh_CN"
                  ) -> Response:
    """Makes the briefing (both languages from one gathering of the numbers) and shows it in
    the archive: the list itself for htmx, a redirect to it otherwise."""
    recs = briefings.make_briefings(session, actor, runtime, area_code, month, LANGS[lang])
    made = [r.id for r in recs]
    if request.headers.get("hx-request") != "true":
        query = "&".join(f"made={i}" for i in made)
        return RedirectResponse(f"{_root(request)}/briefings?{query}", status_code=303)
    session.flush()
    return render_page(request, "analysis/_briefings_list.html", actor,
                       list_context(session, actor, runtime, made))


@router.get("/briefings/{briefing_id}", summary="One briefing (page)")
def briefing_page(request: Request, session: SessionDep, actor: UserDep,
                  runtime: RuntimeDep, briefing_id: Id) -> Response:
    rec = briefings.get_briefing(session, actor, briefing_id)
    data = briefings.briefing_json(rec)
    row = briefing_rows(session, [rec], runtime.tz)[0]
    return render_page(request, "analysis/briefing.html", actor, {
        "rec": rec, "row": row, "data": data, "images": set(data.get("images", [])),
        "key_rows": key_figure_rows(data.get("key_figures", []), rec.locale),
        "chart_titles": {k: _(v) for k, v in CHART_TITLES.items()}})


# --- anomaly review -------------------------------------------------------------------------

def _names(session: Session, fw: Framework,
           records: list[AnomalyRecord]) -> tuple[dict[str, str], dict[str, str]]:
    indicators = {i.code: bilingual(i.name_zh, i.name_en) for i in fw.indicators}
    return indicators, _area_names(session, {r.area_code for r in records})


def warning_rows(session: Session, actor: Actor, records: list[AnomalyRecord],
                 tz: ZoneInfo, fw: Framework,
                 load: ObservationLoad | None = None) -> list[dict[str, Any]]:
    indicators, areas = _names(session, fw, records)
    out = []
    for r in records:
        w = AnomalyWarning(r.kind, r.indicator, r.area_code, r.period, r.value,
                           r.message, _named(dict(r.params), indicators, areas), r.severity,
                           r.expected)
        out.append({
            "id": r.id, "kind": _(KIND_NAMES.get(r.kind, r.kind)), "severity": r.severity,
            "indicator": indicators.get(r.indicator, r.indicator),
            "area": areas.get(r.area_code, r.area_code),
            "period": _period_words(r.period), "value": r.value, "expected": r.expected,
            "text": w.render(get_locale()), "decision": r.decision, "note": r.note,
            "decided_by": r.decided_by or "", "decided_at": _local(r.decided_at, tz),
            "can_decide": can(actor, "analysis.decide",
                              service.warning_resource(r, load, fw))})
    return out


PERIOD_PARAMS = ("period", "previous", "start", "end")


def _named(params: dict[str, Any], indicators: dict[str, str], areas: dict[str, str]
           ) -> dict[str, Any]:
    """A warning's parameters for people: the indicator and area by name, periods in
    words (the stored warning keeps the codes)."""
    out = dict(params)
    if "indicator" in out:
        out["indicator"] = indicators.get(str(out["indicator"]), out["indicator"])
    if "area" in out:
        out["area"] = areas.get(str(out["area"]), out["area"])
    for key in PERIOD_PARAMS:
        if key in out:
            out[key] = _period_words(str(out[key]))
    return out


def _period_words(period: str) -> str:
    try:
        return period_text(Period.parse(period), get_locale())
    except ValidationFailed:
        return period


@router.get("/anomalies", summary="Loads with anomaly warnings (page)")
def anomaly_loads(request: Request, session: SessionDep, actor: UserDep,
                  runtime: RuntimeDep) -> Response:
    tz = runtime.tz
    rows = service.loads_with_warnings(session, actor, runtime.frameworks.load())
    for r in rows:
        r["created_at"] = _local(r["load"].created_at, tz) if r["load"] else ""
    return render_page(request, "analysis/anomalies.html", actor, {"rows": rows})


@router.get("/anomalies/{load_id}", summary="Review the anomaly warnings of a load (page)")
def anomaly_review(request: Request, session: SessionDep, actor: UserDep,
                   runtime: RuntimeDep, load_id: LoadId) -> Response:
    tz = runtime.tz
    records = service.anomalies_for_load(session, actor, runtime, load_id)
    load = session.scalar(select(ObservationLoad).where(ObservationLoad.load_id == load_id))
    rows = warning_rows(session, actor, records, tz, runtime.frameworks.load(), load)
    return render_page(request, "analysis/anomaly_review.html", actor, {
        "load_id": load_id, "load": load, "loaded_at": _local(load.created_at, tz) if load
        else "", "rows": rows,
        "pending": sum(1 for r in rows if r["decision"] == "pending")})


@router.post("/anomalies/{load_id}/{anomaly_id}", summary="Accept or send back a warned "
             "value from the review page")
def anomaly_decide(request: Request, session: SessionDep, actor: UserDep,
                   runtime: RuntimeDep, load_id: LoadId, anomaly_id: Id,
                   decision: Annotated[Literal["accepted", "returned"], Form()],
                   note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    rec = session.get(AnomalyRecord, anomaly_id)
    if rec is not None and rec.load_id != load_id:
        raise NotFound("No anomaly warning with id {id}.", id=anomaly_id)
    service.decide_anomaly(session, actor, anomaly_id, decision, note,
                           framework=runtime.frameworks.load())
    return RedirectResponse(f"{_root(request)}/anomalies/{load_id}#w{anomaly_id}",
                            status_code=303)
