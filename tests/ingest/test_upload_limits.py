"""Uploads held to their limits before any reader opens them: zip bombs, lying archives, too
many rows or columns, and a header-only file — each a clear error naming the file, nothing
loaded, never a 500."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from citygrowth.app import create_app
from citygrowth.ingest.readers import ReadLimits, check_upload
from citygrowth.settings import Settings
from tests.ingest.bombs import lying_workbook, sheet_bomb
from tests.ingest.test_routes import keys  # noqa: F401  (fixture)

HEADER = b"indicator,area_code,period,value\n"
ROW = b"ECO_GDP,370203001,2024-Q1,1.5\n"


@pytest.fixture(scope="session")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sheet_bomb(tmp_path_factory.mktemp("bomb") / "data.xlsx")


@pytest.fixture
def small(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"max_upload_rows": 3, "max_upload_columns": 5}))
    with TestClient(app) as c:
        yield c


def _history(client: TestClient, key: str) -> list[str]:
    loads = client.get("/api/ingest/loads", headers={"X-API-Key": key}).json()["items"]
    return [x["status"] for x in loads]


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_header_only_file_is_a_clean_422_on_both_upload_routes(
        client: TestClient, keys: dict[str, str]) -> None:  # noqa: F811
    h = {"X-API-Key": keys["admin"], "Accept-Language": "en"}
    for name, body in (("h.csv", HEADER), ("h.xlsx", _xlsx([["indicator", "area_code",
                                                             "period", "value"]]))):
        r = client.post("/api/ingest/stats", headers=h, files={"file": (name, body)})
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["message"] == "The upload has no data rows."
        page = client.post("/data/upload", headers={**h, "HX-Request": "true"},
                           data={"dataset": "stats"}, files={"file": (name, body)})
        assert page.status_code == 200 and "The upload has no data rows." in page.text


def test_a_zip_bomb_is_refused_before_it_is_opened(client: TestClient, bomb: Path,
                                                   keys: dict[str, str]) -> None:  # noqa: F811
    assert bomb.stat().st_size < 1.3e6
    r = client.post("/api/ingest/stats", headers={"X-API-Key": keys["admin"]},
                    files={"file": ("data.xlsx", bomb.read_bytes())}, params={"lang": "en"})
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert r.json()["error"] == ("The file data.xlsx unpacks to more than 200 MiB (a workbook "
                                 "is a zip archive); nothing was loaded.")
    zh = client.post("/data/upload", headers={"X-API-Key": keys["admin"], "HX-Request": "true"},
                     data={"dataset": "stats"}, files={"file": ("data.xlsx", bomb.read_bytes())},
                     params={"lang": "zh_CN"})
    assert "data.xlsx 解压后超过 200 MiB" in zh.text
    assert _history(client, keys["admin"]) == []  # nothing loaded, nothing half-written


def test_the_compression_ratio_and_the_actual_size_are_checked_too(tmp_path: Path,
                                                                   bomb: Path) -> None:
    generous = ReadLimits(uncompressed_bytes=400 * 2**20, compression_ratio=100)
    with pytest.raises(Exception, match="unpacks to") as ratio:
        check_upload(bomb, generous)
    assert ratio.value.code == "zip_bomb"  # type: ignore[attr-defined]
    liar = lying_workbook(tmp_path / "liar.xlsx")  # says its sheet is 1 KiB; it is 10 MB
    with pytest.raises(Exception, match="damaged") as damaged:
        check_upload(liar, ReadLimits(compression_ratio=10_000))
    assert damaged.value.code == "unreadable_file"  # type: ignore[attr-defined]


def test_rows_and_columns_are_limited(small: TestClient, keys: dict[str, str]) -> None:  # noqa: F811
    h = {"X-API-Key": keys["admin"], "Accept-Language": "en"}
    r = small.post("/api/ingest/stats", headers=h, files={"file": ("big.csv", HEADER + ROW * 4)})
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows"
    assert r.json()["errors"][0] == {
        "file": "big.csv", "message": "The file big.csv has more than 3 rows; split it into "
        "smaller files."}
    wide = b"indicator,area_code,period,value,unit,x\n" + ROW
    r = small.post("/api/ingest/stats", headers=h, files={"file": ("wide.csv", wide)})
    assert r.status_code == 422 and r.json()["code"] == "too_many_columns"
    book = _xlsx([["indicator", "area_code", "period", "value"]]
                 + [["ECO_GDP", "370203001", f"2024-0{m}", 1] for m in range(1, 6)])
    r = small.post("/api/ingest/stats", headers=h, files={"file": ("big.xlsx", book)})
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows"
    rows = [{"indicator": "ECO_GDP", "area_code": "370203001", "period": "2024", "value": 1}]
    r = small.post("/api/ingest/stats", headers=h, json=rows * 4)
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows"
    assert _history(small, keys["admin"]) == []
    ok = small.post("/api/ingest/stats", headers=h, files={"file": ("ok.csv", HEADER + ROW)})
    assert ok.status_code == 200, ok.text
