"""The charts of a briefing, drawn on the server with matplotlib (Agg) as PNG images — the same
images go into the PDF, the DOCX and the briefing's page — with a Chinese font for the labels.

Five charts, each drawn from ``Briefing.charts`` (``sections.chart_data``) when its numbers
exist: the index and its pillars over the complete years, the five pillars of the last two
years (radar), the child areas' index (ranking), the targets at risk (share done against share
planned) and case handling over the last 12 months (with the framework's target).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from citygrowth.errors import ConfigurationError
from citygrowth.i18n import N_, translate
from citygrowth.periods import Period, period_text

CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
CHART_ORDER = ("trend", "radar", "ranking", "targets", "cases")
T_TREND = N_("{index} and its pillars, {first} to {last}")
T_RADAR = N_("The five pillars, {previous} and {period}")
T_RANKING = N_("{index} by area, {period}")
T_TARGETS = N_("Targets at risk: share done and planned by {date}")
T_CASES = N_("Case handling, {first} to {last}")
T_DONE = N_("Share done")
T_PLANNED = N_("Share planned")
T_TARGET_LINE = N_("Target {value}%")
# what each chart shows (alternative text on the briefing's page)
CHART_TITLES = {"trend": N_("The index and its pillars over the years"),
                "radar": N_("The five pillars, this year and last"),
                "ranking": N_("The index by area"),
                "targets": N_("Targets at risk: share done and planned"),
                "cases": N_("Case handling over the last 12 months")}
COLORS = ("#1f5fa8", "#2e8b57", "#c0392b", "#d68910", "#7d3c98", "#17a589")
STATUS_COLORS = {"red": "#c0392b", "amber": "#d68910", "green": "#2e8b57"}
DPI = 150


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """A font file with Chinese glyphs (the known paths, else ``fc-match :lang=zh``), or a
    clear error naming the package to install."""
    for c in CJK_FONT_CANDIDATES:
        if Path(c).exists():
            return Path(c)
    if shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh"], capture_output=True,
                               text=True, timeout=10, check=False).stdout.strip()
        if found and Path(found).exists() and found.lower().endswith((".ttc", ".ttf", ".otf")):
            return Path(found)
    raise ConfigurationError(
        detail="no CJK font found for briefings; install fonts-wqy-microhei "
        "(/usr/share/fonts/truetype/wqy/wqy-microhei.ttc)"
    )


def _label(v: Any, locale: str) -> str:
    if isinstance(v, dict):
        return str(v["en"] if locale == "en" else v.get("zh_CN", v["en"]))
    return str(v)


def _words(period: str, locale: str) -> str:
    return period_text(Period.parse(period), locale)


def render_png(charts: dict[str, dict[str, Any]], locale: str, index_name: str = ""
               ) -> dict[str, bytes]:
    """PNG images of each chart present, in ``CHART_ORDER``."""
    import matplotlib  # lazy: a heavy library, needed only when a briefing is exported

    matplotlib.use("Agg")
    from matplotlib import font_manager  # lazy: as above

    path = str(cjk_font_path())
    font_manager.fontManager.addfont(path)
    family = font_manager.FontProperties(fname=path).get_name()
    draw = {"trend": _trend, "radar": _radar, "ranking": _ranking, "targets": _targets,
            "cases": _cases}
    out: dict[str, bytes] = {}
    with matplotlib.rc_context({"font.family": family, "axes.unicode_minus": False,
                                "font.size": 9}):
        for name in CHART_ORDER:
            if name in charts:
                out[name] = _png(draw[name](charts[name], locale, index_name))
    return out


def _png(fig: Any) -> bytes:
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _figure(w: float, h: float, polar: bool = False) -> tuple[Any, Any]:
    from matplotlib.figure import Figure  # lazy: a heavy library

    fig = Figure(figsize=(w, h))
    ax = fig.add_subplot(projection="polar" if polar else None)
    return fig, ax


def _trend(data: dict[str, Any], locale: str, index_name: str) -> Any:
    fig, ax = _figure(6.4, 3.0)
    periods = data["periods"]
    x = np.arange(len(periods))
    for i, s in enumerate(data["series"]):
        vals = [np.nan if v is None else v for v in s["values"]]
        ax.plot(x, vals, marker="o", markersize=3, color=COLORS[i % len(COLORS)],
                linewidth=2.6 if i == 0 else 1.2, label=_label(s["name"], locale))
    ax.set_xticks(x)
    ax.set_xticklabels([_words(p, locale) for p in periods], fontsize=8)
    first = data["series"][0]["values"][-1]
    if first is not None:
        ax.annotate(f"{first:.1f}", (x[-1], first), textcoords="offset points", xytext=(4, 4),
                    fontsize=9, color=COLORS[0])
    ax.set_title(translate(T_TREND, locale).format(
        index=index_name, first=_words(periods[0], locale), last=_words(periods[-1], locale)))
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.1),
              frameon=False)
    ax.grid(alpha=0.3)
    return fig


def _radar(data: dict[str, Any], locale: str, index_name: str) -> Any:
    fig, ax = _figure(3.4, 3.0, polar=True)
    labels = [_wrap(_label(x, locale)) for x in data["labels"]]
    angles = np.linspace(0, 2 * np.pi, len(labels), endpoint=False)
    for i, s in enumerate(data["series"]):
        vals = list(s["values"]) + [s["values"][0]]
        color = COLORS[0] if i == len(data["series"]) - 1 else "#95a5a6"
        ax.plot([*angles, angles[0]], vals, color=color, linewidth=1.6,
                label=_words(s["period"], locale))
        ax.fill([*angles, angles[0]], vals, color=color, alpha=0.12)
    ax.set_xticks(angles)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_yticks([25, 50, 75])
    ax.tick_params(axis="y", labelsize=6)
    periods = [s["period"] for s in data["series"]]
    ax.set_title(translate(T_RADAR, locale).format(
        previous=_words(periods[0], locale), period=_words(periods[-1], locale)), fontsize=9)
    ax.legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.15, -0.12), frameon=False)
    return fig


def _cut(label: str, n: int) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def _wrap(label: str, width: int = 12) -> str:
    """A long (English) axis name on two lines."""
    if len(label) <= width or " " not in label:
        return label
    cut = label.rfind(" ", 0, width + 1)
    cut = cut if cut > 0 else label.find(" ")
    return label[:cut] + "\n" + label[cut + 1:]


def _ranking(data: dict[str, Any], locale: str, index_name: str) -> Any:
    n = len(data["labels"])
    fig, ax = _figure(6.4, max(2.4, 0.17 * n + 0.9))
    labels = [_label(x, locale) for x in data["labels"]][::-1]
    values = data["values"][::-1]
    bars = ax.barh(range(n), values, color=COLORS[0], height=0.7)
    ax.bar_label(bars, labels=[f"{v:.1f}" for v in values], fontsize=7, padding=2)
    ax.set_yticks(range(n))
    ax.set_yticklabels(labels, fontsize=7.5)
    ax.set_xlim(0, max(values) * 1.12 if values else 1)
    ax.set_title(translate(T_RANKING, locale).format(index=index_name,
                                                     period=_words(data["period"], locale)))
    ax.grid(axis="x", alpha=0.3)
    return fig


def _targets(data: dict[str, Any], locale: str, index_name: str) -> Any:
    n = len(data["labels"])
    fig, ax = _figure(6.4, max(2.0, 0.42 * n + 0.9))
    y = np.arange(n)[::-1]
    labels = [_label(x, locale) for x in data["labels"]]
    colors = [STATUS_COLORS.get(s, COLORS[0]) for s in data["status"]]
    done = ax.barh(y + 0.18, data["actual"], height=0.34, color=colors,
                   label=translate(T_DONE, locale))
    ax.barh(y - 0.18, data["planned"], height=0.34, color="#bfc9d1",
            label=translate(T_PLANNED, locale))
    ax.bar_label(done, labels=[f"{v:.0f}%" for v in data["actual"]], fontsize=7, padding=2)
    ax.set_yticks(y)
    ax.set_yticklabels([_wrap(_cut(t, 44), 24) if locale == "en" else _cut(t, 22)
                        for t in labels], fontsize=7.5)
    ax.set_xlim(0, 110)
    ax.set_title(translate(T_TARGETS, locale).format(date=_words(data["date"], locale)))
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2,
              frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return fig


def _cases(data: dict[str, Any], locale: str, index_name: str) -> Any:
    fig, ax = _figure(6.4, 2.8)
    periods = data["periods"]
    x = np.arange(len(periods))
    for i, s in enumerate(data["series"]):
        vals = [np.nan if v is None else v for v in s["values"]]
        color = COLORS[(i + 1) % len(COLORS)]
        ax.plot(x, vals, marker="o", markersize=3, color=color,
                label=_label(s["name"], locale))
        if s.get("target") is not None:
            ax.axhline(s["target"], color=color, linestyle="--", linewidth=0.9)
            ax.annotate(translate(T_TARGET_LINE, locale).format(value=f"{s['target']:g}"),
                        (0, s["target"]), textcoords="offset points", xytext=(0, 3),
                        fontsize=7, color=color)
    ax.set_xticks(x)
    ax.set_xticklabels([_month_tick(p, i, locale) for i, p in enumerate(periods)], fontsize=7)
    ax.set_ylabel("%")
    ax.set_title(translate(T_CASES, locale).format(first=_words(periods[0], locale),
                                                   last=_words(periods[-1], locale)))
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12),
              frameon=False)
    ax.grid(alpha=0.3)
    return fig


def _month_tick(period: str, i: int, locale: str) -> str:
    """The month alone (the title names the years): 12月, 1月 … (en: Dec, Jan …)."""
    p = Period.parse(period)
    return _words(period, locale)[:3] if locale == "en" else f"{p.start.month}月"
