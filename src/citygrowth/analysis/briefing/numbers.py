"""Numbers as a reader expects them, in Chinese or English, with units."""

from __future__ import annotations

import math

from citygrowth.analysis.briefing.model import Figure

# Chinese unit symbols → English wording (counters need no word in English prose: the
# indicator's name says what is counted — market entities, households …).
UNIT_EN: dict[str, str] = {
    "亿元": "hundred million yuan", "万元": "ten thousand yuan", "元": "yuan",
    "亿美元": "hundred million USD", "万美元": "ten thousand USD", "美元": "USD",
    "万人": "ten thousand persons", "万人次": "ten thousand visits",
    "人": "persons", "人次": "visits", "小时": "hours", "天": "days", "工作日": "working days",
    "分": "points", "个": "", "家": "", "户": "", "件": "cases", "所": "", "条": "",
    "处": "", "套": "units", "座": "", "名": "", "项": "", "平方米": "m²", "公顷": "ha",
}
PERCENT = ("%", "％")


def format_number(value: float, decimals: int = 1, whole: bool = True) -> str:
    if not math.isfinite(value):
        return "–"
    if whole and float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.{decimals}f}"


def unit_label(unit: str, locale: str) -> str:
    if unit in PERCENT or unit == "pp":
        return unit
    if locale == "en":
        return UNIT_EN.get(unit, unit)
    return unit


def format_figure(fig: Figure, locale: str) -> str:
    text = format_number(fig.value, fig.decimals, whole=bool(fig.unit))
    if fig.unit == "probability":
        return f"{fig.value:.0%}"
    unit = unit_label(fig.unit, locale)
    if not unit:
        return text
    if unit in PERCENT:
        return f"{text}%"
    if unit == "pp":
        return f"{text} 个百分点" if locale != "en" else f"{text} pp"
    return f"{text} {unit}" if locale == "en" else f"{text}{unit}"


def signed(value: float, decimals: int = 1) -> str:
    return ("+" if value > 0 else "") + format_number(value, decimals)
