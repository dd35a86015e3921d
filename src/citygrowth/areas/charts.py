"""Chart options for area pages: pure functions returning ECharts option dicts."""

from __future__ import annotations

import math
from typing import Any

from citygrowth.i18n import _

LABEL_LIMIT = 12  # more regions than this: names only on hover


def _mid_latitude(collection: dict[str, Any]) -> float | None:
    lats: list[float] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], int | float):
            lats.append(float(coords[1]))
        else:
            for c in coords or []:
                walk(c)

    for f in collection.get("features", []):
        walk((f.get("geometry") or {}).get("coordinates"))
    return (min(lats) + max(lats)) / 2 if lats else None


def area_map_option(collection: dict[str, Any], map_name: str,
                    highlight: str | None = None) -> dict[str, Any]:
    """A choropleth of population over the features of ``collection``.

    The template registers ``collection`` with ``echarts.registerMap(map_name, collection)``;
    regions are matched by each feature's ``properties.name`` (the name in the current
    language). ``highlight`` (a code) is drawn selected.
    """
    data = []
    values = []
    for f in collection.get("features", []):
        p = f.get("properties", {})
        value = p.get("population")
        if value is not None:
            values.append(value)
        data.append({
            "name": p.get("name") or p.get("code"),
            "value": value,
            "code": p.get("code"),
            "selected": p.get("code") == highlight,
        })
    lat = _mid_latitude(collection)
    option: dict[str, Any] = {
        "tooltip": {"trigger": "item"},
        "series": [{
            "type": "map",
            "map": map_name,
            "roam": True,
            # lon/lat degrees are shorter east-west by cos(latitude)
            "aspectScale": round(math.cos(math.radians(lat)), 4) if lat is not None else 0.75,
            "name": _("Population"),
            "data": data,
            "selectedMode": "single",
            "label": {"show": len(data) <= LABEL_LIMIT, "fontSize": 10},
            "emphasis": {"label": {"show": True}},
            "itemStyle": {"borderColor": "#555", "borderWidth": 0.6},
        }],
    }
    if values:
        option["visualMap"] = {
            "min": min(values), "max": max(values), "calculable": True,
            "left": "left", "bottom": 10, "text": [_("More residents"), _("Fewer residents")],
            "inRange": {"color": ["#e0f3f8", "#74add1", "#313695"]},
        }
    return option
