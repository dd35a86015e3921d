"""A resident's address ``=HYPERLINK(...)`` comes out of ``/api/cases.csv`` as text — reported
through the API or through the residents' form — with its times in the district's zone; the
residents' form refuses control characters like every other input."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from citygrowth.governance.models import Case
from tests.governance.conftest import POS_A, Web
from tests.web.login import form_token
from tests.web.test_render import HOSTILE


def _cases_csv(web: Web) -> list[dict[str, str]]:
    out = web.client.get("/api/cases.csv", headers={**web.h("admin"), "Accept-Language": "en"})
    assert out.headers["content-disposition"] == 'attachment; filename="cases.csv"'
    assert out.content.startswith(b"\xef\xbb\xbfNo.,Status,Category code")
    return list(csv.DictReader(io.StringIO(out.text.lstrip("\ufeff"), newline="")))


def test_a_residents_address_comes_out_as_text_in_cases_csv(web: Web) -> None:
    address = HOSTILE[0]
    r = web.client.post("/api/cases", headers=web.h("worker_a"), json={
        "category_code": "E0101", "lat": POS_A[1], "lon": POS_A[0], "address": address})
    assert r.status_code == 201, r.text
    rows = _cases_csv(web)
    assert rows[0]["Address"] == "'" + address
    assert rows[0]["Reported at"].endswith("+08:00") and "T" not in rows[0]["Reported at"]


def test_the_residents_form_address_comes_out_as_text_too(web: Web) -> None:
    address = HOSTILE[1]
    r = web.client.post("/report", data={
        "category_code": "C0105", "lon": str(POS_A[0]), "lat": str(POS_A[1]),
        "description": "路灯不亮", "address": address,
        "csrf_token": form_token(web.client, "/report")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert any(row["Address"] == "'" + address for row in _cases_csv(web))


def test_the_residents_form_refuses_control_characters_writing_nothing(web: Web) -> None:
    with web.factory() as s:
        before = s.scalar(select(func.count()).select_from(Case))
    r = web.client.post("/report?lang=en", data={
        "category_code": "C0105", "lon": str(POS_A[0]), "lat": str(POS_A[1]),
        "description": "lamp\x00out", "address": "Road\x1b[31m 1",
        "csrf_token": form_token(web.client, "/report")}, follow_redirects=False)
    assert r.status_code == 422
    assert "The text contains a control character (U+" in r.text
    with web.factory() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == before
