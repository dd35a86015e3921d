from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from citygrowth.auth.identity import new_api_key
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.settings import Settings
from tests.factories import TEST_AUDIT, make_areas, make_user
from tests.ingest.conftest import DATA

ROWS = [{"indicator": "GOV_CASE_SATISFACTION", "area_code": "370203001001001",
         "period": "2024-09", "value": 96.5},
        {"indicator": "GOV_CASE_SATISFACTION", "area_code": "370203001001002",
         "period": "2024-09", "value": "93"}]


@pytest.fixture
def keys(settings: Settings) -> dict[str, str]:
    """API keys of an urban-management officer, a civil-affairs officer and an admin."""
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        s: Session
        make_areas(s)
        out = {}
        for name, grant in (("urban", ("department_officer", "370203", "urban")),
                            ("civil", ("department_officer", "370203", "civil")),
                            ("admin", ("district_admin", "370203"))):
            user, _actor = make_user(s, name, grant)
            out[name] = new_api_key(s, user, name)
        s.commit()
    engine.dispose()
    return out


def test_push_json_with_department_key_is_queryable_at_once(
        client: TestClient, keys: dict[str, str]) -> None:
    r = client.post("/api/ingest/urban", json=ROWS, headers={"X-API-Key": keys["urban"]})
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 2 and r.json()["department"] == "urban"
    q = client.get("/api/observations", params={"indicator": "GOV_CASE_SATISFACTION"},
                   headers={"X-API-Key": keys["admin"]})
    assert [o["value"] for o in q.json()["items"]] == [96.5, 93.0]


def test_another_departments_key_is_refused(client: TestClient, keys: dict[str, str]) -> None:
    r = client.post("/api/ingest/urban", json=ROWS, headers={"X-API-Key": keys["civil"]})
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    r = client.post("/api/ingest/civil", json={"rows": ROWS},
                    headers={"X-API-Key": keys["civil"], "Accept-Language": "en"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"] == (
        "Indicator GOV_CASE_SATISFACTION does not belong to dataset civil.")


def test_push_without_key_is_401_and_bad_rows_are_422(client: TestClient,
                                                       keys: dict[str, str]) -> None:
    assert client.post("/api/ingest/urban", json=ROWS).status_code == 401
    bad = [{**ROWS[0], "value": "n/a"}]
    r = client.post("/api/ingest/urban", json=bad, headers={"X-API-Key": keys["urban"]},
                    params={"lang": "en"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "load_rejected"
    assert body["errors"][0]["row"] == 1 and body["errors"][0]["field"] == "value"
    loads = client.get("/api/ingest/loads", headers={"X-API-Key": keys["admin"]}).json()
    assert [x["status"] for x in loads["items"]] == ["rejected"]


def test_push_a_file_and_see_it_in_the_history(client: TestClient,
                                               keys: dict[str, str]) -> None:
    r = client.post("/api/ingest/stats", headers={"X-API-Key": keys["admin"]},
                    files={"file": ("good.csv", b"indicator,area_code,period,value\n"
                                    b"ECO_GDP,370203001,2024-Q1,1.5\n", "text/csv")})
    assert r.status_code == 200, r.text
    page = client.get("/data/loads", headers={"X-API-Key": keys["admin"]})
    assert page.status_code == 200 and "good.csv" in page.text
    csv_text = client.get("/api/ingest/loads.csv", headers={"X-API-Key": keys["admin"]}).text
    assert csv_text.startswith("\ufeff批次,状态") and "accepted" in csv_text


def test_upload_form_shows_each_problem(client: TestClient, keys: dict[str, str]) -> None:
    r = client.post("/data/upload", headers={"X-API-Key": keys["admin"], "HX-Request": "true"},
                    data={"dataset": "stats"},
                    files={"file": ("bad.csv", (DATA / "bad.csv").read_bytes(), "text/csv")})
    assert r.status_code == 200
    assert "upload-error" in r.text and "NOPE" in r.text and "<td>13</td>" in r.text


def test_upload_page_and_catalog_page_render(client: TestClient, keys: dict[str, str]) -> None:
    page = client.get("/data/upload", headers={"X-API-Key": keys["admin"]})
    assert page.status_code == 200 and 'name="dataset"' in page.text
    cat = client.get("/catalog", params={"q": "按期"})
    assert cat.status_code == 200 and "GOV_CASE_ONTIME_RATE" in cat.text


def test_excel_template_lists_codes(client: TestClient, keys: dict[str, str]) -> None:
    r = client.get("/data/templates/urban.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    data = wb["data"]
    assert [c.value for c in data[1]] == ["indicator", "area_code", "period", "value", "unit"]
    assert "2024-09" in (data["C1"].comment.text if data["C1"].comment else "")
    codes = [row[0] for row in wb["indicators"].iter_rows(min_row=2, values_only=True)]
    assert "GOV_CASE_ONTIME_RATE" in codes and "ECO_GDP" not in codes
    areas = [row[0] for row in wb["areas"].iter_rows(min_row=2, values_only=True)]
    assert "370203001001001" in areas
    assert client.get("/data/templates/nope.xlsx").status_code == 404


def test_push_odd_json_is_a_clean_422(client: TestClient, keys: dict[str, str]) -> None:
    for body in ([{}], [{"": 1}], {"rows": "x"}, 5):
        r = client.post("/api/ingest/urban", json=body, headers={"X-API-Key": keys["urban"]})
        assert r.status_code == 422, (body, r.text)
    r = client.post("/api/ingest/urban", content=b"{oops", headers={
        "X-API-Key": keys["urban"], "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "bad_json"


@pytest.mark.parametrize("query", [{"end": "9999-12"}, {"start": "0001-01"}, {"end": "9999"}])
def test_periods_beyond_any_series_are_a_clear_422(client: TestClient, keys: dict[str, str],
                                                   query: dict[str, str]) -> None:
    """A far period in a query answered 500 (the month after 9999-12 is no date)."""
    for path in ("/api/observations", "/api/observations.csv"):
        r = client.get(path, params=query, headers={"X-API-Key": keys["urban"],
                                                    "Accept-Language": "en"})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "bad_period"
        assert "outside the years 1900 to 2200" in r.json()["error"]
