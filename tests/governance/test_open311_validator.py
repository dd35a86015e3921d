"""Open311 as the SeeClickFix open311-validator checks it (its read-only rules, from its
``tests/discovery.rb``, ``services.rb`` and ``service_definition.rb``, written here as tests),
the API key in the ``X-API-Key`` header on every endpoint, the publication setting of the
public list, scoping of key holders' lists and updates, and the test endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import func, select

from citygrowth.app import create_app
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.governance.models import Case
from tests.factories import TEST_AUDIT
from tests.governance.conftest import POS_A, POS_B, Web, seed_store, upload
from tests.serve import serve_app

BASE = "/open311/v2"


def _get(c: TestClient, url: str, **kw: Any) -> Any:
    """GET a URL that discovery listed (absolute, on the test client's host)."""
    parts = urlsplit(url)
    return c.get(parts.path + (f"?{parts.query}" if parts.query else ""), **kw)


def _xml_items(el: etree._Element, path: str) -> list[etree._Element]:
    return el.findall(path)


def _time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)  # Ruby's Time.iso8601 accepts what this does
    assert parsed.tzinfo is not None
    return parsed


def test_the_validators_discovery_rules(web: Web) -> None:
    c = web.client
    xml_r, json_r = c.get(f"{BASE}/discovery.xml"), c.get(f"{BASE}/discovery.json")
    # discovery.xml should be mime type text/xml; discovery.json should be application/json
    assert xml_r.headers["content-type"] == "text/xml"
    assert json_r.headers["content-type"] == "application/json"
    # url should end with "discovery"; both formats should return results
    assert f"{BASE}/discovery"[-9:] == "discovery"
    assert xml_r.text.strip() and json_r.text.strip()
    x, j = etree.fromstring(xml_r.content), json_r.json()
    assert x.tag == "discovery"
    # both formats should have contacts and key_service information, the same in both
    assert x.findtext("contact").strip() and j["contact"].strip()
    assert x.findtext("key_service").strip() and j["key_service"].strip()
    assert x.findtext("contact") == j["contact"]
    # return valid DateTime objects
    assert _time(x.findtext("changeset")) and _time(j["changeset"])
    # xml endpoint should be an array (HTTParty makes one <endpoint> a hash: two or more)
    xml_endpoints = _xml_items(x, "endpoints/endpoint")
    assert len(xml_endpoints) >= 2 and len(j["endpoints"]) == len(xml_endpoints)
    now = dt.datetime.now(dt.UTC)
    for e in xml_endpoints:
        assert e.findtext("specification") and e.findtext("url") and e.findtext("type")
        assert _time(e.findtext("changeset")) < now  # valid, and in the past
        formats = [f.text for f in e.findall("formats/format")]
        assert len(formats) >= 2  # an array in the XML, too
        # all v2 endpoints should support xml
        if e.findtext("specification").lower().endswith("_v2"):
            assert "text/xml" in formats
    for e in j["endpoints"]:
        assert e["specification"] and e["url"] and e["type"] and _time(e["changeset"]) < now
        assert isinstance(e["formats"], list) and e["formats"]
    assert {e.findtext("type") for e in xml_endpoints} == {"production", "test"}


def test_the_validators_services_and_definition_rules(web: Web) -> None:
    c = web.client
    endpoints = c.get(f"{BASE}/discovery.json").json()["endpoints"]
    for e in endpoints:  # the validator walks the non-production ones (all with --production)
        for fmt in ("xml", "json"):
            r = _get(c, f"{e['url']}/services.{fmt}?jurisdiction_id=370203")
            assert r.status_code == 200 and r.headers["content-type"] == {
                "xml": "text/xml", "json": "application/json"}[fmt]
            if fmt == "json":
                listed = r.json()
                codes = [s["service_code"] for s in listed]
                metadata = [s["service_code"] for s in listed if s["metadata"]]
            else:
                doc = etree.fromstring(r.content)
                codes = [s.findtext("service_code") for s in doc.findall("service")]
                metadata = [s.findtext("service_code") for s in doc.findall("service")
                            if s.findtext("metadata") == "true"]
            # there should be at least one service; all should have a service code
            assert codes and all(codes)
            for code in metadata:  # the definitions of services with metadata answer
                d = _get(c, f"{e['url']}/services/{code}.{fmt}?jurisdiction_id=370203")
                assert d.status_code == 200, (e["url"], code, d.text)


def test_the_api_key_is_taken_from_the_header_on_every_endpoint(web: Web) -> None:
    c = web.client
    wrong = {"X-API-Key": "cg_nope_nope"}
    for path in ("discovery.json", "services.json", "services/E0101.json", "requests.json",
                 "requests/1.json", "tokens/abcdefgh.json", "servicerequestupdates.json"):
        r = c.get(f"{BASE}/{path}", headers=wrong)
        assert r.status_code == 403, path
        assert r.headers["content-type"] == "application/json"
        assert set(r.json()[0]) == {"code", "description"}
    # the header alone is enough where a key is needed (not in the access log's query string)
    form = {"service_code": "E0101", "lat": str(POS_A[1]), "long": str(POS_A[0]),
            "description": "路灯不亮"}
    r = c.post(f"{BASE}/requests.json", data=form, headers=web.h("machine"))
    assert r.status_code == 201, r.text
    upd = c.get(f"{BASE}/servicerequestupdates.xml", headers=web.h("machine"))
    assert upd.status_code == 200 and upd.headers["content-type"] == "text/xml"
    assert c.get(f"{BASE}/servicerequestupdates.json").status_code == 403
    bearer = {"Authorization": f"Bearer {web.keys['machine']}"}
    assert c.get(f"{BASE}/servicerequestupdates.json", headers=bearer).status_code == 200


def _report(web: Web, who: str, pos: tuple[float, float], text: str) -> str:
    r = web.client.post("/api/cases", headers=web.h(who),
                        json={"category_code": "E0101", "lat": pos[1], "lon": pos[0],
                              "description": text, "address": "测试路 1 号",
                              "photos": [upload(web, who)]})  # the platform's own photo
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_publication_and_scope_of_lists_and_updates(web: Web, settings: Any) -> None:
    a = _report(web, "worker_a", (120.3012, 36.0517), "门口垃圾没人清")
    b = _report(web, "worker_b", POS_B, "路边积水")
    c = web.client
    # the public list (no key), minimal by default: no text, address, photo or exact point
    public = {r["service_request_id"]: r for r in c.get(f"{BASE}/requests.json").json()}
    assert set(public) == {a, b}
    pa = public[a]
    assert pa["description"] == "" and pa["address"] == "" and pa["media_url"] is None
    assert (pa["long"], pa["lat"]) == (120.305, 36.055)  # the grid cell's centre
    assert pa["service_code"] == "E0101" and pa["status"] == "open"
    assert pa["requested_datetime"].endswith("+08:00")
    ext = c.get(f"{BASE}/requests/{a}.json?extensions=true").json()[0]
    assert ext["extended_attributes"]["photos"] == [] and ext["notes"]
    # a street's key reads its own street in full, and nothing of another street
    mine = c.get(f"{BASE}/requests.json", headers=web.h("cmd_a")).json()
    assert [r["service_request_id"] for r in mine] == [a]
    assert mine[0]["description"] == "门口垃圾没人清" and mine[0]["lat"] == 36.0517
    assert c.get(f"{BASE}/requests/{b}.json", headers=web.h("cmd_a")).status_code == 404
    # updates: a street's key sees its street's cases only
    for who, case in (("cmd_a", a), ("admin", b)):
        r = c.post(f"/api/cases/{case}/actions/register", headers=web.h(who), json={})
        assert r.status_code == 200, r.text
    upd = c.get(f"{BASE}/servicerequestupdates.json", headers=web.h("cmd_a")).json()
    assert [u["service_request_id"] for u in upd] == [a]
    every = c.get(f"{BASE}/servicerequestupdates.json", headers=web.h("admin")).json()
    assert sorted(u["service_request_id"] for u in every) == sorted([a, b])
    # a district that publishes in full
    full = settings.model_copy(update={"open311_publication": "full"})
    with TestClient(create_app(full)) as c2:
        shown = {r["service_request_id"]: r for r in c2.get(f"{BASE}/requests.json").json()}
        assert shown[b]["description"] == "路边积水" and shown[b]["address"] == "测试路 1 号"
        assert shown[b]["media_url"].endswith(".jpg")


def test_the_test_endpoint_checks_a_request_and_stores_nothing(web: Web) -> None:
    c = web.client
    test = "/open311/test/v2"
    form = {"api_key": web.keys["machine"], "service_code": "E0101", "lat": str(POS_A[1]),
            "long": str(POS_A[0]), "description": "测试", "account_id": "acc-1"}
    r = c.post(f"{test}/requests.xml", data=form)
    assert r.status_code == 201 and r.headers["content-type"] == "text/xml"
    doc = etree.fromstring(r.content)
    assert doc.findtext("request/service_request_id").startswith("test-")
    assert doc.findtext("request/account_id") == "acc-1"
    assert c.post(f"{test}/requests.json", data={**form, "service_code": "NOPE"}
                  ).status_code == 404
    assert c.post(f"{test}/requests.json", data={**form, "lat": "10", "long": "10"}
                  ).status_code == 400
    assert c.post(f"{test}/requests.json", data={**form, "api_key": "cg_x_y"}
                  ).status_code == 403
    with web.factory() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
    assert "/open311/test/v2/requests.{fmt}" not in c.get("/openapi.json").json()["paths"]


def test_the_georeport_client_reads_both_formats(settings: Any) -> None:
    """The ``georeport`` package (a GeoReport v2 client on PyPI) against a live server."""
    from georeport import GeoReport  # lazy: a test-only client library

    engine = make_engine(settings.resolved_database_url)
    keys = seed_store(make_sessionmaker(engine, TEST_AUDIT))
    engine.dispose()
    with serve_app(settings) as url:
        posted = httpx.post(f"{url}{BASE}/requests.json", headers={"X-API-Key": keys["machine"]},
                            data={"service_code": "E0101", "lat": str(POS_A[1]),
                                  "long": str(POS_A[0]), "description": "路边垃圾"})
        rid = posted.json()[0]["service_request_id"]
        for fmt in ("json", "xml"):
            client = GeoReport(url + BASE, jurisdiction="370203", output_format=fmt)
            services = client.get_service_list()
            assert {"E0101", "C0101"} <= {s["service_code"] for s in services}
            definition = client.get_service_definition("E0101")
            assert definition["service_code"] == "E0101"
            listed = client.get_service_requests(status="open")
            listed = listed if isinstance(listed, list) else [listed]  # one <request>: a dict
            assert rid in [r["service_request_id"] for r in listed]
            one = client.get_service_request(rid)
            assert one["service_code"] == "E0101" and one["status"] == "open"
