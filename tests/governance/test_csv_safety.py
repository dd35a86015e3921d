"""A resident's address ``=HYPERLINK(...)`` comes out of ``/api/cases.csv`` as text."""

from __future__ import annotations

import csv
import io

from tests.governance.conftest import POS_A, Web
from tests.web.test_render import HOSTILE


def test_a_residents_address_comes_out_as_text_in_cases_csv(web: Web) -> None:
    address = HOSTILE[0]
    r = web.client.post("/api/cases", headers=web.h("worker_a"), json={
        "category_code": "E0101", "lat": POS_A[1], "lon": POS_A[0], "address": address})
    assert r.status_code == 201, r.text
    out = web.client.get("/api/cases.csv", headers={**web.h("admin"), "Accept-Language": "en"})
    assert out.headers["content-disposition"] == 'attachment; filename="cases.csv"'
    assert out.content.startswith(b"\xef\xbb\xbfNo.,Status,Category code")
    rows = list(csv.DictReader(io.StringIO(out.text.lstrip("\ufeff"), newline="")))
    assert rows[0]["Address"] == "'" + address
