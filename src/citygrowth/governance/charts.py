"""ECharts options for the command centers, built as plain dicts (templates only hand them on)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from citygrowth.governance.lifecycle import OPEN, STATUSES
from citygrowth.i18n import translate

STATUS_COLOURS = {"reported": "#5b6b7c", "registered": "#0b5cad", "dispatched": "#7b3fa0",
                  "handling": "#a15c00", "handled": "#1b7f7f", "verified": "#2f8f3b",
                  "postponed": "#8c8c8c", "closed": "#1b7f3b", "cancelled": "#b0b0b0"}


def case_points(cases: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cases with a position as markers of the district map component
    (``static/governance/districtmap.js``): coloured by status, overdue ones as alerts; the
    title is plain text (the component escapes it)."""
    return [{"id": c["id"], "lon": c["lon"], "lat": c["lat"], "status": c["status"],
             "color": STATUS_COLOURS.get(c["status"], "#0b5cad"),
             "alert": bool(c.get("overdue")),
             "title": f"#{c['id']} {c['category']} · {c['status_label']}"
                      + (f" · {translate('Overdue')}" if c.get("overdue") else "")
                      + (f" · {c['area']}" if c.get("area") else "")}
            for c in cases if c.get("lon") is not None and c.get("lat") is not None]


def open_status_option(counts: dict[str, int]) -> dict[str, Any]:
    """Bar chart of the OPEN cases per status (closed and cancelled cases are left out: their
    numbers dwarf the open ones), each bar in its status colour."""
    keys = [s for s in STATUSES if s in OPEN]
    return {"tooltip": {}, "grid": {"left": 48, "right": 16, "top": 24, "bottom": 48},
            "xAxis": {"type": "category", "data": [translate(STATUSES[k]) for k in keys],
                      "axisLabel": {"interval": 0}},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [{"type": "bar", "name": translate("Open cases"),
                        "label": {"show": True, "position": "top"},
                        "data": [{"value": counts.get(k, 0),
                                  "itemStyle": {"color": STATUS_COLOURS[k]}} for k in keys]}]}


def ontime_trend_option(rows: Sequence[dict[str, Any]],
                        names: dict[str, str] | None = None) -> dict[str, Any]:
    """On-time closure rate per month (one line per row code, named by ``names``)."""
    months = sorted({r["month"] for r in rows})
    by_code: dict[str, dict[str, Any]] = {}
    for r in rows:
        by_code.setdefault(r["code"], {})[r["month"]] = r["ontime_rate"]
    return {"tooltip": {"trigger": "axis"}, "legend": {"top": 0},
            "xAxis": {"type": "category", "data": months},
            "yAxis": {"type": "value", "min": 0, "max": 1,
                      "name": translate("On-time closure rate")},
            "series": [{"type": "line", "name": (names or {}).get(code, code),
                        "data": [vals.get(m) for m in months]}
                       for code, vals in sorted(by_code.items())]}
