"""HTTP for areas: the JSON API under ``/api/areas`` and the pages ``/areas`` and
``/areas/{code}``. Thin: every handler calls a function of :mod:`citygrowth.areas.service`.

``GET /api/areas.geojson`` is public (boundaries and names are published information) and
feeds the home page map; the other reads need a login and are limited to the caller's scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from citygrowth.areas import service
from citygrowth.areas.charts import area_map_option
from citygrowth.areas.geo import feature_collection
from citygrowth.areas.models import Area
from citygrowth.areas.schemas import (
    CSV_COLUMNS,
    AreaAnswer,
    AreaDetailOut,
    AreaInput,
    AreaOut,
    AreaUpdate,
    ImportResult,
    LocateOut,
)
from citygrowth.auth.actor import Actor
from citygrowth.auth.csrf import csrf_token
from citygrowth.errors import CityGrowthError
from citygrowth.i18n import N_, get_locale
from citygrowth.web.deps import ActorDep, SessionDep, SettingsDep, UserDep
from citygrowth.web.openapi import CSV, GEOJSON
from citygrowth.web.paging import Page, PageRequest, paging
from citygrowth.web.render import columns, csv_response

api = APIRouter(tags=["areas"])
pages = APIRouter(tags=["areas pages"], include_in_schema=False)

Level = Literal["district", "street", "community", "grid"]
LevelQuery = Annotated[Level | None, Query(description="district, street, community or grid")]
ParentQuery = Annotated[str | None, Query(max_length=15, pattern=r"^\d+$",
                                          description="code of the enclosing area")]
CodePath = Annotated[str, "area code"]

MSG_TOO_LARGE = N_("The upload is larger than {limit} MiB.")


def _out(areas: Sequence[Area]) -> list[dict[str, Any]]:
    locale = get_locale()
    return [AreaOut.of(a, locale).model_dump(mode="json") for a in areas]


@api.get("/api/areas", summary="List areas (within your scope)", response_model=Page[AreaOut])
def list_areas(session: SessionDep, actor: UserDep,
               page: Annotated[PageRequest, paging(1000, 10000)], level: LevelQuery = None,
               parent: ParentQuery = None) -> dict[str, Any]:
    """Areas you may read, by code. ``parent`` with no ``level`` gives its direct children;
    with a ``level``, everything at that level under it."""
    return page.slice(service.list_areas(session, actor, level, parent), items=_out)


@api.get("/api/areas.csv", summary="List areas as CSV", response_class=Response,
         responses=CSV)
def list_areas_csv(session: SessionDep, actor: UserDep, level: LevelQuery = None,
                   parent: ParentQuery = None) -> Response:
    """The CSV twin of ``GET /api/areas``."""
    rows = _out(service.list_areas(session, actor, level, parent))
    return csv_response(columns(*CSV_COLUMNS), rows, "areas", get_locale())


@api.get("/api/areas.geojson", summary="Area boundaries as GeoJSON (public)",
         response_class=Response, responses=GEOJSON)
def areas_geojson(session: SessionDep, level: LevelQuery = None,
                  parent: ParentQuery = None) -> JSONResponse:
    """A FeatureCollection whose properties are code, name_zh, name_en, name (in the current
    language), level, parent_code, population, area_km2, illustrative and source."""
    body = service.public_geojson(session, level, parent, get_locale())
    return JSONResponse(body, media_type="application/geo+json")


@api.get("/api/areas/locate", summary="Which grid cell holds a point", response_model=LocateOut)
def locate(session: SessionDep, actor: UserDep,
           lon: Annotated[float, Query(ge=-180, le=180)],
           lat: Annotated[float, Query(ge=-90, le=90)],
           datum: Annotated[Literal["gcj02", "wgs84"], Query(
               description="datum of the point: gcj02 (as the boundaries) or wgs84 (GPS)")
           ] = "gcj02") -> dict[str, Any]:
    """The grid cell (and its area record) holding (lon, lat); ``code`` is null outside."""
    code = service.locate(session, actor, lon, lat, datum)
    area = None
    if code is not None:
        try:
            area = AreaOut.of(service.get_area(session, actor, code),
                              get_locale()).model_dump(mode="json")
        except CityGrowthError:
            area = None  # outside the caller's scope: the code alone is answered
    return {"ok": True, "lon": lon, "lat": lat, "code": code, "area": area}


@api.post("/api/areas/import", summary="Import a GeoJSON FeatureCollection",
          response_model=ImportResult)
async def import_areas(session: SessionDep, actor: UserDep, settings: SettingsDep,
                       file: Annotated[UploadFile, File(description="a .geojson file")]
                       ) -> ImportResult:
    """Create or update areas from an upload; all or nothing (district administrators)."""
    limit = settings.max_upload_mb * 1024 * 1024
    content = await file.read(limit + 1)
    name = file.filename or "upload.geojson"
    if len(content) > limit:
        raise CityGrowthError(MSG_TOO_LARGE, status=413, code="too_large",
                              limit=settings.max_upload_mb)
    return service.import_geojson(session, actor, content, name)


@api.post("/api/areas", summary="Create an area", status_code=201, response_model=AreaAnswer)
def create_area(session: SessionDep, actor: UserDep, body: AreaInput) -> dict[str, Any]:
    """Create one area (district administrators); its parent must exist and contain it."""
    area = service.create_area(session, actor, body)
    return {"ok": True, "area": AreaOut.of(area, get_locale()).model_dump(mode="json")}


@api.patch("/api/areas/{code}", summary="Change an area", response_model=AreaAnswer)
def update_area(session: SessionDep, actor: UserDep, code: CodePath,
                body: AreaUpdate) -> dict[str, Any]:
    """Change names, boundary, population, size, flag or source (district administrators)."""
    area = service.update_area(session, actor, code, body)
    return {"ok": True, "area": AreaOut.of(area, get_locale()).model_dump(mode="json")}


@api.get("/api/areas/{code}", summary="One area", response_model=AreaDetailOut)
def get_area(session: SessionDep, actor: UserDep, code: CodePath) -> dict[str, Any]:
    """The area with its enclosing areas (those within your scope), district first."""
    area = service.get_area(session, actor, code)
    return {"ok": True, "area": _out([area])[0],
            "ancestors": _out(service.ancestors(session, actor, code))}


@api.get("/api/areas/{code}/children", summary="The areas directly under one area",
         response_model=Page[AreaOut])
def get_children(session: SessionDep, actor: UserDep, code: CodePath,
                 page: Annotated[PageRequest, paging(1000, 10000)]) -> dict[str, Any]:
    """Direct children of the area, within your scope, by code."""
    return page.slice(service.children(session, actor, code), items=_out)


# --- pages ------------------------------------------------------------------------------------

def _page_context(request: Request, actor: Actor, **extra: Any) -> dict[str, Any]:
    return {"actor": actor, "csrf_token": csrf_token(request), **extra}


@pages.get("/areas", response_class=HTMLResponse)
def areas_page(request: Request, session: SessionDep, actor: ActorDep,
               level: LevelQuery = None, parent: ParentQuery = None) -> Response:
    """The table of areas within the viewer's scope (JSON and CSV twins linked)."""
    areas = service.list_areas(session, actor, level, parent)
    query = request.url.query
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "areas/list.html", _page_context(
            request, actor, areas=_out(areas), level=level, parent=parent,
            json_url="/api/areas" + (f"?{query}" if query else ""),
            csv_url="/api/areas.csv" + (f"?{query}" if query else ""),
        ))


@pages.get("/areas/{code}", response_class=HTMLResponse)
def area_page(request: Request, session: SessionDep, actor: ActorDep, code: str) -> Response:
    """One area: its facts, enclosing areas, children and a map of them."""
    area = service.get_area(session, actor, code)
    kids = service.children(session, actor, code)
    locale = get_locale()
    shown = kids or [area]
    collection = feature_collection([a for a in shown if a.geometry], locale)
    map_name = f"area-{code}"
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "areas/detail.html", _page_context(
            request, actor, area=_out([area])[0], children=_out(kids),
            ancestors=_out(service.ancestors(session, actor, code)),
            geojson=collection, map_name=map_name,
            map_option=area_map_option(collection, map_name, highlight=None),
            json_url=f"/api/areas/{code}",
        ))
