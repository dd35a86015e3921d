"""The JSON API, the public GeoJSON, the import upload and the pages."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from citygrowth.areas.charts import area_map_option
from citygrowth.auth.identity import new_api_key
from citygrowth.auth.models import RoleGrant, User
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, TEST_AUDIT, make_areas

DATA = Path(__file__).parent.parent / "data" / "areas"


@pytest.fixture
def keys(settings: Settings) -> Iterator[dict[str, str]]:
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        make_areas(s)
        # API-key users need no password (and hashing one costs a second per user)
        admin = User(username="admin", grants=[RoleGrant(role="district_admin",
                                                          area_code=DISTRICT)])
        cmd = User(username="cmd", grants=[RoleGrant(role="street_commander",
                                                      area_code=STREET_A)])
        s.add_all([admin, cmd])
        s.flush()
        out = {"admin": new_api_key(s, admin), "cmd": new_api_key(s, cmd)}
        s.commit()
    yield {k: v for k, v in out.items()}
    engine.dispose()


def _h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def test_list_is_scoped_to_the_caller(client: TestClient, keys: dict[str, str]) -> None:
    r = client.get("/api/areas", params={"level": "community"}, headers=_h(keys["cmd"]))
    assert r.status_code == 200
    assert [a["code"] for a in r.json()["items"]] == [f"{STREET_A}001", f"{STREET_A}002"]
    r = client.get("/api/areas", params={"parent": DISTRICT}, headers=_h(keys["admin"]))
    assert [a["code"] for a in r.json()["items"]] == [STREET_A, "370203002"]
    assert r.json()["items"][0]["name"] == "街道1"
    csv = client.get("/api/areas.csv", params={"level": "street"}, headers=_h(keys["admin"]))
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("\ufeff代码,层级,上级代码,中文名称,英文名称,人口")
    assert len(lines) == 3


def test_one_error_shape_for_bad_and_unknown_codes(client: TestClient,
                                                   keys: dict[str, str]) -> None:
    r = client.get("/api/areas/12ab?lang=en", headers=_h(keys["admin"]))
    assert r.status_code == 422
    body = r.json()
    assert set(body) == {"ok", "error", "code", "errors"} and body["ok"] is False
    assert body["code"] == "invalid"
    assert body["errors"] == [{"message": "An area code has only digits; got '12ab'.",
                               "field": "code", "value": "12ab"}]
    r = client.get("/api/areas/370203009?lang=zh_CN", headers=_h(keys["admin"]))
    assert r.status_code == 404
    assert r.json()["error"] == "没有代码为 370203009 的区域。"
    r = client.get("/api/areas/370203002", headers=_h(keys["cmd"]))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = client.get("/api/areas")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


def test_detail_children_and_locate(client: TestClient, keys: dict[str, str]) -> None:
    r = client.get(f"/api/areas/{STREET_A}001", headers=_h(keys["admin"]))
    assert r.json()["area"]["level"] == "community"
    assert [a["code"] for a in r.json()["ancestors"]] == [DISTRICT, STREET_A]
    r = client.get(f"/api/areas/{STREET_A}/children", headers=_h(keys["cmd"]))
    assert len(r.json()["items"]) == 2
    r = client.get("/api/areas/locate", params={"lon": 120.305, "lat": 36.055},
                   headers=_h(keys["cmd"]))
    assert r.json()["code"] == "370203001001001"
    assert r.json()["area"]["name"] == "网格1-1-1"
    r = client.get("/api/areas/locate", params={"lon": 10, "lat": 10}, headers=_h(keys["cmd"]))
    assert r.json()["code"] is None
    r = client.get("/api/areas/locate", params={"lon": 999, "lat": 10}, headers=_h(keys["cmd"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lon"


def test_public_geojson_in_both_languages(client: TestClient, keys: dict[str, str]) -> None:
    r = client.get("/api/areas.geojson", params={"level": "street", "parent": DISTRICT})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 2
    props = doc["features"][0]["properties"]
    assert {"code", "name_zh", "name_en", "name", "level", "population", "area_km2",
            "illustrative"} <= set(props)
    assert props["name"] == "街道1" and doc["features"][0]["geometry"]["type"] == "Polygon"
    en = client.get("/api/areas.geojson", params={"level": "street", "lang": "en"}).json()
    assert en["features"][0]["properties"]["name"] == "Street 1"
    bad = client.get("/api/areas.geojson", params={"level": "planet"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid"


def test_import_upload(client: TestClient, keys: dict[str, str]) -> None:
    good = (DATA / "good.geojson").read_bytes()
    r = client.post("/api/areas/import", headers=_h(keys["cmd"]),
                    files={"file": ("good.geojson", good, "application/geo+json")})
    assert r.status_code == 403
    bad = b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": ' \
          b'{"code": "370203009001", "name_zh": "x"}, "geometry": {"type": "Polygon", ' \
          b'"coordinates": [[[120.3, 36.05], [120.31, 36.05], [120.31, 36.06], [120.3, 36.05]]]}}]}'
    r = client.post("/api/areas/import?lang=en", headers=_h(keys["admin"]),
                    files={"file": ("bad.geojson", bad, "application/geo+json")})
    assert r.status_code == 422
    assert r.json()["errors"] == [{
        "message": "The parent area 370203009 neither exists nor is in the file.",
        "file": "bad.geojson", "row": 0, "field": "code", "value": "370203009001"}]
    r = client.post("/api/areas/import", headers=_h(keys["admin"]),
                    files={"file": ("good.geojson", good, "application/geo+json")})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == ["370203003", "370203003001"]
    listed = client.get("/api/areas", params={"level": "street"}, headers=_h(keys["admin"]))
    assert len(listed.json()["items"]) == 3


def test_pages(client: TestClient, keys: dict[str, str]) -> None:
    r = client.get("/areas", params={"level": "street"}, headers=_h(keys["admin"]))
    assert r.status_code == 200
    assert "街道1" in r.text and 'href="/api/areas.csv?level=street"' in r.text
    r = client.get(f"/areas/{STREET_A}", headers=_h(keys["cmd"]))
    assert r.status_code == 200
    assert 'src="/static/areas/detail.js"' in r.text and "data-map-name=" in r.text
    assert "社区1-1" in r.text and "示意" in r.text
    r = client.get("/areas/370203002", headers={**_h(keys["cmd"]), "accept": "text/html"})
    assert r.status_code == 403 and "text/html" in r.headers["content-type"]


def test_map_option_is_a_plain_dict() -> None:
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
            [120.0, 36.0], [120.1, 36.0], [120.1, 36.2], [120.0, 36.0]]]},
         "properties": {"code": "1", "name": "甲", "population": 10}},
        {"type": "Feature", "geometry": None, "properties": {"code": "2", "name": "乙",
                                                              "population": 30}}]}
    option = area_map_option(fc, "m", highlight="2")
    series = option["series"][0]
    assert series["type"] == "map" and series["map"] == "m"
    assert series["data"][1] == {"name": "乙", "value": 30, "code": "2", "selected": True}
    assert (option["visualMap"]["min"], option["visualMap"]["max"]) == (10, 30)
    assert series["aspectScale"] == pytest.approx(math.cos(math.radians(36.1)), abs=1e-4)
    assert series["label"]["show"] is True
