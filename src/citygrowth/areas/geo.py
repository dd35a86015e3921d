"""Geometry of areas: GeoJSON in and out, validation, sizes in km².

Import reads a GeoJSON ``FeatureCollection`` whose features carry the properties ``code``,
``name_zh``, ``name_en`` and optionally ``level``, ``population``, ``area_km2``,
``illustrative`` and ``source``; geometries are ``Polygon`` or ``MultiPolygon`` in lon/lat.
:func:`read_features` parses the file and :func:`validate_features` checks every feature
against the others and the areas already stored. Both collect *every* problem (file, feature
index as ``row``, field, message) before raising one :class:`ValidationFailed`, so a bad file
is reported in full and nothing is written.

Sizes are computed with a local equal-area approximation: lon/lat are projected to kilometres
with an equirectangular projection centred on the geometry's own latitude (x = R·λ·cos φ₀,
y = R·φ), which at district scale (≈ 10 km) errs by far less than 0.1 %.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from citygrowth.areas.codes import code_problem, level_problem
from citygrowth.areas.models import Area, level_of, parent_code
from citygrowth.errors import Problem, ValidationFailed
from citygrowth.i18n import N_, bilingual

EARTH_RADIUS_KM = 6371.0088
COORD_PRECISION = 6  # decimals kept in stored GeoJSON (≈ 0.1 m)
# A child may stick out of its parent by this share of its own area (rounding of shared edges).
OUTSIDE_TOLERANCE = 1e-3

MSG_BAD_JSON = N_("The file is not valid JSON: {detail}")
MSG_NOT_COLLECTION = N_("The file must hold a GeoJSON FeatureCollection.")
MSG_EMPTY = N_("The FeatureCollection has no features.")
MSG_NOT_FEATURE = N_("Each element of features must be a GeoJSON Feature.")
MSG_MISSING = N_("The property {name} is required.")
MSG_NO_GEOMETRY = N_("The feature has no geometry.")
MSG_GEOM_TYPE = N_("The geometry must be a Polygon or MultiPolygon, not {kind}.")
MSG_GEOM_UNREADABLE = N_("The geometry cannot be read: {detail}")
MSG_GEOM_INVALID = N_("The geometry is not valid: {detail}")
MSG_GEOM_RANGE = N_("Coordinates must be longitude/latitude in degrees.")
MSG_NOT_INTEGER = N_("{name} must be a whole number of at least 0.")
MSG_NOT_NUMBER = N_("{name} must be a number of at least 0.")
MSG_NOT_BOOL = N_("{name} must be true or false.")
MSG_TOO_LONG = N_("{name} may have at most {limit} characters.")
MSG_DUPLICATE = N_("The code {code} appears more than once in the file (first at row {first}).")
MSG_NO_PARENT = N_("The parent area {parent} neither exists nor is in the file.")
MSG_OUTSIDE = N_("The area lies {share}% outside its parent {parent}.")
MSG_CHILD_OUTSIDE = N_("The stored child area {child} would lie {share}% outside this area.")

NAME_LIMITS = {"name_zh": 120, "name_en": 160, "source": 300}


@dataclass
class ParsedFeature:
    """One feature of an import file, checked for its own errors."""

    row: int | None
    code: str
    name_zh: str
    name_en: str
    geometry: BaseGeometry | None
    population: int | None = None
    area_km2: float | None = None
    illustrative: bool = False
    source: str = ""

    @property
    def level(self) -> str:
        return level_of(self.code) or ""

    @property
    def parent_code(self) -> str | None:
        return parent_code(self.code)


# --- geometry helpers -------------------------------------------------------------------------

def parse_geometry(obj: Any) -> BaseGeometry:
    """A shapely geometry from a GeoJSON geometry object (dict) or its JSON text."""
    if isinstance(obj, str):
        obj = json.loads(obj)
    return shape(obj)


def geometry_json(geom: BaseGeometry, precision: int = COORD_PRECISION) -> str:
    """Compact GeoJSON text of ``geom`` with coordinates rounded to ``precision`` decimals."""
    rounded = shapely.transform(geom, lambda xy: xy.round(precision))
    return json.dumps(mapping(rounded), separators=(",", ":"))


def _equal_area(geom: BaseGeometry, lat0: float) -> BaseGeometry:
    k = math.pi / 180 * EARTH_RADIUS_KM
    cos0 = math.cos(math.radians(lat0))

    def project(xy: Any) -> Any:
        out = xy.copy()
        out[:, 0] = xy[:, 0] * k * cos0
        out[:, 1] = xy[:, 1] * k
        return out

    return shapely.transform(geom, project)


def area_km2(geom: BaseGeometry) -> float:
    """Area of a lon/lat geometry in km² (local equirectangular projection, see module doc)."""
    if geom.is_empty:
        return 0.0
    lat0 = geom.centroid.y
    return float(_equal_area(geom, lat0).area)


def outside_share(child: BaseGeometry, parent: BaseGeometry) -> float:
    """Share (0–1) of ``child``'s area that lies outside ``parent``."""
    if child.is_empty or child.area == 0:
        return 0.0
    if parent.covers(child):
        return 0.0
    return float(child.difference(parent).area / child.area)


def lies_within(child: BaseGeometry, parent: BaseGeometry,
                tolerance: float = OUTSIDE_TOLERANCE) -> bool:
    """True when ``child`` lies inside ``parent`` up to ``tolerance`` of its own area."""
    return outside_share(child, parent) <= tolerance


# --- reading ----------------------------------------------------------------------------------

def load_collection(content: bytes | str | Mapping[str, Any], filename: str) -> list[Any]:
    """The ``features`` list of a FeatureCollection, or a ValidationFailed naming the file."""
    data: Any = content
    if isinstance(content, bytes | str):
        try:
            data = json.loads(content)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ValidationFailed(problems=[Problem(MSG_BAD_JSON, {"detail": str(exc)},
                                                     file=filename)]) from None
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection" \
            or not isinstance(data.get("features"), list):
        raise ValidationFailed(problems=[Problem(MSG_NOT_COLLECTION, file=filename)])
    if not data["features"]:
        raise ValidationFailed(problems=[Problem(MSG_EMPTY, file=filename)])
    return list(data["features"])


def _text(props: Mapping[str, Any], name: str, required: bool, where: dict[str, Any],
          problems: list[Problem]) -> str:
    value = props.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(Problem(MSG_MISSING, {"name": name}, field=name, **where))
        return ""
    text = str(value).strip()
    limit = NAME_LIMITS.get(name)
    if limit and len(text) > limit:
        problems.append(Problem(MSG_TOO_LONG, {"name": name, "limit": limit}, field=name,
                                value=text[:40], **where))
    return text


def _number(props: Mapping[str, Any], name: str, integer: bool, where: dict[str, Any],
            problems: list[Problem]) -> Any:
    value = props.get(name)
    if value is None or value == "":
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value) and value >= 0
    if integer and ok and float(value) != int(value):
        ok = False
    if integer and ok and value > 2**31 - 1:
        ok = False
    if not ok:
        msg = MSG_NOT_INTEGER if integer else MSG_NOT_NUMBER
        problems.append(Problem(msg, {"name": name}, field=name, value=value, **where))
        return None
    return int(value) if integer else float(value)


def _geometry(raw: Any, where: dict[str, Any], problems: list[Problem]) -> BaseGeometry | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem(MSG_NO_GEOMETRY, field="geometry", **where))
        return None
    kind = raw.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        problems.append(Problem(MSG_GEOM_TYPE, {"kind": str(kind)}, field="geometry", **where))
        return None
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises many kinds for malformed coordinates
        problems.append(Problem(MSG_GEOM_UNREADABLE, {"detail": str(exc)[:200]},
                                field="geometry", **where))
        return None
    if geom.is_empty:
        problems.append(Problem(MSG_NO_GEOMETRY, field="geometry", **where))
        return None
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        problems.append(Problem(MSG_GEOM_RANGE, field="geometry", **where))
        return None
    if not geom.is_valid:
        problems.append(Problem(MSG_GEOM_INVALID, {"detail": explain_validity(geom)},
                                field="geometry", **where))
        return None
    return geom


def _flag(props: Mapping[str, Any], where: dict[str, Any], problems: list[Problem]) -> bool:
    value = props.get("illustrative", False)
    if value is None:
        return False
    if not isinstance(value, bool):
        problems.append(Problem(MSG_NOT_BOOL, {"name": "illustrative"}, field="illustrative",
                                value=value, **where))
        return False
    return value


def parse_feature(raw: Any, row: int | None, filename: str | None, problems: list[Problem],
                  geometry_required: bool = True) -> ParsedFeature | None:
    """Check one feature on its own; append its problems; None when unusable."""
    where: dict[str, Any] = {"file": filename, "row": row}
    if not isinstance(raw, Mapping) or raw.get("type") != "Feature":
        problems.append(Problem(MSG_NOT_FEATURE, **where))
        return None
    props = raw.get("properties") or {}
    if not isinstance(props, Mapping):
        props = {}
    before = len(problems)
    code = props.get("code")
    if code is None or code == "":
        problems.append(Problem(MSG_MISSING, {"name": "code"}, field="code", **where))
    elif (p := code_problem(code)) is not None:
        problems.append(Problem(p.message, p.params, field="code", value=p.value, **where))
    else:
        code = str(code)
        if (p := level_problem(code, props.get("level"))) is not None:
            problems.append(Problem(p.message, p.params, field="level", value=p.value, **where))
    feature = ParsedFeature(
        row=row,
        code=str(code or ""),
        name_zh=_text(props, "name_zh", True, where, problems),
        name_en=_text(props, "name_en", False, where, problems),
        geometry=None,
        population=_number(props, "population", True, where, problems),
        area_km2=_number(props, "area_km2", False, where, problems),
        illustrative=_flag(props, where, problems),
        source=_text(props, "source", False, where, problems),
    )
    raw_geom = raw.get("geometry")
    geom = None
    if raw_geom is not None or geometry_required:
        geom = _geometry(raw_geom, where, problems)
    if len(problems) > before or (geom is None and geometry_required):
        return None
    feature.geometry = geom
    return feature


def read_features(content: bytes | str | Mapping[str, Any],
                  filename: str = "upload.geojson") -> list[ParsedFeature]:
    """Parse and check every feature of a FeatureCollection; raise with all problems found."""
    raws = load_collection(content, filename)
    problems: list[Problem] = []
    parsed = [parse_feature(raw, i, filename, problems) for i, raw in enumerate(raws)]
    if problems:
        raise ValidationFailed(problems=problems)
    return [p for p in parsed if p is not None]


def validate_features(
    features: list[ParsedFeature],
    stored: Mapping[str, BaseGeometry | None],
    stored_children: Mapping[str, list[tuple[str, BaseGeometry | None]]] | None = None,
    filename: str = "upload.geojson",
) -> None:
    """Check the features against each other and the stored areas; raise with every problem.

    ``stored`` maps the codes of areas already in the store to their geometry (None when
    unknown); ``stored_children`` maps a code to its stored children that the file does not
    replace, so that a new boundary cannot leave a stored child outside.
    """
    problems: list[Problem] = []
    first_row: dict[str, int | None] = {}
    for f in features:
        if f.code in first_row:
            problems.append(Problem(MSG_DUPLICATE, {"code": f.code, "first": first_row[f.code]},
                                    file=filename, row=f.row, field="code", value=f.code))
        else:
            first_row[f.code] = f.row
    in_file = {f.code: f for f in features}
    for f in features:
        where: dict[str, Any] = {"file": filename, "row": f.row}
        parent = f.parent_code
        if parent is None:
            continue
        if parent in in_file:
            parent_geom: BaseGeometry | None = in_file[parent].geometry
        elif parent in stored:
            parent_geom = stored[parent]
        else:
            problems.append(Problem(MSG_NO_PARENT, {"parent": parent}, field="code",
                                    value=f.code, **where))
            continue
        if f.geometry is None or parent_geom is None:
            continue
        if not lies_within(f.geometry, parent_geom):
            share = round(outside_share(f.geometry, parent_geom) * 100, 2)
            problems.append(Problem(MSG_OUTSIDE, {"share": share, "parent": parent},
                                    field="geometry", **where))
    for f in features:
        for child, geom in (stored_children or {}).get(f.code, []):
            if child in in_file or geom is None or f.geometry is None \
                    or lies_within(geom, f.geometry):
                continue
            share = round(outside_share(geom, f.geometry) * 100, 2)
            problems.append(Problem(MSG_CHILD_OUTSIDE, {"child": child, "share": share},
                                    file=filename, row=f.row, field="geometry"))
    if problems:
        raise ValidationFailed(problems=problems)


# --- writing ----------------------------------------------------------------------------------

def area_properties(area: Area, locale: str | None = None) -> dict[str, Any]:
    """The properties every exported or served feature carries."""
    return {
        "code": area.code,
        "name_zh": area.name_zh,
        "name_en": area.name_en,
        "name": bilingual(area.name_zh, area.name_en, locale),
        "level": area.level,
        "parent_code": area.parent_code,
        "population": area.population,
        "area_km2": area.area_km2,
        "illustrative": bool(area.illustrative),
        "source": area.source,
    }


def feature_collection(areas: Iterable[Area], locale: str | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``areas`` (re-importable with :func:`read_features`)."""
    features = []
    for area in areas:
        features.append({
            "type": "Feature",
            "id": area.code,
            "geometry": json.loads(area.geometry) if area.geometry else None,
            "properties": area_properties(area, locale),
        })
    return {"type": "FeatureCollection", "features": features}


# --- datums -----------------------------------------------------------------------------------

_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def _in_china(lon: float, lat: float) -> bool:
    return 72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271


def _gcj_dlat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _gcj_dlon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Shift a WGS-84 point (GPS) into GCJ-02, the datum of AMap and of the demo boundary.

    The published GCJ-02 obfuscation formula; points outside China are returned unchanged.
    Accurate to about a metre, which is plenty for finding a grid cell.
    """
    if not _in_china(lon, lat):
        return lon, lat
    dlat = _gcj_dlat(lon - 105.0, lat - 35.0)
    dlon = _gcj_dlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _GCJ_EE * math.sin(radlat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat
