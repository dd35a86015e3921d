"""GeoJSON import (all or nothing, precise problems) and export, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.areas import service
from citygrowth.areas.geo import area_km2, parse_geometry
from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor, Grant
from citygrowth.auth.models import AuditEntry
from citygrowth.errors import Forbidden, ValidationFailed
from tests.areas.helpers import collection, feature, square
from tests.factories import DISTRICT, STREET_A, make_areas

DATA = Path(__file__).parent.parent / "data" / "areas"


def _admin(session: Session) -> Actor:
    make_areas(session)
    return Actor(user_id=1, username="admin", grants=(Grant("district_admin", DISTRICT),))


def _snapshot(session: Session) -> tuple[int, int, list[tuple[str, str]]]:
    areas = session.scalar(select(func.count(Area.code)))
    audit = session.scalar(select(func.count(AuditEntry.id)))
    names = [(a.code, a.name_zh) for a in session.scalars(select(Area).order_by(Area.code))]
    return int(areas or 0), int(audit or 0), names


def test_good_file_creates_and_updates_areas(session: Session) -> None:
    actor = _admin(session)
    result = service.import_geojson(session, actor, (DATA / "good.geojson").read_bytes(),
                                    "good.geojson")
    assert result.created == ["370203003", "370203003001"]
    assert result.updated == ["370203001"]
    session.commit()
    street = session.get(Area, "370203003")
    assert street is not None
    assert (street.level, street.parent_code, street.name_en) == ("street", DISTRICT,
                                                                   "Street 3")
    assert street.population == 1200
    # area computed from the geometry: 0.02° × 0.02° at 36.07°N ≈ 2.223 km × 1.798 km
    assert street.area_km2 == pytest.approx(3.998, abs=0.01)
    renamed = session.get(Area, STREET_A)
    assert renamed is not None and renamed.name_zh == "街道一（新名）"
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and entry.action == "areas.import"
    assert entry.detail["created"] == 2 and entry.target == "good.geojson"


def test_reimporting_the_same_file_changes_nothing(session: Session) -> None:
    actor = _admin(session)
    content = (DATA / "good.geojson").read_bytes()
    service.import_geojson(session, actor, content, "good.geojson")
    before = _snapshot(session)
    result = service.import_geojson(session, actor, content, "good.geojson")
    assert result.created == [] and result.updated == []
    assert _snapshot(session) == before


BAD_CASES = [
    pytest.param(b"{not json", [(None, None, "not valid JSON")], id="invalid-json"),
    pytest.param(json.dumps({"type": "Feature"}), [(None, None, "FeatureCollection")],
                 id="not-a-collection"),
    pytest.param(
        collection(feature("370203003", {"type": "Polygon", "coordinates": [[
            [120.30, 36.07], [120.32, 36.09], [120.32, 36.07], [120.30, 36.09],
            [120.30, 36.07]]]})),
        [(0, "geometry", "Self-intersection")], id="self-intersecting"),
    pytest.param(collection(feature("37020300X", square(120.30, 36.07, 0.01))),
                 [(0, "code", "only digits")], id="bad-code"),
    pytest.param(collection(feature("370203009001", square(120.30, 36.07, 0.01))),
                 [(0, "code", "parent area 370203009")], id="missing-parent"),
    pytest.param(collection(feature("370203001009", square(120.36, 36.05, 0.01))),
                 [(0, "geometry", "100.0% outside its parent 370203001")],
                 id="child-outside-parent"),
    pytest.param(collection(
        feature("370203003", square(120.30, 36.09, 0.02)),
        feature("370203003", square(120.30, 36.09, 0.02))),
        [(1, "code", "more than once")], id="duplicate"),
    pytest.param(collection(feature("370203003", {"type": "Point", "coordinates": [1, 2]})),
                 [(0, "geometry", "Polygon or MultiPolygon")], id="point"),
    pytest.param(collection(feature("370203003", square(120.30, 36.09, 0.02), name_zh="",
                                    population=-5)),
                 [(0, "name_zh", "required"), (0, "population", "whole number")],
                 id="missing-name-negative-population"),
]


@pytest.mark.parametrize(("content", "expected"), BAD_CASES)
def test_bad_files_are_refused_with_precise_problems_and_change_nothing(
        session: Session, content: str | bytes, expected: list[tuple[int | None, str | None,
                                                                     str]]) -> None:
    actor = _admin(session)
    # a good feature first, so that "nothing written" is a real claim
    if isinstance(content, str) and content.startswith('{"type": "FeatureCollection"'):
        doc = json.loads(content)
        doc["features"].insert(0, feature("370203004", square(120.34, 36.09, 0.02)))
        content = json.dumps(doc)
        expected = [(row + 1 if row is not None else None, f, m) for row, f, m in expected]
    before = _snapshot(session)
    with pytest.raises(ValidationFailed) as info:
        service.import_geojson(session, actor, content, "bad.geojson")
    problems = [p.render("en") for p in info.value.problems]
    assert len(problems) == len(expected), problems
    for got, (row, field, text) in zip(problems, expected, strict=True):
        assert got["file"] == "bad.geojson"
        assert got.get("row") == row
        assert got.get("field") == field
        assert text in got["message"]
    assert _snapshot(session) == before
    assert info.value.to_dict("zh_CN")["errors"][0]["message"]  # translated, not empty


def test_a_new_boundary_may_not_leave_stored_children_outside(session: Session) -> None:
    actor = _admin(session)
    shrunk = collection(feature(STREET_A, square(120.30, 36.05, 0.02), name_zh="街道1"))
    with pytest.raises(ValidationFailed) as info:
        service.import_geojson(session, actor, shrunk, "shrink.geojson")
    messages = [p.render("en")["message"] for p in info.value.problems]
    assert messages == ["The stored child area 370203001002 would lie 100.0% outside this area."]


def test_only_district_admins_import(session: Session) -> None:
    make_areas(session)
    commander = Actor(user_id=2, username="cmd", grants=(Grant("street_commander", STREET_A),))
    with pytest.raises(Forbidden):
        service.import_geojson(session, commander, (DATA / "good.geojson").read_bytes())


def test_export_round_trip(session: Session) -> None:
    actor = _admin(session)
    exported = service.export_geojson(session, actor, level="community", parent=DISTRICT,
                                      locale="zh_CN")
    assert [f["properties"]["code"] for f in exported["features"]] == [
        "370203001001", "370203001002", "370203002001", "370203002002"]
    props = exported["features"][0]["properties"]
    assert props["name"] == "社区1-1" and props["level"] == "community"
    service.import_geojson(session, actor, json.dumps(exported), "export.geojson")
    again = service.export_geojson(session, actor, level="community", parent=DISTRICT)
    for a, b in zip(exported["features"], again["features"], strict=True):
        assert parse_geometry(a["geometry"]).equals_exact(parse_geometry(b["geometry"]), 1e-6)
        assert {k: a["properties"][k] for k in ("code", "name_zh", "name_en", "population")} \
            == {k: b["properties"][k] for k in ("code", "name_zh", "name_en", "population")}
    before = _snapshot(session)
    result = service.import_geojson(session, actor, json.dumps(again), "again.geojson")
    assert len(result.unchanged) == 4 and not result.created and not result.updated
    assert _snapshot(session) == before
    geom = parse_geometry(exported["features"][0]["geometry"])
    assert area_km2(geom) == pytest.approx(2 * 1.112 * 2 * 0.899, rel=0.01)
