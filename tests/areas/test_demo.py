"""The demo district: real boundary and sub-districts, generated children inside their
parents, populations that add up, everything generated flagged illustrative, idempotent."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.areas import demo
from citygrowth.areas.geo import lies_within, parse_geometry
from citygrowth.areas.models import Area
from citygrowth.auth.actor import system_actor
from citygrowth.auth.models import AuditEntry, Department


def _state(session: Session) -> list[tuple[object, ...]]:
    rows = session.scalars(select(Area).order_by(Area.code))
    return [(a.code, a.name_zh, a.geometry, a.population, a.area_km2, a.updated_at)
            for a in rows]


def test_demo_loads_once_and_then_changes_nothing(session: Session) -> None:
    actor = system_actor("demo")
    first = demo.load_demo(session, actor)
    session.commit()
    assert first.changed and first.departments_created == 20
    assert not first.areas.updated
    before = _state(session)
    audit = session.scalar(select(func.count(AuditEntry.id)))
    second = demo.load_demo(session, actor)
    session.commit()
    assert not second.changed
    assert len(second.areas.unchanged) == len(before)
    assert _state(session) == before
    assert session.scalar(select(func.count(AuditEntry.id))) == audit
    depts = {d.code: d.name_zh for d in session.scalars(select(Department))}
    assert depts["stats"] == "统计局" and depts["urban"] == "城市管理局"
    assert set(depts) >= {"ndrc", "housing", "education", "health", "civil", "science",
                          "industry", "invest", "market", "finance", "bigdata", "hrss",
                          "culture", "commerce", "ecology"}


@pytest.fixture(scope="module")
def features() -> dict[str, dict[str, object]]:
    import json

    doc = json.loads(demo.demo_feature_collection())
    return {f["properties"]["code"]: {**f["properties"], "geometry": f["geometry"]}
            for f in doc["features"]}


def test_the_real_district_and_its_22_sub_districts(features: dict[str, dict[str, object]]
                                                    ) -> None:
    district = features["370203"]
    assert (district["name_zh"], district["population"]) == ("市北区", 1_096_879)
    assert district["illustrative"] is False
    streets = {c: f["name_zh"] for c, f in features.items() if len(c) == 9}
    assert len(streets) == 22
    assert streets["370203011"] == "登州路街道" and streets["370203005"] == "辽宁路街道"
    assert streets["370203035"] == "双山街道"
    assert features["370203011001"]["name_zh"] == "丰盛路社区"
    real = parse_geometry(demo.BOUNDARY_FILE.read_text(encoding="utf-8"))
    assert parse_geometry(district["geometry"]).equals_exact(real, 1e-6)


def test_generated_children_tile_their_parents(features: dict[str, dict[str, object]]) -> None:
    levels = Counter(len(c) for c in features)
    assert levels[12] >= 22 * 4 and levels[15] >= levels[12] * 3
    assert 200 <= levels[15] <= 600
    geoms = {c: parse_geometry(f["geometry"]) for c, f in features.items()}
    kids: dict[str, list[str]] = defaultdict(list)
    for code in features:
        if len(code) > 6:
            kids[code[:-3]].append(code)
    for parent, codes in kids.items():
        low, high = {6: (22, 22), 9: (4, 8), 12: (3, 6)}[len(parent)]
        assert low <= len(codes) <= high
        for c in codes:
            assert lies_within(geoms[c], geoms[parent]), c
            assert features[c]["illustrative"] is True
            assert "illustrative" in str(features[c]["source"])
        union = shapely.union_all([geoms[c] for c in codes])
        assert union.symmetric_difference(geoms[parent]).area / geoms[parent].area < 1e-3
        assert sum(int(features[c]["population"]) for c in codes) == features[parent][
            "population"]


def test_generation_is_deterministic(features: dict[str, dict[str, object]]) -> None:
    demo.demo_feature_collection.cache_clear()
    import json

    again = json.loads(demo.demo_feature_collection())
    assert [f["properties"]["code"] for f in again["features"]] == list(features)
    assert again["features"][100]["geometry"] == features[
        again["features"][100]["properties"]["code"]]["geometry"]
