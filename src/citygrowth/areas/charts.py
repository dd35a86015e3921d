"""Chart options for area pages: pure functions returning ECharts option dicts."""

from __future__ import annotations

from typing import Any

from citygrowth.i18n import _


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
    option: dict[str, Any] = {
        "tooltip": {"trigger": "item"},
        "series": [{
            "type": "map",
            "map": map_name,
            "roam": True,
            "name": _("Population"),
            "data": data,
            "selectedMode": "single",
            "label": {"show": len(data) <= 30, "fontSize": 10},
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
