"""The one list convention and the bulk exports: a list read page by page (limit, opaque
cursor, ``next`` and the ``Link`` header) holds exactly the rows its CSV and Parquet exports
hold; the exports are written piece by piece as the rows are read, never all at once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from citygrowth.web.export import arrow_csv_lines, parquet_lines
from citygrowth.web.render import column_keys, columns, csv_lines
from tests.api.conftest import Site

pytestmark = pytest.mark.xdist_group("api-exports")
Row = tuple[str, str, str, float]


@pytest.fixture(scope="module")
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(site.app) as c:
        yield c


def _key(r: dict[str, Any]) -> Row:
    return (r["indicator"], r["area_code"], r["period"], float(r["value"]))


def test_a_list_read_by_cursor_holds_what_the_exports_hold(client: TestClient,
                                                           site: Site) -> None:
    h = site.h("admin")
    url: str | None = "/api/observations?indicator=ECO_GDP&limit=3"
    paged: list[Row] = []
    pages = 0
    while url:
        r = client.get(url, headers=h)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"ok", "items", "next", "total"} and len(body["items"]) <= 3
        if body["next"]:
            assert r.headers["link"] == f'<{body["next"]}>; rel="next"'
        else:
            assert "link" not in r.headers
        paged += [_key(i) for i in body["items"]]
        url, pages = body["next"], pages + 1
    assert len(paged) == 8 and len(set(paged)) == 8 and pages == 3

    got = client.get("/api/observations.csv?indicator=ECO_GDP", headers=h)
    assert got.headers["content-type"].startswith("text/csv")
    assert 'filename="observations.csv"' in got.headers["content-disposition"]
    text = got.content.decode("utf-8")
    assert text.startswith("\ufeff")
    header, *lines = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    keys = column_keys(header, ["indicator", "area_code", "period", "value", "vintage"])
    read = [dict(zip(keys, line, strict=True)) for line in lines]
    assert sorted(_key(r) for r in read) == sorted(paged)
    assert all(r["vintage"].endswith("+08:00") for r in read)  # the district's zone

    got = client.get("/api/observations.parquet?indicator=ECO_GDP", headers=h)
    assert got.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(got.content))
    assert table.schema.field("vintage").type == pa.timestamp("us", tz="UTC")
    assert sorted(_key(r) for r in table.to_pylist()) == sorted(paged)


def test_limits_and_cursors_are_checked(client: TestClient, site: Site) -> None:
    h = site.h("admin")
    too_many = client.get("/api/observations?limit=10001", headers=h)
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "limit"
    foreign = client.get("/api/observations?cursor=bm90LW91cnM", headers=h)
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "cursor"
    # a cursor of another list (a case's key is not an observation's) is refused too
    first = client.get("/api/cases?limit=1", headers=h).json()
    cursor = first["next"].split("cursor=")[1]
    mixed = client.get(f"/api/ingest/loads?cursor={cursor}", headers=h)
    assert mixed.status_code == 422 and mixed.json()["errors"][0]["field"] == "cursor"


class Counted:
    """An iterator that counts how much of it was read."""

    def __init__(self, items: list[Any]) -> None:
        self.items, self.read = items, 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.read += 1
            yield item


def test_csv_is_written_as_rows_are_read() -> None:
    rows = Counted([{"a": "=cmd()", "b": i} for i in range(2500)])
    pieces = csv_lines(columns("a", "b"), rows, batch=1000)
    assert next(pieces) == "\ufeffa,b\r\n".encode() and rows.read == 0
    first = next(pieces)
    assert rows.read == 1000 and first.startswith(b"'=cmd(),0\r\n")  # formula-safe
    assert len(list(pieces)) == 2 and rows.read == 2500


def test_arrow_csv_and_parquet_take_one_batch_at_a_time() -> None:
    schema = pa.schema([("text", pa.string()), ("number", pa.float64())])
    batches = [pa.record_batch([pa.array([f"+{n}", "x"]), pa.array([n, 0.5])], schema=schema)
               for n in range(3)]
    src = Counted(batches)
    lines = arrow_csv_lines(src, columns(*schema.names))
    assert next(lines).endswith(b"text,number\r\n") and src.read == 0
    assert next(lines).startswith(b"\"'+0\"") and src.read == 1
    assert len(list(lines)) == 2 and src.read == 3

    src = Counted(batches)
    parts = parquet_lines(schema, src)
    pieces = [next(parts)]
    assert src.read == 1  # the first row group is out before the second batch is read
    pieces += list(parts)
    table = pq.read_table(io.BytesIO(b"".join(pieces)))
    assert table.num_rows == 6 and pq.ParquetFile(io.BytesIO(b"".join(pieces))).num_row_groups \
        == 3
