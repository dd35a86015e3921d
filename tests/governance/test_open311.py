"""Open311 GeoReport v2 round trips in JSON and XML, with the spec's error format."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from tests.governance.conftest import POS_A, Web, upload

DATA = Path(__file__).parent.parent / "data" / "governance"
BASE = "/open311/v2"


def _structure(el: etree._Element) -> list[str]:
    return [el.tag, *[t for child in el for t in _structure(child)]]


def _form(web: Web, **extra: str) -> dict[str, str]:
    form = {"api_key": web.keys["machine"], "jurisdiction_id": "370203", "service_code": "E0101",
            "lat": str(POS_A[1]), "long": str(POS_A[0]), "address_string": "测试路 1 号",
            "email": "reporter@example.org", "device_id": "dev-1", "account_id": "acc-9",
            "description": "路边垃圾未清运",
            "attribute[description]": "两袋", "attribute[fixmystreet_id]": "42"}
    form.update(extra)
    return form


def test_discovery_and_services(web: Web) -> None:
    c = web.client
    d = c.get(f"{BASE}/discovery.json").json()
    assert d["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert etree.fromstring(c.get(f"{BASE}/discovery.xml").content).tag == "discovery"
    services = c.get(f"{BASE}/services.json?jurisdiction_id=370203").json()
    codes = {s["service_code"] for s in services}
    assert {"E0101", "C0101", "E0502"} <= codes
    assert all(isinstance(s["service_code"], str) for s in services)
    xml = etree.fromstring(c.get(f"{BASE}/services.xml").content)
    assert xml.tag == "services" and xml.find("service/service_code") is not None
    sd = c.get(f"{BASE}/services/E0101.json").json()
    assert sd["service_code"] == "E0101"
    assert sd["attributes"][0]["code"] == "description"
    sdx = etree.fromstring(c.get(f"{BASE}/services/E0101.xml").content)
    assert sdx.tag == "service_definition"
    assert sdx.find("attributes/attribute/datatype").text == "text"


def test_round_trip_json(web: Web) -> None:
    c = web.client
    photo = "http://testserver" + upload(web, "machine")  # media_url: our own uploads only
    r = c.post(f"{BASE}/requests.json", data=_form(web, media_url=photo))
    assert r.status_code == 201, r.text
    body = r.json()
    rid = body[0]["service_request_id"]
    assert body[0]["account_id"] == "acc-9"
    one = c.get(f"{BASE}/requests/{rid}.json", headers=web.h("machine")).json()
    assert one[0]["status"] == "open" and one[0]["service_code"] == "E0101"
    assert one[0]["lat"] == POS_A[1] and one[0]["media_url"] == photo
    assert one[0]["requested_datetime"].endswith("+08:00")
    listed = c.get(f"{BASE}/requests.json?service_code=E0101&status=open").json()
    assert rid in [x["service_request_id"] for x in listed]
    assert c.get(f"{BASE}/requests.json?status=closed").json() == []
    ext = c.get(f"{BASE}/requests/{rid}.json?extensions=true").json()[0]
    assert ext["notes"][0]["type"] == "report"
    assert ext["extended_attributes"]["area_code"] == "370203001001001"
    token = re.search(r"/track/([A-Za-z0-9_-]+)", body[0]["service_notice"]).group(1)  # type: ignore[union-attr]
    t = c.get(f"{BASE}/tokens/{token}.json").json()
    assert t == [{"service_request_id": rid, "token": token}]


def test_round_trip_xml_fixmystreet_style(web: Web) -> None:
    c = web.client
    r = c.post(f"{BASE}/requests.xml", data=_form(web, device_id="fms-7"))
    assert r.status_code == 201
    assert r.headers["content-type"] == "text/xml"
    doc = etree.fromstring(r.content)
    spec = etree.parse(str(DATA / "spec_post_response_example.xml")).getroot()
    assert _structure(doc) == _structure(spec)  # service_requests/request/{id, notice, account}
    rid = doc.findtext("request/service_request_id")
    got = etree.fromstring(c.get(f"{BASE}/requests.xml?service_request_id={rid},999999").content)
    assert [e.findtext("service_request_id") for e in got.findall("request")] == [rid]
    assert got.findtext("request/status") == "open"
    ext = etree.fromstring(c.get(f"{BASE}/requests/{rid}.xml?extensions=true").content)
    assert ext.find("request/notes/note/type").text == "report"
    upd = c.get(f"{BASE}/servicerequestupdates.xml?api_key={web.keys['machine']}")
    assert etree.fromstring(upd.content).tag == "service_request_updates"


def test_retried_post_makes_one_case(web: Web) -> None:
    c = web.client
    first = c.post(f"{BASE}/requests.json", data=_form(web)).json()
    again = c.post(f"{BASE}/requests.json", data=_form(web))
    assert again.status_code == 200
    assert again.json()[0]["service_request_id"] == first[0]["service_request_id"]
    keyed = [c.post(f"{BASE}/requests.json", data=_form(web, device_id=""),
                    headers={"Idempotency-Key": "key-12345678"}).json() for _ in range(2)]
    assert keyed[0][0]["service_request_id"] == keyed[1][0]["service_request_id"]
    assert keyed[0][0]["service_request_id"] != first[0]["service_request_id"]


def test_spec_errors(web: Web) -> None:
    c = web.client
    spec = etree.parse(str(DATA / "spec_error_example.xml")).getroot()
    cases = [
        (_form(web, api_key="cg_nope_nope"), 403),
        ({k: v for k, v in _form(web).items() if k != "api_key"}, 403),
        (_form(web, service_code="NOPE"), 404),
        ({k: v for k, v in _form(web).items() if k != "service_code"}, 400),
        (_form(web, jurisdiction_id="other.gov"), 404),
        (_form(web, lat="abc"), 400),
        (_form(web, lat="", long="", address_string=""), 400),
        (_form(web, lat="10.0", long="10.0"), 400),  # outside the district
        (_form(web, media_url="https://example.org/track.gif"), 400),  # not our photo
        (_form(web, media_url="javascript:alert(1)"), 400),
    ]
    for form, status in cases:
        r = c.post(f"{BASE}/requests.xml", data=form)
        assert r.status_code == status, (form, r.text)
        doc = etree.fromstring(r.content)
        assert doc.tag == spec.tag  # errors/error/{code, description}, one or more
        assert {tuple(_structure(e)) for e in doc} == {tuple(_structure(spec[0]))}
        assert doc.findtext("error/code") and doc.findtext("error/description")
        j = c.post(f"{BASE}/requests.json", data=form)
        assert j.status_code == status
        assert all(set(e) == {"code", "description"} for e in j.json())
    assert c.get(f"{BASE}/services/NOPE.json").status_code == 404
    assert c.get(f"{BASE}/services/NOPE.json").json()[0]["code"] == 404
    assert c.get(f"{BASE}/requests/123456.json").status_code == 404
    assert c.get(f"{BASE}/tokens/zzzzzzzzzz.xml").status_code == 404
    assert c.get(f"{BASE}/services.yaml").status_code == 404
    assert c.get(f"{BASE}/requests.json?start_date=yesterday").status_code == 400
    r = c.get(f"{BASE}/requests.json?start_date=2026-01-01T00:00:00Z"
              "&end_date=2026-06-01T00:00:00Z")
    assert r.status_code == 400 and "90" in r.json()[0]["description"]
    assert c.get(f"{BASE}/requests.json?status=pending").status_code == 400
    assert c.get(f"{BASE}/requests.json?page_size=0").status_code == 400
    assert c.get(f"{BASE}/servicerequestupdates.json").status_code == 403


def test_paging(web: Web) -> None:
    c = web.client
    ids = [c.post(f"{BASE}/requests.json", data=_form(web, description=f"第{i}处")).json()[0]
           ["service_request_id"] for i in range(5)]
    p1 = c.get(f"{BASE}/requests.json?page_size=2&page=1").json()
    p3 = c.get(f"{BASE}/requests.json?page_size=2&page=3").json()
    assert len(p1) == 2 and len(p3) == 1
    assert p1[0]["service_request_id"] == ids[-1]
