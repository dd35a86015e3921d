"""ECharts options as pure functions: numbers in, a dict out; templates only hand it over.

Every builder takes already-translated labels and plain numbers, returns a JSON-serialisable
dict, and is tested as a dict. ``theme="dark"`` gives the command-center look of the big screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

Theme = Literal["light", "dark"]

PALETTE = ["#36a3f7", "#34bfa3", "#f4516c", "#ffb822", "#7e57c2", "#00c5dc", "#ff7f50"]
TEXT = {"light": "#1d2733", "dark": "#cfe3ff"}
AXIS = {"light": "#8a99a8", "dark": "#3d5a80"}


def _base(theme: Theme, title: str | None = None) -> dict[str, Any]:
    opt: dict[str, Any] = {
        "color": PALETTE,
        "backgroundColor": "transparent",
        "textStyle": {"color": TEXT[theme]},
        "tooltip": {},
        "animationDuration": 300,
    }
    if title:
        opt["title"] = {"text": title, "left": "center", "textStyle": {"color": TEXT[theme]}}
    return opt


def choropleth(
    map_name: str,
    items: Sequence[dict[str, Any]],
    *,
    title: str | None = None,
    unit: str = "",
    theme: Theme = "light",
) -> dict[str, Any]:
    """A map coloured by value. ``items``: ``{"code", "name", "value"}`` per area.

    Areas are matched to the registered GeoJSON by their code (``nameProperty: "code"``), so
    names may be shown in any language.
    """
    values = [float(i["value"]) for i in items if i.get("value") is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    opt = _base(theme, title)
    opt["tooltip"] = {"trigger": "item"}
    opt["visualMap"] = {
        "min": round(lo, 4),
        "max": round(hi, 4),
        "calculable": True,
        "left": "left",
        "bottom": 10,
        "text": [unit, ""] if unit else None,
        "inRange": {"color": ["#0d3b66", "#1f77b4", "#5fb4f2", "#b7f0ff"]}
        if theme == "dark" else {"color": ["#e8f1fb", "#8ab6e6", "#2f6fb5", "#0b3a75"]},
        "textStyle": {"color": TEXT[theme]},
    }
    opt["series"] = [{
        "type": "map",
        "map": map_name,
        "nameProperty": "code",
        "roam": True,
        "label": {"show": False},
        "emphasis": {"label": {"show": True}},
        "data": [
            {"name": i["code"], "value": i.get("value"), "label_text": i.get("name", i["code"]),
             "short": i.get("short") or i.get("name", i["code"])}
            for i in items
        ],
    }]
    return opt


def radar(
    axes: Sequence[dict[str, Any]],
    series: Sequence[dict[str, Any]],
    *,
    title: str | None = None,
    max_value: float = 100.0,
    theme: Theme = "light",
) -> dict[str, Any]:
    """A radar of pillars. ``axes``: ``{"code", "name"}``; ``series``: ``{"name", "values"}``
    with values in axis order (None where missing)."""
    opt = _base(theme, title)
    opt["legend"] = {"bottom": 0, "textStyle": {"color": TEXT[theme]},
                     "data": [s["name"] for s in series]}
    opt["radar"] = {
        "indicator": [{"name": a["name"], "max": max_value} for a in axes],
        "axisName": {"color": TEXT[theme]},
        "splitLine": {"lineStyle": {"color": AXIS[theme]}},
    }
    opt["series"] = [{
        "type": "radar",
        "data": [{"name": s["name"], "value": list(s["values"])} for s in series],
    }]
    return opt


def trend(
    periods: Sequence[str],
    series: Sequence[dict[str, Any]],
    *,
    title: str | None = None,
    unit: str = "",
    theme: Theme = "light",
    band: dict[str, Sequence[float | None]] | None = None,
) -> dict[str, Any]:
    """Lines over time. ``series``: ``{"name", "values"}`` aligned with ``periods``.

    ``band`` (``{"lower": [...], "upper": [...]}``) adds a shaded interval, e.g. a forecast's.
    """
    opt = _base(theme, title)
    opt["tooltip"] = {"trigger": "axis"}
    opt["legend"] = {"top": 28 if title else 0, "textStyle": {"color": TEXT[theme]}}
    opt["grid"] = {"left": 56, "right": 24, "top": 64 if title else 36, "bottom": 36}
    opt["xAxis"] = {"type": "category", "data": list(periods),
                    "axisLine": {"lineStyle": {"color": AXIS[theme]}}}
    opt["yAxis"] = {"type": "value", "name": unit, "scale": True,
                    "axisLine": {"lineStyle": {"color": AXIS[theme]}},
                    "splitLine": {"lineStyle": {"color": AXIS[theme], "opacity": 0.3}}}
    lines: list[dict[str, Any]] = [
        {"type": "line", "name": s["name"], "data": list(s["values"]), "smooth": False,
         "showSymbol": len(periods) <= 24, "connectNulls": False}
        for s in series
    ]
    if band:
        lower = list(band["lower"])
        width = [
            None if lo is None or up is None else up - lo
            for lo, up in zip(lower, band["upper"], strict=True)
        ]
        lines += [
            {"type": "line", "name": "lower", "data": lower, "stack": "band", "symbol": "none",
             "lineStyle": {"opacity": 0}, "tooltip": {"show": False}},
            {"type": "line", "name": "band", "data": width, "stack": "band", "symbol": "none",
             "lineStyle": {"opacity": 0}, "areaStyle": {"opacity": 0.2},
             "tooltip": {"show": False}},
        ]
        opt["legend"]["data"] = [s["name"] for s in series]
    opt["series"] = lines
    return opt


def ranking(
    rows: Sequence[dict[str, Any]],
    *,
    title: str | None = None,
    unit: str = "",
    theme: Theme = "light",
) -> dict[str, Any]:
    """Horizontal bars, best at the top. ``rows``: ``{"name", "value", "move"}`` where
    ``move`` is the change in rank since the previous period (positive = rose)."""
    ordered = ranking_order(rows)
    opt = _base(theme, title)
    opt["tooltip"] = {"trigger": "axis", "axisPointer": {"type": "shadow"}}
    opt["grid"] = {"left": 8, "right": 48, "top": 36 if title else 8, "bottom": 8,
                   "containLabel": True}
    opt["xAxis"] = {"type": "value", "name": unit, "splitLine": {"show": False},
                    "axisLabel": {"color": TEXT[theme]}}
    opt["yAxis"] = {
        "type": "category",
        "data": [f"{r['name']} {_arrow(r.get('move'))}".strip() for r in ordered],
        "axisLabel": {"color": TEXT[theme]},
    }
    opt["series"] = [{
        "type": "bar",
        "data": [r["value"] for r in ordered],
        "label": {"show": True, "position": "right", "color": TEXT[theme]},
        "barMaxWidth": 18,
    }]
    return opt


def ranking_order(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` in the order :func:`ranking` draws them: worst first, as ECharts draws
    categories bottom-up (a click on bar ``i`` is ``ranking_order(rows)[i]``)."""
    ordered = sorted(rows, key=lambda r: (r["value"] is None, -(r["value"] or 0)))
    return list(reversed(ordered))


def _arrow(move: int | None) -> str:
    if not move:
        return ""
    return f"▲{move}" if move > 0 else f"▼{-move}"


def bars(
    categories: Sequence[str],
    series: Sequence[dict[str, Any]],
    *,
    title: str | None = None,
    unit: str = "",
    theme: Theme = "light",
) -> dict[str, Any]:
    """Grouped vertical bars. ``series``: ``{"name", "values"}`` aligned with categories."""
    opt = _base(theme, title)
    opt["tooltip"] = {"trigger": "axis"}
    opt["legend"] = {"top": 28 if title else 0, "textStyle": {"color": TEXT[theme]}}
    opt["grid"] = {"left": 56, "right": 24, "top": 64 if title else 36, "bottom": 60}
    opt["xAxis"] = {"type": "category", "data": list(categories),
                    "axisLabel": {"rotate": 30 if len(categories) > 8 else 0}}
    opt["yAxis"] = {"type": "value", "name": unit}
    opt["series"] = [{"type": "bar", "name": s["name"], "data": list(s["values"])}
                     for s in series]
    return opt


def scatter_points(
    points: Sequence[dict[str, Any]], *, map_name: str, theme: Theme = "light"
) -> dict[str, Any]:
    """Points (cases, projects) over a registered map. ``points``: ``{"lon","lat","name",
    "value"}``."""
    opt = _base(theme)
    opt["geo"] = {"map": map_name, "roam": True, "nameProperty": "code",
                  "itemStyle": {"areaColor": "#12355b" if theme == "dark" else "#eef3f8",
                                "borderColor": AXIS[theme]}}
    opt["series"] = [{
        "type": "scatter", "coordinateSystem": "geo", "symbolSize": 7,
        "data": [{"name": p["name"], "value": [p["lon"], p["lat"], p.get("value")]}
                 for p in points],
    }]
    return opt
