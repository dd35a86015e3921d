"""Units of measure as SDMX sees them: a base unit code plus a power-of-ten multiplier.

``亿元`` is ``UNIT_MEASURE=CNY, UNIT_MULT=8``, ``万人`` is ``PERSON`` with ``4``; a value is always
exchanged in the unit it is stored in, and the multiplier says how to read it. Units missing
from the table get a stable code ``U_<hash>`` whose name is the unit text itself.
"""

from __future__ import annotations

import hashlib
import math

from citygrowth.catalog.units import Unit, UnitError, parse_unit
from citygrowth.exchange.sdmx.model import Code

# unit text -> (UNIT_MEASURE code, UNIT_MULT)
_BASE: dict[str, tuple[str, int]] = {
    "元": ("CNY", 0), "千元": ("CNY", 3), "万元": ("CNY", 4), "百万元": ("CNY", 6),
    "亿元": ("CNY", 8), "美元": ("USD", 0), "万美元": ("USD", 4), "亿美元": ("USD", 8),
    "%": ("PCT", 0), "‰": ("PERMILLE", 0), "个": ("NUMBER", 0), "家": ("NUMBER", 0),
    "件": ("NUMBER", 0), "项": ("NUMBER", 0), "座": ("NUMBER", 0), "所": ("NUMBER", 0),
    "处": ("NUMBER", 0), "次": ("NUMBER", 0), "辆": ("NUMBER", 0), "张": ("NUMBER", 0),
    "万个": ("NUMBER", 4), "万户": ("HOUSEHOLD", 4), "户": ("HOUSEHOLD", 0),
    "万家": ("NUMBER", 4), "万件": ("NUMBER", 4), "万次": ("NUMBER", 4),
    "人": ("PERSON", 0), "万人": ("PERSON", 4), "万人次": ("PERSON_TIMES", 4),
    "人次": ("PERSON_TIMES", 0), "平方米": ("M2", 0), "万平方米": ("M2", 4),
    "平方公里": ("KM2", 0), "公顷": ("HA", 0), "公里": ("KM", 0), "米": ("M", 0),
    "天": ("DAY", 0), "日": ("DAY", 0), "小时": ("HOUR", 0), "分钟": ("MINUTE", 0),
    "分": ("POINT", 0), "点": ("POINT", 0), "吨": ("TONNE", 0), "万吨": ("TONNE", 4),
    "千瓦时": ("KWH", 0), "万千瓦时": ("KWH", 4), "微克/立方米": ("UG_M3", 0),
    "μg/m³": ("UG_M3", 0), "张/千人": ("PER_1000_PERSONS", 0), "人/千人": ("PER_1000_PERSONS", 0),
    "元/人": ("CNY_PER_PERSON", 0), "万元/人": ("CNY_PER_PERSON", 4),
    "平方米/人": ("M2_PER_PERSON", 0), "index": ("INDEX", 0), "指数": ("INDEX", 0),
    "人/万人": ("PER_10000_PERSONS", 0), "工作日": ("WORKING_DAY", 0), "m²": ("M2", 0),
    "km²": ("KM2", 0), "": ("PURE_NUMBER", 0), "1": ("PURE_NUMBER", 0),
}
# a dimension of citygrowth.catalog.units -> the code of its base unit
_DIMENSION_CODES: dict[str, str] = {
    "cny": "CNY", "usd": "USD", "persons": "PERSON", "area": "M2", "length": "M",
    "count": "NUMBER", "index": "POINT", "concentration": "UG_M3", "duration": "HOUR",
    "working_days": "WORKING_DAY", "ratio": "RATIO",
}

_NAMES: dict[str, tuple[str, str]] = {
    "CNY": ("Yuan renminbi", "人民币元"), "USD": ("US dollar", "美元"),
    "PCT": ("Percent", "百分比"), "PERMILLE": ("Per mille", "千分比"),
    "NUMBER": ("Number", "个数"), "HOUSEHOLD": ("Households", "户"),
    "PERSON": ("Persons", "人"), "PERSON_TIMES": ("Person-times", "人次"),
    "M2": ("Square metres", "平方米"), "KM2": ("Square kilometres", "平方公里"),
    "HA": ("Hectares", "公顷"), "KM": ("Kilometres", "公里"), "M": ("Metres", "米"),
    "DAY": ("Days", "天"), "HOUR": ("Hours", "小时"), "MINUTE": ("Minutes", "分钟"),
    "POINT": ("Points", "分"), "TONNE": ("Tonnes", "吨"), "KWH": ("Kilowatt-hours", "千瓦时"),
    "UG_M3": ("Micrograms per cubic metre", "微克/立方米"),
    "PER_1000_PERSONS": ("Per 1,000 persons", "每千人"),
    "CNY_PER_PERSON": ("Yuan per person", "元/人"),
    "M2_PER_PERSON": ("Square metres per person", "平方米/人"),
    "INDEX": ("Index", "指数"), "PURE_NUMBER": ("Pure number", "纯数"),
    "PER_10000_PERSONS": ("Per 10,000 persons", "每万人"),
    "WORKING_DAY": ("Working days", "工作日"),
    "RATIO": ("Ratio", "比值"),
}

MULTIPLIERS: tuple[int, ...] = tuple(range(10))


def unit_code(unit: str | None) -> tuple[str, int]:
    """``(UNIT_MEASURE, UNIT_MULT)`` for one of our unit texts."""
    text = (unit or "").strip()
    if text in _BASE:
        return _BASE[text]
    try:
        parsed: Unit | None = parse_unit(text)
    except UnitError:
        parsed = None
    if parsed is not None and parsed.dimension in _DIMENSION_CODES and parsed.scale >= 1:
        power = math.log10(parsed.scale)
        if abs(power - round(power)) < 1e-9 and round(power) in MULTIPLIERS:
            return _DIMENSION_CODES[parsed.dimension], round(power)
    return "U_" + hashlib.sha1(text.encode()).hexdigest()[:8].upper(), 0


def unit_codes(units: set[str]) -> tuple[Code, ...]:
    """The codes of CL_UNIT_MEASURE: every named base unit, plus codes for unknown units."""
    codes = {cid: Code(cid, en, zh) for cid, (en, zh) in _NAMES.items()}
    for u in sorted(units):
        cid, _mult = unit_code(u)
        if cid not in codes:
            codes[cid] = Code(cid, u, u)
    return tuple(codes[k] for k in sorted(codes))


def unit_text(code: str, mult: int) -> str | None:
    """Our unit text for an SDMX unit and multiplier, or None when we have none."""
    for text, pair in _BASE.items():
        if pair == (code, mult) and text not in ("", "1"):
            return text
    if (code, mult) == ("PURE_NUMBER", 0):
        return ""
    return None
