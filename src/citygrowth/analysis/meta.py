"""What the analysis needs to know about indicators and areas, read from whatever the catalog
and the area tree hand over (ORM objects, dataclasses or plain dicts).

An indicator's *bounds* come from its metadata when it states them (``lower``/``upper``,
``min``/``max`` or ``bounded``); otherwise from its unit: counts, persons, areas, lengths,
durations and money cannot be negative; a percentage is bounded to 0–100 only when its own
history never left that range (so growth rates in % are not bounded).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shapely import STRtree
from shapely.geometry import shape

from citygrowth.areas.models import level_of, parent_code
from citygrowth.catalog.units import parse_unit
from citygrowth.i18n import bilingual

NON_NEGATIVE_DIMENSIONS = frozenset(
    {"cny", "usd", "persons", "area", "duration", "working_days", "count", "length",
     "concentration", "person_times", "households", "years", "mass", "volume", "energy",
     "power", "coal_equivalent"}
)


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, Mapping):
            if name in obj and obj[name] is not None:
                return obj[name]
        elif getattr(obj, name, None) is not None:
            return getattr(obj, name)
    return default


@dataclass(frozen=True)
class IndicatorInfo:
    code: str
    name_zh: str = ""
    name_en: str = ""
    unit: str = ""
    dimension: str = ""
    lower: float | None = None
    upper: float | None = None
    percent: bool = False
    direction: int = 1

    def name(self, locale: str | None = None) -> str:
        return bilingual(self.name_zh, self.name_en, locale) or self.code


def _unit_dimension(unit: str) -> tuple[str, bool]:
    if not unit:
        return "", False
    try:
        u = parse_unit(unit)
    except Exception:  # noqa: BLE001 - an unknown unit just gives no unit-based bound
        return "", unit.strip() in ("%", "％")
    return u.dimension, u.dimension == "ratio" and abs(u.scale - 0.01) < 1e-12


def _direction(value: Any) -> int:
    text = str(value or "").lower()
    return -1 if text in ("-1", "negative", "down", "lower", "minimise", "minimize", "-") else 1


def indicator_info(obj: Any, code: str = "") -> IndicatorInfo:
    code = str(_get(obj, "code", "indicator", default=code))
    unit_obj = _get(obj, "unit", "unit_symbol", default="")
    unit = str(_get(unit_obj, "symbol", default=unit_obj) or "")
    dimension, percent = _unit_dimension(unit)
    lower = _get(obj, "lower", "min", "minimum")
    upper = _get(obj, "upper", "max", "maximum")
    bounded = _get(obj, "bounded")
    if bounded and percent:
        lower = 0.0 if lower is None else lower
        upper = 100.0 if upper is None else upper
    if lower is None and dimension in NON_NEGATIVE_DIMENSIONS:
        lower = 0.0
    return IndicatorInfo(
        code=code, name_zh=str(_get(obj, "name_zh", default="") or ""),
        name_en=str(_get(obj, "name_en", default="") or ""), unit=unit, dimension=dimension,
        lower=None if lower is None else float(lower),
        upper=None if upper is None else float(upper), percent=percent,
        direction=_direction(_get(obj, "direction", "polarity", default=1)),
    )


def catalog_infos(catalog: Any) -> dict[str, IndicatorInfo]:
    """code → IndicatorInfo from a framework object, a mapping or an iterable of indicators."""
    if catalog is None:
        return {}
    items: Any = catalog
    for attr in ("indicators", "all_indicators"):
        value = getattr(catalog, attr, None)
        if value is not None:
            items = value() if callable(value) else value
            break
    if isinstance(items, Mapping):
        return {str(code): indicator_info(obj, str(code)) for code, obj in items.items()}
    return {i.code: i for i in (indicator_info(o) for o in items) if i.code}


@dataclass(frozen=True)
class AreaInfo:
    code: str
    parent_code: str | None
    level: str
    geometry: Any = None
    name_zh: str = ""
    name_en: str = ""

    def name(self, locale: str | None = None) -> str:
        return bilingual(self.name_zh, self.name_en, locale) or self.code


def area_infos(areas: Iterable[Any] | None) -> dict[str, AreaInfo]:
    out: dict[str, AreaInfo] = {}
    for a in areas or ():
        code = str(_get(a, "code", "area_code", default=""))
        if not code:
            continue
        geom = _get(a, "geometry")
        if isinstance(geom, str):
            try:
                geom = json.loads(geom)
            except ValueError:
                geom = None
        out[code] = AreaInfo(
            code=code, parent_code=_get(a, "parent_code", default=parent_code(code)),
            level=str(_get(a, "level", default=level_of(code) or "")), geometry=geom,
            name_zh=str(_get(a, "name_zh", default="") or ""),
            name_en=str(_get(a, "name_en", default="") or ""),
        )
    return out


def neighbours(areas: Mapping[str, AreaInfo]) -> dict[str, set[str]]:
    """Areas of the same level sharing a boundary (shapely: intersecting along a line or more).

    Areas without geometry get no geometric neighbours (siblings are used instead).
    """
    out: dict[str, set[str]] = {c: set() for c in areas}
    by_level: dict[str, list[tuple[str, Any]]] = {}
    for code, a in areas.items():
        if a.geometry:
            try:
                geom = shape(a.geometry)
            except (ValueError, TypeError, AttributeError, KeyError):
                continue
            by_level.setdefault(a.level, []).append((code, geom))
    for items in by_level.values():
        geoms = [g for _c, g in items]
        tree = STRtree(geoms)
        for i, (code, geom) in enumerate(items):
            for j in tree.query(geom, predicate="intersects"):
                if j == i:
                    continue
                shared = geom.intersection(geoms[j])
                if shared.length > 0 or shared.area > 0:
                    out[code].add(items[j][0])
    return out
