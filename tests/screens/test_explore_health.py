"""Explorer series/map and the data-health page read real loads from the observation store."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import DISTRICT, STREET_A, STREET_B
from tests.screens.conftest import login


def test_series_aligns_periods_and_names_its_source(client: TestClient) -> None:
    login(client, "leader")
    r = client.get("/api/explore/series?indicator=ECO_FIN_INSTITUTIONS"
                   f"&areas={STREET_A},{STREET_B}")
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["periods"] == ["2023", "2024", "2025"]
    assert [s["values"] for s in d["series"]] == [[10.0, 12.0, 15.0], [14.0, 13.0, 13.0]]
    assert d["indicator"]["unit"] == "家" and d["indicator"]["citation"]
    assert d["option"]["series"][0]["data"] == [10.0, 12.0, 15.0]
    assert d["freshness"]["last_period"] == "2025" and "stale" in d["freshness"]
    csv = client.get(f"/api/explore/series?indicator=ECO_FIN_INSTITUTIONS&areas={STREET_A}"
                     "&format=csv")
    assert csv.status_code == 200
    assert "ECO_FIN_INSTITUTIONS,370203001" in csv.content.decode("utf-8-sig")


def test_map_takes_the_latest_period(client: TestClient) -> None:
    login(client, "leader")
    d = client.get(f"/api/explore/map?indicator=ECO_FIN_INSTITUTIONS&level=street"
                   f"&parent={DISTRICT}").json()
    assert d["period"] == "2025"
    assert {i["code"]: i["value"] for i in d["items"]} == {STREET_A: 15.0, STREET_B: 13.0}
    xlsx = client.get(f"/api/explore/map?indicator=ECO_FIN_INSTITUTIONS&parent={DISTRICT}"
                      "&format=xlsx")
    assert xlsx.content[:2] == b"PK"


def test_bad_requests_get_clear_errors(client: TestClient) -> None:
    login(client, "leader")
    r = client.get("/api/explore/series?indicator=NOPE&areas=370203")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.get("/api/explore/series?indicator=ECO_GDP&areas=370203999")
    assert r.status_code == 404 and "370203999" in r.json()["error"]
    r = client.get("/api/explore/series?indicator=ECO_GDP&areas=abc")
    assert r.status_code == 422 and r.json()["code"] == "bad_area"


def test_anonymous_is_sent_to_login_and_api_refuses(client: TestClient) -> None:
    r = client.get("/explore", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert client.get("/api/explore/map?indicator=ECO_GDP").status_code == 401


def test_data_health_lists_late_indicators_and_departments(client: TestClient) -> None:
    login(client, "leader")
    d = client.get("/api/data/health").json()
    rows = {r["indicator"]: r for r in d["indicators"]}
    assert rows["ECO_FIN_INSTITUTIONS"]["last_period"] == "2025"
    assert rows["ECO_GDP"]["stale"] is True  # never loaded
    assert any(dep["department"] == rows["ECO_GDP"]["department"] for dep in d["departments"])
    page = client.get("/data/health")
    assert page.status_code == 200 and "数据健康" in page.text
    csv = client.get("/api/data/health?format=csv")
    assert "ECO_FIN_INSTITUTIONS" in csv.content.decode("utf-8-sig")
