"""The areas domain's actions: read the tree (scoped), create, update, import and export.

Every function takes ``(session, actor, …)`` and checks permissions first: ``areas.read`` for
reads (lists are filtered with ``scope_prefixes`` so a street commander only sees their own
street and what lies under it), ``areas.write`` for changes (district administrators). Writes
are recorded in the audit log in the caller's transaction; an import is all or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from citygrowth.areas import geo
from citygrowth.areas.codes import ancestor_codes, check_code, check_level
from citygrowth.areas.locator import get_locator
from citygrowth.areas.models import CODE_LENGTH, Area
from citygrowth.areas.schemas import AreaInput, AreaUpdate, ImportResult
from citygrowth.auth.actor import Actor, system_actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.db import utcnow
from citygrowth.errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from citygrowth.i18n import N_

READ = "areas.read"
WRITE = "areas.write"

MSG_NO_AREA = N_("There is no area with code {code}.")
MSG_EXISTS = N_("The area {code} already exists.")
MSG_OUT_OF_SCOPE = N_("You may not change area {code}.")
MSG_BAD_COORD = N_("{name} must be a number between {low} and {high}.")
MSG_BAD_DATUM = N_("Unknown datum {datum}; use gcj02 or wgs84.")


# --- reading ----------------------------------------------------------------------------------

def _scoped(query: Select[Area], actor: Actor) -> Select[Area]:
    prefixes = scope_prefixes(actor, READ)
    if prefixes is None:
        return query
    if not prefixes:
        return query.where(Area.code.is_(None))
    return query.where(or_(*[Area.code.startswith(p, autoescape=True) for p in prefixes]))


def get_area(session: Session, actor: Actor, code: str) -> Area:
    """The area ``code`` if the actor may read it; NotFound when unknown."""
    require(actor, READ)
    check_code(code)
    require(actor, READ, code)
    area = session.get(Area, code)
    if area is None:
        raise NotFound(MSG_NO_AREA, code=code)
    return area


def list_areas(session: Session, actor: Actor, level: str | None = None,
               parent: str | None = None) -> list[Area]:
    """Areas the actor may read, ordered by code.

    ``level`` keeps one level; ``parent`` keeps what lies under that area — its direct children
    when no level is given, else its descendants at ``level``.
    """
    require(actor, READ)
    check_level(level)
    query = select(Area).order_by(Area.code)
    if parent is not None:
        check_code(parent, "parent")
        query = query.where(Area.code.startswith(parent, autoescape=True), Area.code != parent)
        if level is None:
            query = query.where(Area.parent_code == parent)
    if level is not None:
        query = query.where(Area.level == level)
    return list(session.scalars(_scoped(query, actor)))


def children(session: Session, actor: Actor, code: str) -> list[Area]:
    """The direct children of ``code`` that the actor may read."""
    require(actor, READ)
    get_area(session, actor, code)
    query = select(Area).where(Area.parent_code == code).order_by(Area.code)
    return list(session.scalars(_scoped(query, actor)))


def descendants(session: Session, actor: Actor, code: str,
                level: str | None = None) -> list[Area]:
    """Every area under ``code`` (optionally only at ``level``) that the actor may read."""
    require(actor, READ)
    get_area(session, actor, code)
    if level is not None:
        return list_areas(session, actor, level=level, parent=code)
    return _all_under(session, actor, code)


def _all_under(session: Session, actor: Actor, code: str) -> list[Area]:
    query = select(Area).where(Area.code.startswith(code, autoescape=True), Area.code != code)
    return list(session.scalars(_scoped(query.order_by(Area.code), actor)))


def ancestors(session: Session, actor: Actor, code: str) -> list[Area]:
    """The areas enclosing ``code``, district first, limited to those the actor may read."""
    require(actor, READ)
    get_area(session, actor, code)
    codes = list(reversed(ancestor_codes(code)))
    if not codes:
        return []
    rows = {a.code: a for a in session.scalars(_scoped(select(Area).where(Area.code.in_(codes)),
                                                       actor))}
    return [rows[c] for c in codes if c in rows]


def locate(session: Session, actor: Actor, lon: float, lat: float,
           datum: str = "gcj02") -> str | None:
    """The code of the grid cell holding the point (lon, lat), or None outside the grid.

    ``datum`` is that of the point: ``gcj02`` (as the stored boundaries; AMap and most Chinese
    web maps) or ``wgs84`` (raw GPS), which is shifted into GCJ-02 first.
    """
    require(actor, READ)
    problems = []
    for name, value, low, high in (("lon", lon, -180, 180), ("lat", lat, -90, 90)):
        if not (isinstance(value, int | float) and low <= value <= high):
            problems.append(Problem(MSG_BAD_COORD, {"name": name, "low": low, "high": high},
                                    field=name, value=value))
    if datum not in ("gcj02", "wgs84"):
        problems.append(Problem(MSG_BAD_DATUM, {"datum": datum}, field="datum", value=datum))
    if problems:
        raise ValidationFailed(problems=problems)
    if datum == "wgs84":
        lon, lat = geo.wgs84_to_gcj02(float(lon), float(lat))
    return get_locator(session).locate(float(lon), float(lat))


def export_geojson(session: Session, actor: Actor, level: str | None = None,
                   parent: str | None = None, locale: str | None = None) -> dict[str, Any]:
    """A FeatureCollection of the areas the actor may read (filters as in :func:`list_areas`)."""
    require(actor, READ)
    return geo.feature_collection(list_areas(session, actor, level, parent), locale)


def public_geojson(session: Session, level: str | None = None, parent: str | None = None,
                   locale: str | None = None) -> dict[str, Any]:
    """Public: boundaries and names of areas are published information, readable by anyone.

    Answers what :func:`export_geojson` answers for the district administrator; used by the
    anonymous map on the home page.
    """
    return export_geojson(session, system_actor("public"), level, parent, locale)


# --- writing ----------------------------------------------------------------------------------

def _values(f: geo.ParsedFeature) -> dict[str, Any]:
    values: dict[str, Any] = {
        "level": f.level, "parent_code": f.parent_code, "name_zh": f.name_zh,
        "name_en": f.name_en, "population": f.population, "illustrative": f.illustrative,
        "source": f.source, "geometry": None, "area_km2": f.area_km2,
        "centroid_lon": None, "centroid_lat": None,
    }
    if f.geometry is not None:
        g = f.geometry
        point = g.centroid if g.contains(g.centroid) else g.representative_point()
        values["geometry"] = geo.geometry_json(g)
        values["centroid_lon"] = round(point.x, 6)
        values["centroid_lat"] = round(point.y, 6)
        if values["area_km2"] is None:
            values["area_km2"] = round(geo.area_km2(g), 4)
    return values


def _same(field: str, old: Any, new: Any) -> bool:
    """Equal, or — for geometry and centroids — equal to within the stored precision."""
    if old == new:
        return True
    if old is None or new is None:
        return False
    if field in ("centroid_lon", "centroid_lat", "area_km2"):
        return bool(abs(float(old) - float(new)) < 1e-6)
    if field == "geometry":
        tolerance = 10.0 ** -geo.COORD_PRECISION / 2
        return bool(geo.parse_geometry(old).equals_exact(geo.parse_geometry(new), tolerance))
    return False


def _apply(session: Session, f: geo.ParsedFeature, area: Area | None) -> str:
    values = _values(f)
    if area is None:
        session.add(Area(code=f.code, updated_at=utcnow(), **values))
        return "created"
    changed = {k: v for k, v in values.items() if not _same(k, getattr(area, k), v)}
    if not changed:
        return "unchanged"
    for k, v in changed.items():
        setattr(area, k, v)
    area.updated_at = utcnow()
    return "updated"


def _stored_context(session: Session, features: list[geo.ParsedFeature]) -> tuple[
        dict[str, Area], dict[str, BaseGeometry | None],
        dict[str, list[tuple[str, BaseGeometry | None]]]]:
    codes = {f.code for f in features}
    parents = {f.parent_code for f in features if f.parent_code} - codes
    wanted = codes | parents
    existing = {a.code: a for a in session.scalars(select(Area).where(Area.code.in_(wanted)))}
    stored = {c: (geo.parse_geometry(a.geometry) if a.geometry else None)
              for c, a in existing.items()}
    kids: dict[str, list[tuple[str, BaseGeometry | None]]] = {}
    with_geometry = [f.code for f in features if f.geometry is not None and f.code in existing]
    if with_geometry:
        query = select(Area).where(Area.parent_code.in_(with_geometry))
        for child in session.scalars(query):
            if child.code not in codes:
                geom = geo.parse_geometry(child.geometry) if child.geometry else None
                kids.setdefault(str(child.parent_code), []).append((child.code, geom))
    return existing, stored, kids


def apply_features(session: Session, actor: Actor, features: list[geo.ParsedFeature],
                   filename: str, action: str = "areas.import") -> ImportResult:
    """Validate parsed features against the store and write them (parents first).

    The shared core of :func:`import_geojson`, :func:`create_area`, :func:`update_area` and the
    demo loader. Raises before writing anything when any feature is wrong.
    """
    require(actor, WRITE)
    for f in features:
        if not can(actor, WRITE, f.code):
            raise Forbidden(MSG_OUT_OF_SCOPE, code=f.code)
    existing, stored, kids = _stored_context(session, features)
    geo.validate_features(features, stored, kids, filename)
    result = ImportResult(file=filename, created=[], updated=[], unchanged=[])
    for f in sorted(features, key=lambda f: (len(f.code), f.code)):
        outcome = _apply(session, f, existing.get(f.code))
        getattr(result, outcome).append(f.code)
        if outcome == "created":
            session.flush()
    session.flush()
    if result.created or result.updated:
        record(session, actor, action, filename, {
            "created": len(result.created), "updated": len(result.updated),
            "codes": (result.created + result.updated)[:50],
        })
    return result


def import_geojson(session: Session, actor: Actor, content: bytes | str | Mapping[str, Any],
                   filename: str = "upload.geojson") -> ImportResult:
    """Import a GeoJSON FeatureCollection: create new areas, update known ones.

    All or nothing: any bad feature raises :class:`ValidationFailed` listing every problem
    (file, feature index as row, field) and nothing is written.
    """
    require(actor, WRITE)
    features = geo.read_features(content, filename)
    return apply_features(session, actor, features, filename)


def _single(session: Session, actor: Actor, raw: dict[str, Any], action: str,
            target: str) -> Area:
    problems: list[Problem] = []
    feature = geo.parse_feature(raw, None, None, problems, geometry_required=False)
    if problems or feature is None:
        raise ValidationFailed(problems=problems)
    apply_features(session, actor, [feature], target, action)
    area = session.get(Area, feature.code)
    assert area is not None
    return area


def create_area(session: Session, actor: Actor, data: AreaInput) -> Area:
    """Create one area (its parent must exist and contain it)."""
    require(actor, WRITE)
    code = check_code(data.code)
    require(actor, WRITE, code)
    if session.get(Area, code) is not None:
        raise Conflict(MSG_EXISTS, code=code)
    props = data.model_dump(exclude={"geometry"})
    raw = {"type": "Feature", "geometry": data.geometry, "properties": props}
    return _single(session, actor, raw, "areas.create", code)


def update_area(session: Session, actor: Actor, code: str, changes: AreaUpdate) -> Area:
    """Change an area's names, geometry, population, size, flag or source."""
    require(actor, WRITE)
    check_code(code)
    require(actor, WRITE, code)
    area = session.get(Area, code)
    if area is None:
        raise NotFound(MSG_NO_AREA, code=code)
    given = changes.model_dump(exclude_unset=True)
    props = {
        "code": code, "name_zh": area.name_zh, "name_en": area.name_en,
        "population": area.population, "illustrative": area.illustrative,
        "source": area.source,
        # a new geometry gets a new computed size unless one is given
        "area_km2": None if "geometry" in given else area.area_km2,
    }
    props.update({k: v for k, v in given.items() if k != "geometry"})
    geometry = given["geometry"] if "geometry" in given else (
        json.loads(area.geometry) if area.geometry else None)
    raw = {"type": "Feature", "geometry": geometry, "properties": props}
    return _single(session, actor, raw, "areas.update", code)


def areas_by_code(session: Session, codes: Iterable[str]) -> dict[str, Area]:
    """Areas for a set of codes, unscoped (for services that already checked permissions)."""
    wanted = list(set(codes))
    if not wanted:
        return {}
    return {a.code: a for a in session.scalars(select(Area).where(Area.code.in_(wanted)))}


__all__ = [
    "CODE_LENGTH", "ancestors", "apply_features", "areas_by_code", "children", "create_area",
    "descendants", "export_geojson", "get_area", "import_geojson", "list_areas", "locate",
    "public_geojson", "update_area",
]
