"""ECharts options as plain dicts (templates only hand them to ECharts)."""

from __future__ import annotations

from typing import Any

from citygrowth.i18n import _

COLOURS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828"}


def status_by_department(overview: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacked bars: green/amber/red targets per owner department."""
    names = [d["department"] for d in overview]
    series = [{"name": _(label), "type": "bar", "stack": "status",
               "itemStyle": {"color": COLOURS[key]}, "data": [d[key] for d in overview]}
              for key, label in (("green", "On track"), ("amber", "At risk"),
                                 ("red", "Off track"))]
    return {"tooltip": {"trigger": "axis"}, "legend": {}, "grid": {"containLabel": True},
            "xAxis": {"type": "value", "minInterval": 1},
            "yAxis": {"type": "category", "data": names}, "series": series}


def target_progress(detail: dict[str, Any]) -> dict[str, Any]:
    """Reported values against the plan line, with the milestones marked."""
    reports = [[r["reported_on"], r["value"]] for r in detail["reports"]]
    plan = detail["plan_line"]
    miles = [[m["due_date"], m["planned_value"]] for m in detail["milestones"]]
    return {
        "tooltip": {"trigger": "axis"}, "legend": {},
        "xAxis": {"type": "time"}, "yAxis": {"type": "value", "name": detail["unit"]},
        "series": [
            {"name": _("Reported value"), "type": "line", "data": reports, "symbolSize": 6},
            {"name": _("Plan"), "type": "line", "data": plan,
             "lineStyle": {"type": "dashed"}, "symbol": "none"},
            {"name": _("Milestones"), "type": "scatter", "data": miles, "symbol": "diamond",
             "symbolSize": 10},
        ],
    }


def investment_by_industry(portfolio: dict[str, Any]) -> dict[str, Any]:
    rows = portfolio["by_industry"]
    return {
        "tooltip": {"trigger": "axis"}, "legend": {}, "grid": {"containLabel": True},
        "xAxis": {"type": "category", "data": [r["name"] for r in rows],
                  "axisLabel": {"interval": 0, "rotate": 30}},
        "yAxis": {"type": "value", "name": _("100 million yuan")},
        "series": [
            {"name": _("Total investment"), "type": "bar", "data": [r["total_yi"] for r in rows]},
            {"name": _("Completed"), "type": "bar", "data": [r["completed_yi"] for r in rows]},
        ],
    }


def projects_by_stage(portfolio: dict[str, Any]) -> dict[str, Any]:
    return {"tooltip": {"trigger": "item"},
            "series": [{"type": "pie", "radius": ["35%", "65%"],
                        "data": [{"name": r["name"], "value": r["count"]}
                                 for r in portfolio["by_stage"]]}]}


def projects_map(rows: list[dict[str, Any]], map_name: str = "citygrowth") -> dict[str, Any]:
    """Scatter of located projects on the district map (registered as ``map_name``)."""
    data = [{"name": r["name"], "value": [r["lon"], r["lat"], r["total_yi"]],
             "industry": r["industry_name"]}
            for r in rows if r["lon"] is not None and r["lat"] is not None]
    return {
        "tooltip": {"trigger": "item"},
        "geo": {"map": map_name, "roam": True,
                "itemStyle": {"areaColor": "#eef3f8", "borderColor": "#7a8ca3"}},
        "series": [{"name": _("Key projects"), "type": "scatter", "coordinateSystem": "geo",
                    "data": data, "symbolSize": 8}],
    }


def project_location(project: dict[str, Any], map_name: str = "citygrowth") -> dict[str, Any]:
    """One project as a pin on the street map, its street named."""
    option = projects_map([project], map_name)
    option["series"][0].update({
        "symbol": "pin", "symbolSize": 34, "itemStyle": {"color": "#c62828"},
        "label": {"show": True, "position": "right", "formatter": "{b}", "color": "#1a1a1a",
                  "backgroundColor": "rgba(255,255,255,.85)", "padding": [2, 4]}})
    # its street highlighted and named (areas are matched by code)
    option["geo"].update({"nameProperty": "code", "regions": [{
        "name": project["area_code"], "itemStyle": {"areaColor": "#ffe0b2"},
        "label": {"show": True, "formatter": project.get("area", ""), "color": "#5b3a00",
                  "position": "bottom"}}]})
    return option


def approval_trend(stats: dict[str, Any]) -> dict[str, Any]:
    """Mean and median working days to approval, month by month."""
    months = stats["by_month"]
    return {
        "tooltip": {"trigger": "axis"}, "legend": {},
        "xAxis": {"type": "category", "data": [m["period"] for m in months]},
        "yAxis": [{"type": "value", "name": _("Working days")},
                  {"type": "value", "name": _("Approved items"), "minInterval": 1}],
        "dataZoom": [{"type": "slider"}],
        "series": [
            {"name": _("Mean working days"), "type": "line",
             "data": [m["mean_days"] for m in months]},
            {"name": _("Median working days"), "type": "line",
             "data": [m["median_days"] for m in months]},
            {"name": _("Approved items"), "type": "bar", "yAxisIndex": 1,
             "itemStyle": {"opacity": 0.3},
             "data": [m["count"] for m in months]},
        ],
    }


def lead_funnel(funnel: dict[str, Any]) -> dict[str, Any]:
    return {"tooltip": {"trigger": "item"},
            "series": [{"type": "funnel", "sort": "none", "left": "10%", "width": "80%",
                        "label": {"show": True, "position": "inside"},
                        "data": [{"name": s["name"], "value": s["count"]}
                                 for s in funnel["stages"]]}]}
