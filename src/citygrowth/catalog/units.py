"""Units of measure: parse ``亿元``, ``万人``, ``%``, ``km²``, ``岁`` … and convert within a
dimension.

A :class:`Unit` is a dimension (``cny``, ``ratio``, ``persons``, ``years``, ``count`` …, see
:data:`DIMENSIONS`) and a scale relative to the dimension's base unit, so ``亿元`` is
``cny × 1e8`` and ``%`` is ``ratio × 0.01``. Values convert between units of the same
dimension; anything else is a :class:`UnitError`. Chinese magnitude prefixes (万, 亿 …) work
on every unit (``万吨``, ``亿千瓦时``), and ``a/b`` is a compound (``元/人``, ``床/千人``).

Things counted are kept apart where adding them up would mislead: persons (人) are not
person-times (人次: visits, trips), households (户) are not items (个, 件 …), years of age
(岁) and years (年) are one dimension, hours and days another.

A framework may declare units of its own (``units:`` in its file, see
``docs/framework-format.md``): :func:`declare_units` checks them and returns a
:class:`UnitCatalog` — the built-in units plus the declared ones — that parses, converts and
spells them like the built-in ones (``catalog=`` of :func:`parse_unit`, :func:`factor` …).

Currencies are separate dimensions: 美元 never silently becomes 元. A framework that wants them
converted names exchange rates (``fx_rates: {USD: 7.10}``, yuan per unit of the currency) and
passes them as ``fx_rates`` to :func:`factor`; then ``usd`` converts to ``cny`` and back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from citygrowth.errors import Problem, ValidationFailed
from citygrowth.i18n import N_

DIMENSIONS: dict[str, str] = {
    "cny": "yuan",
    "usd": "US dollars",
    "ratio": "ratio",
    "persons": "persons",
    "person_times": "person-times (visits, trips)",
    "households": "households",
    "area": "area",
    "duration": "duration",
    "years": "years (and years of age)",
    "working_days": "working days",
    "count": "count",
    "index": "index points",
    "length": "length",
    "mass": "mass",
    "volume": "volume",
    "energy": "energy",
    "power": "power",
    "coal_equivalent": "standard coal equivalent",
    "concentration": "concentration",
    "sound_level": "sound level",
    "temperature": "temperature",
}

# base symbol (lower-cased aliases) → (dimension, scale, canonical symbol)
_BASE: dict[str, tuple[str, float, str]] = {}


def _add(dimension: str, scale: float, canonical: str, *aliases: str) -> None:
    for alias in (canonical, *aliases):
        _BASE[alias.lower()] = (dimension, scale, canonical)


_add("cny", 1.0, "元", "cny", "rmb", "yuan")
_add("usd", 1.0, "美元", "usd", "us$", "dollar", "dollars")
_add("ratio", 0.01, "%", "percent", "pct", "％", "百分点", "percentage points", "pp")
_add("ratio", 0.001, "‰", "permille", "per mille")
_add("ratio", 1.0, "ratio", "比值", "fraction", "倍", "times")
_add("persons", 1.0, "人", "person", "persons", "people", "名")
_add("person_times", 1.0, "人次", "person-times", "person-time", "visits", "trips")
_add("households", 1.0, "户", "household", "households")
_add("area", 1.0, "m²", "m2", "sqm", "平方米", "㎡")
_add("area", 2000 / 3, "亩", "mu")
_add("area", 1e4, "公顷", "ha", "hectare", "hectares")
_add("area", 1e6, "km²", "km2", "平方公里", "平方千米")
_add("length", 1.0, "米", "m", "metre", "meter", "metres", "meters")
_add("length", 0.01, "厘米", "cm")
_add("length", 1000.0, "公里", "km", "千米")
_add("duration", 1.0, "小时", "h", "hour", "hours", "hr", "时")
_add("duration", 1 / 60, "分钟", "min", "minute", "minutes")
_add("duration", 1 / 3600, "秒", "s", "sec", "second", "seconds")
_add("duration", 24.0, "天", "d", "day", "days", "日")
_add("duration", 168.0, "周", "week", "weeks", "星期")
_add("years", 1.0, "年", "year", "years", "yr")
_add("years", 1.0, "岁", "周岁", "years of age", "age")
_add("years", 1 / 12, "个月", "month", "months", "月")
_add("working_days", 1.0, "工作日", "working day", "working days", "wd")
_add("index", 1.0, "分", "points", "point", "score", "index", "指数", "点")
_add("mass", 1.0, "千克", "kg", "公斤")
_add("mass", 0.001, "克", "g", "gram", "grams")
_add("mass", 1000.0, "吨", "t", "tonne", "tonnes")
_add("volume", 1.0, "立方米", "m³", "m3")
_add("volume", 0.001, "升", "l", "litre", "liter", "litres")
_add("energy", 1.0, "千瓦时", "kwh", "度")
_add("energy", 1000.0, "兆瓦时", "mwh")
_add("power", 1.0, "千瓦", "kw")
_add("power", 1000.0, "兆瓦", "mw")
_add("coal_equivalent", 1.0, "吨标准煤", "tce", "吨标煤")
_add("concentration", 1.0, "μg/m³", "ug/m3", "µg/m³", "微克/立方米")
_add("concentration", 1000.0, "mg/m³", "mg/m3", "毫克/立方米")
_add("sound_level", 1.0, "分贝", "db", "db(a)")
_add("temperature", 1.0, "℃", "°c", "摄氏度")
COUNTERS = ("个", "家", "项", "件", "座", "条", "所", "套", "处", "次", "辆", "张", "间", "栋",
            "场", "床", "台", "株", "棵", "只", "头", "份", "篇", "本", "册", "部", "例", "起",
            "宗", "批", "艘", "架", "支", "门", "类", "种", "块", "片", "段", "盏", "根", "辆次")
for _counter in COUNTERS:
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


Entry = tuple[str, float, str]  # dimension, scale, canonical symbol


@dataclass(frozen=True)
class UnitCatalog:
    """The built-in units plus units a framework declares (``declared``: lower-cased
    spelling → (dimension, scale, canonical symbol)); :data:`BUILTIN` has none declared."""

    declared: tuple[tuple[str, Entry], ...] = ()
    dimensions: tuple[str, ...] = ()  # dimensions the declarations add

    def lookup(self, key: str) -> Entry | None:
        return dict(self.declared).get(key) or _BASE.get(key)

    def entries(self) -> dict[str, Entry]:
        return {**_BASE, **dict(self.declared)}

    def parse(self, text: str) -> Unit:
        return _parse(str(text), self)


BUILTIN = UnitCatalog()


@lru_cache(maxsize=1024)
def _parse(text: str, catalog: UnitCatalog) -> Unit:
    s = text.strip()
    if (found := catalog.lookup(s.lower())) is not None:
        return Unit(s, found[0], found[1])
    for prefix in sorted(_PREFIX, key=len, reverse=True):
        rest = s[len(prefix):].strip().lower()
        if s.startswith(prefix) and (found := catalog.lookup(rest)) is not None:
            return Unit(s, found[0], found[1] * _PREFIX[prefix])
    m = _EN_PREFIX.match(s)
    if m and (found := catalog.lookup(m.group(2).strip().lower())) is not None:
        return Unit(s, found[0], found[1] * _EN_SCALE[m.group(1).lower()])
    if "/" in s:
        num, _sep, den = s.partition("/")
        if num.strip() and den.strip():
            a, b = _parse(num, catalog), _parse(den, catalog)
            return Unit(s, f"{a.dimension}/{b.dimension}", a.scale / b.scale)
    raise UnitError(unit=s)


def parse_unit(text: str, catalog: UnitCatalog = BUILTIN) -> Unit:
    """Parse a unit such as ``亿元``, ``万人``, ``%``, ``km²``, ``10k CNY``, ``岁`` or ``小时``
    (``catalog``: a framework's units, built-in ones by default)."""
    return _parse(str(text), catalog)


def is_unit(text: str, catalog: UnitCatalog = BUILTIN) -> bool:
    try:
        parse_unit(text, catalog)
    except UnitError:
        return False
    return True


def _as_unit(unit: str | Unit, catalog: UnitCatalog) -> Unit:
    return unit if isinstance(unit, Unit) else parse_unit(unit, catalog)


def factor(
    source: str | Unit, target: str | Unit, fx_rates: dict[str, float] | None = None,
    catalog: UnitCatalog = BUILTIN,
) -> float:
    """The number to multiply a value in ``source`` by to express it in ``target``.

    ``fx_rates`` maps a currency dimension's code in upper case (``USD``) to yuan per unit; with
    it, US dollars convert to yuan and back. Raises :class:`UnitError` across dimensions.
    """
    src, dst = _as_unit(source, catalog), _as_unit(target, catalog)
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
    fx_rates: dict[str, float] | None = None, catalog: UnitCatalog = BUILTIN,
) -> float:
    """``value`` in ``source`` expressed in ``target`` (e.g. 7566000 万元 → 756.6 亿元)."""
    return value * factor(source, target, fx_rates, catalog)


def same_dimension(a: str | Unit, b: str | Unit, catalog: UnitCatalog = BUILTIN) -> bool:
    return _as_unit(a, catalog).dimension == _as_unit(b, catalog).dimension


def spellings(unit: str, catalog: UnitCatalog = BUILTIN) -> list[str]:
    """Common ways of writing units of ``unit``'s dimension (for fast exact-match lookups;
    anything else is still parsed by :func:`parse_unit`)."""
    dim = parse_unit(unit, catalog).dimension
    if "/" in dim:
        return [unit]
    entries = catalog.entries()
    bases = {alias for alias, (d, _s, _c) in entries.items() if d == dim}
    bases |= {canon for _a, (d, _s, canon) in entries.items() if d == dim}
    out = set(bases)
    for base in bases:
        if not base.isascii() and dim != "ratio":
            out.update(prefix + base for prefix in _PREFIX)
    out.add(unit)
    return sorted(u for u in out if is_unit(u, catalog))


# --- units a framework declares ---------------------------------------------------------

DECLARATION_KEYS = ("symbol", "dimension", "scale", "aliases", "name_zh", "name_en")
_DIMENSION_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _declaration_problems(i: int, raw: Any, file: str | None
                          ) -> tuple[list[Problem], tuple[str, str, float, list[str]] | None]:
    where = f"units[{i}]"
    if not isinstance(raw, Mapping):
        return [Problem(N_("A unit declaration must be a mapping with symbol and dimension."),
                        file=file, field=where)], None
    problems = [Problem(N_("Unknown key {key} in a unit declaration."), {"key": str(k)},
                        file=file, field=f"{where}.{k}") for k in raw
                if k not in DECLARATION_KEYS]
    symbol, dimension = raw.get("symbol"), raw.get("dimension")
    aliases = raw.get("aliases") or []
    if not isinstance(symbol, str) or not symbol.strip() or "/" in symbol:
        problems.append(Problem(N_("A unit needs a symbol (text without a slash)."),
                                file=file, field=f"{where}.symbol", value=symbol))
    if not isinstance(dimension, str) or not _DIMENSION_CODE.match(dimension):
        problems.append(Problem(N_("A unit needs a dimension: a known one ({known}) or a new "
                                   "code of lower-case letters, digits and _."),
                                {"known": ", ".join(DIMENSIONS)}, file=file,
                                field=f"{where}.dimension", value=dimension))
    scale = raw.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (
            math.isfinite(scale) and scale > 0):
        problems.append(Problem(N_("A unit's scale must be a number above zero."), file=file,
                                field=f"{where}.scale", value=scale))
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip()
                                                 for a in aliases):
        problems.append(Problem(N_("A unit's aliases must be a list of texts."), file=file,
                                field=f"{where}.aliases", value=aliases))
    if problems:
        return problems, None
    return [], (str(symbol).strip(), str(dimension), float(scale), [a.strip() for a in aliases])


def declare_units(raw: Any, file: str | None = None) -> tuple[UnitCatalog, list[Problem]]:
    """Check a framework's ``units:`` list (see ``docs/framework-format.md``); returns the
    catalog with the built-in units and the declared ones, and every problem found (each
    named by ``units[i].field``). A spelling that a built-in unit already has is refused
    unless it means the same thing, and so is a spelling declared twice."""
    if raw is None:
        return BUILTIN, []
    if not isinstance(raw, list):
        return BUILTIN, [Problem(N_("units must be a list of unit declarations."), file=file,
                                 field="units")]
    declared: dict[str, Entry] = {}
    problems: list[Problem] = []
    for i, item in enumerate(raw):
        found, ok = _declaration_problems(i, item, file)
        problems += found
        if ok is None:
            continue
        symbol, dimension, scale, aliases = ok
        for spelling in (symbol, *aliases):
            problem = _clash(spelling, dimension, scale, declared, i, file)
            if problem is not None:
                problems.append(problem)
                continue
            declared[spelling.lower()] = (dimension, scale, symbol)
    new = tuple(sorted({d for d, _s, _c in declared.values() if d not in DIMENSIONS}))
    return UnitCatalog(tuple(sorted(declared.items())), new), problems


def _clash(spelling: str, dimension: str, scale: float, declared: Mapping[str, Entry],
           i: int, file: str | None) -> Problem | None:
    key = spelling.lower()
    if key in declared:
        return Problem(N_("The unit {unit} is declared twice."), {"unit": spelling},
                       file=file, field=f"units[{i}].symbol")
    known = _BASE.get(key)
    if known is not None and (known[0] != dimension or not math.isclose(known[1], scale)):
        return Problem(N_("{unit} is already a built-in unit ({dimension} × {scale:g}); "
                          "choose another symbol."),
                       {"unit": spelling, "dimension": known[0], "scale": known[1]},
                       file=file, field=f"units[{i}].symbol")
    return None
