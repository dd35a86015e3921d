"""Screens: the big screen, the explorer, area profiles, the workbench and data health.

Pages redirect anonymous visitors to the login page; every page's numbers come from a JSON
twin under ``/api/screen``, ``/api/explore``, ``/api/profile``, ``/api/workbench`` and
``/api/data/health`` (tables also as CSV and XLSX).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can, require
from citygrowth.errors import ValidationFailed
from citygrowth.i18n import _, bilingual, get_locale
from citygrowth.index.publish import publish_framework
from citygrowth.index.service import compute_index
from citygrowth.screens import explore
from citygrowth.screens import workbench as wb
from citygrowth.screens.health import data_health, indicators_table
from citygrowth.screens.profile import area_profile, rank_interval, run_key
from citygrowth.screens.schemas import (
    DataHealthOut,
    ExploreMapOut,
    ExploreSeriesOut,
    ProfileOut,
    PublishedFrameworkOut,
    RankIntervalOut,
    ScreenSummaryOut,
    SensitivityOut,
    WorkbenchAnalysisOut,
    WorkbenchPreviewOut,
    WorkbenchStateOut,
)
from citygrowth.screens.sources import sources
from citygrowth.screens.summary import NEXT_LEVEL, screen_home, screen_summary
from citygrowth.screens.workbench import WorkbenchChanges
from citygrowth.web import render
from citygrowth.web.deps import ActorDep, RuntimeDep, SessionDep, UserDep
from citygrowth.web.openapi import CSV_TYPE, NOTHING_YET, media
from citygrowth.web.render import XLSX_TYPE, Format, frame_table
from citygrowth.web.templating import export_time, render_page
from citygrowth.web.urls import login_redirect

TABLE_FILES = media(CSV_TYPE, XLSX_TYPE, description="With format=csv or xlsx: the table "
                                                     "behind the chart")

pages = APIRouter(tags=["screens"], default_response_class=HTMLResponse)
api = APIRouter(tags=["screens"])

Code = Annotated[str, Query(pattern=r"^\d{6}(\d{3}){0,3}$", description="Area code")]
Level = Annotated[str, Query(pattern="^(street|community|grid)$")]
LevelOpt = Annotated[str | None, Query(pattern="^(street|community|grid)$",
                                       description="default: the level below the parent")]
IndicatorCode = Annotated[str, Query(pattern=r"^[A-Za-z0-9_]{1,60}$")]
# optional ones: ``| None`` inside ``Annotated`` (see index/routes.py)
CodeOpt = Annotated[str | None, Query(pattern=r"^\d{6}(\d{3}){0,3}$", description="Area code")]
IndicatorOpt = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_]{1,60}$")]
Fmt = Annotated[Format, Query()]




def table_response(df: pd.DataFrame, fmt: Format, name: str) -> Response:
    """The numbers behind a chart as CSV or XLSX (``web/render.py``)."""
    cols, rows = frame_table(df)
    return render.table_response(fmt, cols, rows, name, get_locale())


# --- big screen -----------------------------------------------------------------------------

@pages.get("/screen", summary="Leadership big screen")
def screen_page(request: Request, actor: ActorDep, runtime: RuntimeDep,
                session: SessionDep) -> Response:
    """The 1920×1080 command screen; it draws from ``/api/screen/summary``."""
    if actor.is_anonymous:
        return login_redirect(request)
    district = screen_home(actor, runtime.settings.district_code)
    src = sources(request.app.state, session, runtime)
    strings = {"no_data": _("No data yet"), "error": _("Error"),
               "progress": _("done {actual}% · plan {planned}%"),
               "counts": _("{red} off track · {amber} at risk · {green} on track · as of {date}")}
    return render_page(request, "screens/screen.html", actor, {
        "district": district, "strings": strings, "timezone": runtime.settings.timezone,
        "level": NEXT_LEVEL.get(src.tree.level.get(district, "district"), "street"),
        "district_name": explore.area_name(src.tree, district) if district in src.tree
        else district,
    })


@api.get("/api/screen/summary", summary="Everything the big screen shows",
         response_model=ScreenSummaryOut)
def screen_summary_api(
    request: Request, actor: UserDep, runtime: RuntimeDep, session: SessionDep,
    level: LevelOpt = None, parent: CodeOpt = None,
    metric: IndicatorOpt = None,
) -> dict[str, Any]:
    """Map values and ranking of the areas one level below ``parent``, the parent's index and
    pillars over time, key figures against targets and the live case feed, with the ECharts
    options built from them."""
    src = sources(request.app.state, session, runtime)
    parent = parent or screen_home(actor, runtime.settings.district_code)
    below = NEXT_LEVEL.get(src.tree.level.get(parent, "district"), "street")
    return screen_summary(session, actor, src, level=level or below, parent=parent,
                          metric=metric)


# --- explorer -------------------------------------------------------------------------------

@pages.get("/explore", summary="Indicator explorer")
def explore_page(request: Request, actor: ActorDep, runtime: RuntimeDep,
                 session: SessionDep) -> Response:
    if actor.is_anonymous:
        return login_redirect(request)
    require(actor, "screens.explore")
    src = sources(request.app.state, session, runtime)
    district = runtime.settings.district_code
    streets = [{"code": c, "name": explore.area_name(src.tree, c)}
               for c in src.tree.descendants(district, "street")]
    pillars = [{"code": p.code, "name": bilingual(p.name_zh, p.name_en)}
               for p in src.framework.children(src.framework.root.code)]
    return render_page(request, "screens/explore.html", actor, {
        "district": district, "streets": streets, "pillars": pillars,
        "district_name": explore.area_name(src.tree, district),
    })


def _areas_param(areas: str) -> list[str]:
    codes = [c.strip() for c in areas.split(",") if c.strip()]
    bad = [c for c in codes if not c.isdigit() or len(c) not in (6, 9, 12, 15)]
    if bad:
        raise ValidationFailed("'{value}' is not an area code.", code="bad_area", value=bad[0])
    return codes


@api.get("/api/explore/series", summary="An indicator over time for some areas",
         response_model=ExploreSeriesOut, responses=TABLE_FILES)
def explore_series(
    request: Request, actor: UserDep, runtime: RuntimeDep, session: SessionDep,
    indicator: IndicatorCode,
    areas: Annotated[str, Query(max_length=300, description="Comma-separated area codes")],
    start: Annotated[str | None, Query(max_length=12)] = None,
    end: Annotated[str | None, Query(max_length=12)] = None,
    format: Fmt = "json",
) -> Any:
    require(actor, "screens.explore")
    src = sources(request.app.state, session, runtime)
    data = explore.series(src.store, src.framework, src.tree, indicator, _areas_param(areas),
                          tz=runtime.tz,
                          start=start, end=end)
    data["freshness"] = explore.freshness_of(session, src, indicator)
    if format != "json":
        return table_response(explore.series_table(data), format, f"{indicator}-series")
    return {"ok": True, **data}


@api.get("/api/explore/map", summary="An indicator for every area of a level, one period",
         response_model=ExploreMapOut, responses=TABLE_FILES)
def explore_map(
    request: Request, actor: UserDep, runtime: RuntimeDep, session: SessionDep,
    indicator: IndicatorCode, level: Level = "street", parent: CodeOpt = None,
    period: Annotated[str | None, Query(max_length=12)] = None,
    format: Fmt = "json",
) -> Any:
    require(actor, "screens.explore")
    src = sources(request.app.state, session, runtime)
    data = explore.map_values(src.store, src.framework, src.tree, indicator, level,
                              parent or runtime.settings.district_code, tz=runtime.tz,
                              period=period)
    data["freshness"] = explore.freshness_of(session, src, indicator)
    if format != "json":
        return table_response(explore.map_table(data), format, f"{indicator}-{level}")
    return {"ok": True, **data}


def page_actor(request: Request, actor: Actor) -> Response | None:
    return login_redirect(request) if actor.is_anonymous else None


# --- data health ----------------------------------------------------------------------------

@pages.get("/data/health", summary="Data health page")
def health_page(request: Request, actor: ActorDep, runtime: RuntimeDep,
                session: SessionDep) -> Response:
    """Freshness per indicator and department, late indicators and failed loads."""
    if actor.is_anonymous:
        return login_redirect(request)

    data = data_health(session, actor, runtime)
    return render_page(request, "screens/health.html", actor, {"data": data})


@api.get("/api/data/health", summary="Data health: freshness and failed loads",
         response_model=DataHealthOut, responses=TABLE_FILES)
def health_api(actor: UserDep, runtime: RuntimeDep, session: SessionDep,
               format: Fmt = "json") -> Any:
    data = data_health(session, actor, runtime)
    if format != "json":
        table = indicators_table(data)
        tz = runtime.tz
        table["last_load_at"] = table["last_load_at"].map(lambda v: export_time(v, tz))
        return table_response(table, format, "data-health")
    return data


# --- area profile ---------------------------------------------------------------------------

@pages.get("/profile/{code}", summary="Area profile page")
def profile_page(request: Request, actor: ActorDep, runtime: RuntimeDep,
                 session: SessionDep,
                 code: Annotated[str, Path(pattern=r"^\d{6}(\d{3}){0,3}$")]) -> Response:
    """District, street, community or grid cell: index, rank, drivers, targets, cases."""
    if actor.is_anonymous:
        return login_redirect(request)

    data = area_profile(session, actor, sources(request.app.state, session, runtime), code)
    return render_page(request, "screens/profile.html", actor, {"p": data})


@api.get("/api/profile/{code}", summary="Everything an area profile shows",
         response_model=ProfileOut)
def profile_api(request: Request, actor: UserDep, runtime: RuntimeDep, session: SessionDep,
                code: Annotated[str, Path(pattern=r"^\d{6}(\d{3}){0,3}$")]) -> dict[str, Any]:
    return area_profile(session, actor, sources(request.app.state, session, runtime), code)


# --- index workbench ------------------------------------------------------------------------

@pages.get("/workbench", summary="Index workbench page", responses=NOTHING_YET)
def workbench_page(request: Request, actor: ActorDep, runtime: RuntimeDep,
                   session: SessionDep, level: Level = "street") -> Response:
    """Change weights or methods and compare with the published index before publishing."""
    if actor.is_anonymous:
        return login_redirect(request)

    src = sources(request.app.state, session, runtime)
    data = wb.state(actor, src, level, run_key(session, src.framework))

    return render_page(request, "screens/workbench.html", actor,
                       {"wb": data, "framework": src.framework,
                        "can_publish": can(actor, "framework.publish")})


@api.get("/api/workbench", summary="The framework tree, weights and methods of the index",
         response_model=WorkbenchStateOut,
         responses=NOTHING_YET)
def workbench_state(request: Request, actor: UserDep, runtime: RuntimeDep,
                    session: SessionDep, level: Level = "street") -> dict[str, Any]:
    src = sources(request.app.state, session, runtime)
    return wb.state(actor, src, level, run_key(session, src.framework))


@api.post("/api/workbench/preview", summary="Scores and ranks with changed weights or methods",
          response_model=WorkbenchPreviewOut,
         responses=NOTHING_YET)
def workbench_preview(request: Request, actor: UserDep, runtime: RuntimeDep,
                      session: SessionDep, changes: WorkbenchChanges) -> dict[str, Any]:
    src = sources(request.app.state, session, runtime)
    return wb.preview(actor, src, changes, run_key(session, src.framework))


RemedyOpt = Annotated[Literal["shift", "rescale"] | None,
                      Query(description="A remedy for zeros in every simulation")]


@api.get("/api/workbench/analysis", summary="Audit flags and rank uncertainty of the index",
         response_model=WorkbenchAnalysisOut,
         responses=NOTHING_YET)
def workbench_analysis(request: Request, actor: UserDep, runtime: RuntimeDep,
                       session: SessionDep, level: Level = "street",
                       remedy: RemedyOpt = None) -> dict[str, Any]:
    src = sources(request.app.state, session, runtime)
    return wb.analysis(actor, src, level, run_key(session, src.framework), remedy)


@api.post("/api/workbench/export", summary="The changed framework as a new version (YAML)",
          response_class=Response, responses={**media("application/yaml"), **NOTHING_YET})
def workbench_export(request: Request, actor: UserDep, runtime: RuntimeDep,
                     session: SessionDep, changes: WorkbenchChanges,
                     version: Annotated[str, Query(pattern=r"^[0-9A-Za-z.\-]{1,20}$")]
                     ) -> Response:
    src = sources(request.app.state, session, runtime)
    text = wb.export_yaml(actor, src, changes, version, run_key(session, src.framework))
    return Response(text.encode(), media_type="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="{src.framework.code}-{version}.yaml"'})


@api.post("/api/workbench/publish", summary="Publish the changes as the district's framework",
          response_model=PublishedFrameworkOut,
         responses=NOTHING_YET)
def workbench_publish(request: Request, actor: UserDep, runtime: RuntimeDep,
                      session: SessionDep, changes: WorkbenchChanges,
                      version: Annotated[str, Query(pattern=r"^[0-9A-Za-z.\-]{1,20}$")]
                      ) -> dict[str, Any]:
    """Export the changes as framework version ``version``, put it in force (permission
    ``framework.publish``) and recompute the index with it."""
    require(actor, "framework.publish")
    src = sources(request.app.state, session, runtime)
    text = wb.export_yaml(actor, src, changes, version, run_key(session, src.framework))
    fw = publish_framework(session, runtime, actor, text)
    run = compute_index(session, runtime, actor)
    return {"ok": True, "framework": fw.code, "version": fw.version, "run_id": run.id,
            "vintage": run.vintage, "message": _("Framework {code} version {version} is now in "
                                                 "force.").format(code=fw.code,
                                                                  version=fw.version)}


@api.get("/api/profile/{code}/rank-interval", summary="An area's rank with its uncertainty",
         response_model=RankIntervalOut)
def profile_rank_interval(request: Request, actor: UserDep, runtime: RuntimeDep,
                          session: SessionDep,
                          code: Annotated[str, Path(pattern=r"^\d{6}(\d{3}){0,3}$")]
                          ) -> dict[str, Any]:
    """Rank among the areas of its level and the 5–95 % interval over 50 Monte Carlo
    replications varying weights and aggregation (computed once per index run)."""
    return rank_interval(session, actor, sources(request.app.state, session, runtime), code)


@api.get("/api/workbench/sensitivity", summary="Sobol sensitivity of the index's ranks",
         response_model=SensitivityOut,
         responses=NOTHING_YET)
def workbench_sensitivity(request: Request, actor: UserDep, runtime: RuntimeDep,
                          session: SessionDep, level: Level = "street",
                          remedy: RemedyOpt = None) -> dict[str, Any]:
    """Which choices (weights, aggregation, normalisation) the ranks depend on most."""
    src = sources(request.app.state, session, runtime)
    return wb.sensitivity(actor, src, level, run_key(session, src.framework), remedy)
