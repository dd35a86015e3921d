"""Pydantic shapes of the web shell's answers (health check, the home page's twin)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from citygrowth.web.openapi import Chart


class StoreHealthOut(BaseModel):
    backend: str = Field(description="sqlite or postgresql")
    reachable: bool
    writable: bool


class FolderHealthOut(BaseModel):
    writable: bool
    free_mb: int | None = Field(description="Free space in the data folder, in MiB")


class HealthOut(BaseModel):
    ok: Literal[True] = True
    version: str
    store: StoreHealthOut
    data_dir: FolderHealthOut


class DistrictOut(BaseModel):
    code: str
    name: str


class StreetOut(BaseModel):
    code: str
    name: str
    name_zh: str
    name_en: str
    population: int | None
    area_km2: float | None
    illustrative: bool


class StreetsOut(BaseModel):
    """The home page's numbers: the district's streets, their boundaries and the map."""

    district: DistrictOut
    streets: list[StreetOut]
    geojson: dict[str, Any] = Field(description="A GeoJSON FeatureCollection of the streets")
    chart: Chart
    illustrative: bool
