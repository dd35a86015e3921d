"""Units of measure: parse ``亿元``, ``万人``, ``%``, ``km²`` … and convert within a dimension.

A :class:`Unit` is a dimension (``cny``, ``usd``, ``ratio``, ``persons``, ``area``, ``duration``,
``working_days``, ``count``, ``index``) and a scale relative to the dimension's base unit, so
``亿元`` is ``cny × 1e8`` and ``%`` is ``ratio × 0.01``. Values convert between units of the
same dimension; anything else is a :class:`UnitError`.

Currencies are separate dimensions: 美元 never silently becomes 元. A framework that wants them
converted names exchange rates (``fx_rates: {USD: 7.10}``, yuan per unit of the currency) and
passes them as ``fx_rates`` to :func:`factor`; then ``usd`` converts to ``cny`` and back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from citygrowth.errors import ValidationFailed

DIMENSIONS: dict[str, str] = {
    "cny": "yuan",
    "usd": "US dollars",
    "ratio": "ratio",
    "persons": "persons",
    "area": "area",
    "duration": "duration",
    "working_days": "working days",
    "count": "count",
    "index": "index points",
    "length": "length",
    "concentration": "concentration",
}

# base symbol (lower-cased aliases) → (dimension, scale, canonical symbol)
_BASE: dict[str, tuple[str, float, str]] = {}


def _add(dimension: str, scale: float, canonical: str, *aliases: str) -> None:
    for alias in (canonical, *aliases):
        _BASE[alias.lower()] = (dimension, scale, canonical)


_add("cny", 1.0, "元", "cny", "rmb", "yuan")
_add("usd", 1.0, "美元", "usd", "us$", "dollar", "dollars")
_add("ratio", 0.01, "%", "percent", "pct", "％")
_add("ratio", 0.001, "‰", "permille", "per mille")
_add("ratio", 1.0, "ratio", "比值", "fraction")
_add("persons", 1.0, "人", "person", "persons", "people", "人次")
_add("area", 1.0, "m²", "m2", "sqm", "平方米", "㎡")
_add("area", 1e4, "公顷", "ha", "hectare", "hectares")
_add("area", 1e6, "km²", "km2", "平方公里", "平方千米")
_add("length", 1.0, "米", "m", "metre", "meter")
_add("length", 1000.0, "公里", "km", "千米")
_add("duration", 1.0, "小时", "h", "hour", "hours", "hr", "时")
_add("duration", 1 / 60, "分钟", "min", "minute", "minutes")
_add("duration", 24.0, "天", "d", "day", "days", "日")
_add("working_days", 1.0, "工作日", "working day", "working days", "wd")
_add("index", 1.0, "分", "points", "point", "score", "index")
_add("concentration", 1.0, "μg/m³", "ug/m3", "µg/m³", "微克/立方米")
for _counter in ("个", "家", "项", "件", "座", "条", "所", "户", "套", "处", "次", "辆", "名",
                 "张", "间", "栋", "场"):
    _add("count", 1.0, _counter)
_add("count", 1.0, "count", "items", "number", "no.")

_PREFIX: dict[str, float] = {"十": 10.0, "百": 100.0, "千": 1e3, "万": 1e4, "亿": 1e8,
                             "十万": 1e5, "百万": 1e6, "千万": 1e7}
_EN_PREFIX = re.compile(r"^(10k|100k|1m|10m|100m)\s+(.+)$", re.I)
_EN_SCALE = {"10k": 1e4, "100k": 1e5, "1m": 1e6, "10m": 1e7, "100m": 1e8}


class UnitError(ValidationFailed):
    code = "bad_unit"
    message = "'{unit}' is not a known unit."


@dataclass(frozen=True)
class Unit:
    """A parsed unit: its text as written, dimension and scale to the dimension's base unit."""

    symbol: str
    dimension: str
    scale: float

    def __str__(self) -> str:
        return self.symbol


@lru_cache(maxsize=512)
def parse_unit(text: str) -> Unit:
    """Parse a unit such as ``亿元``, ``万人``, ``%``, ``km²``, ``10k CNY`` or ``小时``."""
    s = str(text).strip()
    key = s.lower()
    if key in _BASE:
        dim, scale, _canon = _BASE[key]
        return Unit(s, dim, scale)
    for prefix in sorted(_PREFIX, key=len, reverse=True):
        if s.startswith(prefix) and s[len(prefix):].strip().lower() in _BASE:
            dim, scale, _canon = _BASE[s[len(prefix):].strip().lower()]
            return Unit(s, dim, scale * _PREFIX[prefix])
    m = _EN_PREFIX.match(s)
    if m and m.group(2).strip().lower() in _BASE:
        dim, scale, _canon = _BASE[m.group(2).strip().lower()]
        return Unit(s, dim, scale * _EN_SCALE[m.group(1).lower()])
    if "/" in s:
        num, _sep, den = s.partition("/")
        a, b = parse_unit(num), parse_unit(den) if den.strip() else None
        if b is not None:
            return Unit(s, f"{a.dimension}/{b.dimension}", a.scale / b.scale)
    raise UnitError(unit=s)


def is_unit(text: str) -> bool:
    try:
        parse_unit(text)
    except UnitError:
        return False
    return True


def factor(
    source: str | Unit, target: str | Unit, fx_rates: dict[str, float] | None = None
) -> float:
    """The number to multiply a value in ``source`` by to express it in ``target``.

    ``fx_rates`` maps a currency dimension's code in upper case (``USD``) to yuan per unit; with
    it, US dollars convert to yuan and back. Raises :class:`UnitError` across dimensions.
    """
    src = source if isinstance(source, Unit) else parse_unit(source)
    dst = target if isinstance(target, Unit) else parse_unit(target)
    if src.dimension == dst.dimension:
        return src.scale / dst.scale
    rates = {k.lower(): v for k, v in (fx_rates or {}).items()}
    if src.dimension in rates and dst.dimension == "cny":
        return src.scale * rates[src.dimension] / dst.scale
    if dst.dimension in rates and src.dimension == "cny":
        return src.scale / (rates[dst.dimension] * dst.scale)
    raise UnitError(
        "Unit '{source}' cannot be converted to '{target}' (different dimensions).",
        code="unit_mismatch", source=src.symbol, target=dst.symbol,
    )


def convert(
    value: float, source: str | Unit, target: str | Unit,
    fx_rates: dict[str, float] | None = None,
) -> float:
    """``value`` in ``source`` expressed in ``target`` (e.g. 7566000 万元 → 756.6 亿元)."""
    return value * factor(source, target, fx_rates)


def same_dimension(a: str | Unit, b: str | Unit) -> bool:
    ua = a if isinstance(a, Unit) else parse_unit(a)
    ub = b if isinstance(b, Unit) else parse_unit(b)
    return ua.dimension == ub.dimension


def spellings(unit: str) -> list[str]:
    """Common ways of writing units of ``unit``'s dimension (for fast exact-match lookups;
    anything else is still parsed by :func:`parse_unit`)."""
    dim = parse_unit(unit).dimension
    if "/" in dim:
        return [unit]
    bases = {alias for alias, (d, _s, _c) in _BASE.items() if d == dim}
    bases |= {canon for _a, (d, _s, canon) in _BASE.items() if d == dim}
    out = set(bases)
    for base in bases:
        if not base.isascii() and dim != "ratio":
            out.update(prefix + base for prefix in _PREFIX)
    out.add(unit)
    return sorted(u for u in out if is_unit(u))
