"""Charts of a briefing: ECharts options (pure dicts, for the web page) and PNG images drawn
with matplotlib (for PDF and DOCX), with a CJK font for Chinese labels."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from citygrowth.errors import ConfigurationError
from citygrowth.i18n import N_, translate

CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
T_TREND = N_("City Growth Index")
T_PILLARS = N_("Change of each pillar (points)")


def cjk_font_path() -> Path:
    """A font file with Chinese glyphs, or a clear error naming the package to install."""
    for c in CJK_FONT_CANDIDATES:
        if Path(c).exists():
            return Path(c)
    raise ConfigurationError(
        detail="no CJK font found for briefings; install fonts-wqy-microhei "
        "(/usr/share/fonts/truetype/wqy/wqy-microhei.ttc)"
    )


def _label(v: Any, locale: str) -> str:
    if isinstance(v, dict):
        return str(v["en"] if locale == "en" else v.get("zh_CN", v["en"]))
    return str(v)


def echarts_options(charts: dict[str, dict[str, Any]], locale: str) -> dict[str, dict[str, Any]]:
    """ECharts option dicts for each chart of a briefing."""
    out: dict[str, dict[str, Any]] = {}
    if "trend" in charts:
        t = charts["trend"]
        out["trend"] = {
            "title": {"text": translate(T_TREND, locale)}, "tooltip": {"trigger": "axis"},
            "xAxis": {"type": "category", "data": t["periods"]}, "yAxis": {"type": "value"},
            "series": [{"type": "line", "data": t["values"], "smooth": False}],
        }
    if "pillars" in charts:
        p = charts["pillars"]
        out["pillars"] = {
            "title": {"text": translate(T_PILLARS, locale)}, "tooltip": {},
            "xAxis": {"type": "value"},
            "yAxis": {"type": "category", "data": [_label(x, locale) for x in p["labels"]]},
            "series": [{"type": "bar", "data": p["values"]}],
        }
    return out


def render_png(charts: dict[str, dict[str, Any]], locale: str) -> dict[str, bytes]:
    """PNG images of each chart (matplotlib, Agg backend, CJK font)."""
    import matplotlib  # lazy: heavy library

    matplotlib.use("Agg")
    from matplotlib import font_manager  # lazy: heavy library
    from matplotlib.figure import Figure  # lazy: heavy library

    font = font_manager.FontProperties(fname=str(cjk_font_path()))
    out: dict[str, bytes] = {}
    for name, data in charts.items():
        fig = Figure(figsize=(6.4, 2.8), dpi=120)
        ax = fig.add_subplot()
        if name == "trend":
            ax.plot(data["periods"], data["values"], marker="o", color="#1f5fa8")
            step = max(1, len(data["periods"]) // 8)
            ax.set_xticks(range(0, len(data["periods"]), step))
            ax.set_xticklabels(data["periods"][::step], fontproperties=font, fontsize=8)
            ax.set_title(translate(T_TREND, locale), fontproperties=font)
        else:
            labels = [_label(x, locale) for x in data["labels"]]
            colors = ["#2e8b57" if v >= 0 else "#c0392b" for v in data["values"]]
            ax.barh(range(len(labels)), data["values"], color=colors)
            ax.set_yticks(range(len(labels)))
            ax.set_yticklabels(labels, fontproperties=font, fontsize=8)
            ax.axvline(0, color="#555", linewidth=0.8)
            ax.set_title(translate(T_PILLARS, locale), fontproperties=font)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        out[name] = buf.getvalue()
    return out
