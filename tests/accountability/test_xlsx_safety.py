"""Target and project names are never live formulas in the ``.xlsx`` exports, and a stored NUL
(from before input was checked) no longer breaks the targets export for everyone."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from citygrowth.settings import Settings


@pytest.fixture
def sqlite_url(seeded_sqlite_url: str) -> str:
    return seeded_sqlite_url


@pytest.fixture
def keys(seeded_template: tuple[object, dict[str, dict[str, str]]]) -> dict[str, dict[str, str]]:
    return seeded_template[1]


def test_names_are_text_cells_never_formulas(client: TestClient, settings: Settings,
                                             keys: dict[str, dict[str, str]]) -> None:
    engine = create_engine(settings.resolved_database_url)
    with engine.begin() as c:
        c.execute(text("UPDATE acc_targets SET name_zh = '=1+1' WHERE code = 'T-SCHOOLS'"))
        c.execute(text("UPDATE acc_projects SET name_zh = '@SUM(A1:A9)' "
                       "WHERE id = (SELECT min(id) FROM acc_projects)"))
        c.execute(text("UPDATE acc_targets SET name_en = 'nul' || char(0) || 'name' "
                       "WHERE code <> 'T-SCHOOLS'"))
    engine.dispose()
    for kind, hostile in (("targets", "=1+1"), ("projects", "@SUM(A1:A9)")):
        r = client.get(f"/api/accountability/export/{kind}.xlsx", headers=keys["admin"])
        assert r.status_code == 200, r.text
        ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
        cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value == hostile]
        assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)
        assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    book = client.get("/api/accountability/export/targets.xlsx", headers=keys["admin"])
    names = [r[2] for r in load_workbook(io.BytesIO(book.content)).worksheets[0]
             .iter_rows(min_row=2, values_only=True)]
    assert "nul\ufffdname" in names


def test_a_nul_in_a_target_name_is_refused_with_the_field_named(
        client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    body = {"code": "T-NUL", "name_zh": "目标\x00名", "department_code": "education",
            "area_code": "370203", "target_value": 10, "start_date": "2026-01-01",
            "deadline": "2026-12-31"}
    r = client.post("/api/accountability/targets", json=body,
                    headers={**keys["admin"], "Accept-Language": "en"})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "name_zh", "message": "The text contains a control "
                                   "character (U+0000) at position 3."}]
