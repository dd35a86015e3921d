"""Pydantic models at the edges of the areas domain (API bodies and answers)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from citygrowth.areas.models import Area
from citygrowth.i18n import bilingual
from citygrowth.inputs import InputModel, Line


class AreaInput(InputModel):
    """A new area. ``geometry`` is a GeoJSON Polygon or MultiPolygon in lon/lat."""

    code: str = Field(max_length=15, description="6, 9, 12 or 15 digits")
    name_zh: Line = Field(min_length=1, max_length=120)
    name_en: Line = Field(default="", max_length=160)
    geometry: dict[str, Any] | None = None
    population: int | None = Field(default=None, ge=0, le=2**31 - 1)
    area_km2: float | None = Field(default=None, ge=0, le=1e7)
    illustrative: bool = False
    source: Line = Field(default="", max_length=300)


class AreaUpdate(InputModel):
    """Changes to an area; fields left out stay as they are."""

    name_zh: Line | None = Field(default=None, min_length=1, max_length=120)
    name_en: Line | None = Field(default=None, max_length=160)
    geometry: dict[str, Any] | None = None
    population: int | None = Field(default=None, ge=0, le=2**31 - 1)
    area_km2: float | None = Field(default=None, ge=0, le=1e7)
    illustrative: bool | None = None
    source: Line | None = Field(default=None, max_length=300)


class AreaOut(BaseModel):
    """An area as the JSON API shows it (without its geometry; see the GeoJSON endpoint)."""

    code: str
    level: str
    parent_code: str | None
    name_zh: str
    name_en: str
    name: str
    population: int | None
    area_km2: float | None
    centroid_lon: float | None
    centroid_lat: float | None
    illustrative: bool
    source: str
    updated_at: dt.datetime | None

    @classmethod
    def of(cls, area: Area, locale: str | None = None) -> AreaOut:
        return cls(
            code=area.code, level=area.level, parent_code=area.parent_code,
            name_zh=area.name_zh, name_en=area.name_en,
            name=bilingual(area.name_zh, area.name_en, locale),
            population=area.population, area_km2=area.area_km2,
            centroid_lon=area.centroid_lon, centroid_lat=area.centroid_lat,
            illustrative=bool(area.illustrative), source=area.source or "",
            updated_at=area.updated_at,
        )


class ImportResult(BaseModel):
    """What an import did."""

    ok: bool = True
    file: str
    created: list[str]
    updated: list[str]
    unchanged: list[str]


CSV_COLUMNS = ("code", "level", "parent_code", "name_zh", "name_en", "population", "area_km2",
               "centroid_lon", "centroid_lat", "illustrative", "source")


class AreaAnswer(BaseModel):
    ok: Literal[True] = True
    area: AreaOut


class AreaDetailOut(AreaAnswer):
    ancestors: list[AreaOut] = Field(description="The enclosing areas in the caller's scope, "
                                                "district first")


class LocateOut(BaseModel):
    ok: Literal[True] = True
    lon: float
    lat: float
    code: str | None = Field(description="The grid cell holding the point; null outside")
    area: AreaOut | None = Field(description="The cell, when it lies in the caller's scope")
