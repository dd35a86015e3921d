"""Small GeoJSON builders shared by the areas tests."""

from __future__ import annotations

import json
from typing import Any


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size],
            [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(code: str, geometry: dict[str, Any] | None, name_zh: str = "区域",
            **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry,
            "properties": {"code": code, "name_zh": name_zh, **props}}


def collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)},
                      ensure_ascii=False)
