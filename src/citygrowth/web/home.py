"""The home page: the district's streets on an ECharts map drawn from our own GeoJSON, with a
table of the streets beside it; and its JSON and CSV twins under ``/api/web/``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.i18n import _, bilingual, get_locale
from citygrowth.web.deps import ActorDep, SessionDep, SettingsDep
from citygrowth.web.openapi import CSV
from citygrowth.web.render import columns, csv_response
from citygrowth.web.schemas import StreetsOut
from citygrowth.web.templating import render_page

router = APIRouter(tags=["web"])
DistrictQuery = Annotated[str | None, Query(pattern=r"^[0-9]{6}$",
                                            description="District code (default: this one).")]


def street_rows(session: Session, district: str, locale: str) -> list[dict[str, Any]]:
    """The streets of ``district``, sorted by code, named in ``locale``."""
    streets = session.scalars(select(Area).where(Area.level == "street",
                                                 Area.parent_code == district)
                              .order_by(Area.code))
    return [{
        "code": a.code,
        "name": bilingual(a.name_zh, a.name_en, locale),
        "name_zh": a.name_zh,
        "name_en": a.name_en,
        "population": a.population,
        "area_km2": a.area_km2,
        "illustrative": a.illustrative,
        "geometry": json.loads(a.geometry) if a.geometry else None,
    } for a in streets]


def feature_collection(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """GeoJSON of the streets; each feature's ``name`` is the name shown on the map."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": r["geometry"],
         "properties": {"name": r["name"], "code": r["code"]}}
        for r in rows if r["geometry"]
    ]}


def street_map_option(rows: list[dict[str, Any]], map_name: str, title: str,
                      population_label: str) -> dict[str, Any]:
    """ECharts option: the streets coloured by population (pure; the template only hands it on)."""
    pops = [r["population"] for r in rows if r["population"] is not None]
    return {
        "title": {"text": title, "left": "center"},
        "tooltip": {"trigger": "item"},
        "visualMap": {"min": min(pops, default=0), "max": max(pops, default=1),
                      "left": "left", "bottom": 10, "text": [population_label, ""],
                      "calculable": True, "inRange": {"color": ["#dbe9f6", "#0b5cad"]}},
        "series": [{
            "type": "map", "map": map_name, "name": population_label, "roam": True,
            "label": {"show": True, "fontSize": 11},
            "data": [{"name": r["name"], "value": r["population"], "code": r["code"]}
                     for r in rows],
        }],
    }


def home_data(session: Session, district: str) -> dict[str, Any]:
    locale = get_locale()
    area = session.get(Area, district)
    rows = street_rows(session, district, locale)
    name = bilingual(area.name_zh, area.name_en, locale) if area else district
    return {
        "district": {"code": district, "name": name},
        "streets": [{k: v for k, v in r.items() if k != "geometry"} for r in rows],
        "geojson": feature_collection(rows),
        "chart": street_map_option(rows, f"streets-{district}", _("Streets of {name}").format(
            name=name), _("Population")),
        "illustrative": any(r["illustrative"] for r in rows),
    }


@router.get("/", summary="Home page", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, actor: ActorDep,
         settings: SettingsDep) -> Response:
    """The district's streets on a map and in a table."""
    data = home_data(session, settings.district_code)
    return render_page(request, "web/home.html", actor, {"data": data})


@router.get("/api/web/streets", summary="Streets of the district (JSON twin of the home page)",
            response_model=StreetsOut)
def streets_json(session: SessionDep, settings: SettingsDep,
                 district: DistrictQuery = None) -> dict[str, Any]:
    """The streets with names in the current language, population, GeoJSON and the map option."""
    return home_data(session, district or settings.district_code)


@router.get("/api/web/streets.csv", summary="Streets of the district (CSV)",
            response_class=Response, responses=CSV)
def streets_csv(session: SessionDep, settings: SettingsDep,
                district: DistrictQuery = None) -> Response:
    """The home page's table as CSV (UTF-8 with BOM, so spreadsheet programs read Chinese)."""
    rows = street_rows(session, district or settings.district_code, get_locale())
    cols = columns("code", "name_zh", "name_en", "population", "area_km2", "illustrative")
    return csv_response(cols, rows, "streets", get_locale())
