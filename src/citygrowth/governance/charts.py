"""ECharts options for the command centers, built as plain dicts (templates only hand them on)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from citygrowth.governance.lifecycle import STATUSES
from citygrowth.i18n import translate

STATUS_COLOURS = {"reported": "#5b6b7c", "registered": "#0b5cad", "dispatched": "#7b3fa0",
                  "handling": "#a15c00", "handled": "#1b7f7f", "verified": "#2f8f3b",
                  "postponed": "#8c8c8c", "closed": "#1b7f3b", "cancelled": "#b0b0b0"}


def case_map_option(cases: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A scatter 'map' of cases by longitude/latitude, one series per status; overdue cases
    are drawn larger with a red border."""
    series = []
    for status, label in STATUSES.items():
        pts = [{"value": [c["lon"], c["lat"], c["id"]], "name": f"#{c['id']} {c['category']}",
                "symbolSize": 14 if c.get("overdue") else 8,
                "itemStyle": {"borderColor": "#b3261e", "borderWidth": 2}
                if c.get("overdue") else {}}
               for c in cases if c["status"] == status and c["lon"] is not None
               and c["lat"] is not None]
        if pts:
            series.append({"type": "scatter", "name": translate(label), "data": pts,
                           "itemStyle": {"color": STATUS_COLOURS[status]}})
    return {"tooltip": {"trigger": "item"}, "legend": {"top": 0},
            "xAxis": {"type": "value", "scale": True, "name": translate("Longitude")},
            "yAxis": {"type": "value", "scale": True, "name": translate("Latitude")},
            "grid": {"left": 60, "right": 20, "top": 40, "bottom": 40}, "series": series}


def queue_option(counts: dict[str, int]) -> dict[str, Any]:
    """Bar chart of cases per status."""
    keys = [s for s in STATUSES if s != "cancelled"]
    return {"tooltip": {}, "xAxis": {"type": "category",
                                     "data": [translate(STATUSES[k]) for k in keys]},
            "yAxis": {"type": "value"},
            "series": [{"type": "bar", "data": [counts.get(k, 0) for k in keys],
                        "itemStyle": {"color": "#0b5cad"}}]}


def ontime_trend_option(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """On-time closure rate per month (one line per row code)."""
    months = sorted({r["month"] for r in rows})
    by_code: dict[str, dict[str, Any]] = {}
    for r in rows:
        by_code.setdefault(r["code"], {})[r["month"]] = r["ontime_rate"]
    return {"tooltip": {"trigger": "axis"}, "legend": {"top": 0},
            "xAxis": {"type": "category", "data": months},
            "yAxis": {"type": "value", "min": 0, "max": 1,
                      "name": translate("On-time closure rate")},
            "series": [{"type": "line", "name": code,
                        "data": [vals.get(m) for m in months]}
                       for code, vals in sorted(by_code.items())]}
