"""One place renders tables: the JSON, CSV and XLSX twins of every page's numbers.

A table is its columns (:class:`Column`: a key, and a name in the reader's language) and its rows
(mappings by key, or sequences in column order). :func:`table_response` answers it as

* **JSON** — ``{"ok": true, "columns": [{"key", "name"}], "rows": [{key: value}]}``;
* **CSV** — UTF-8 with a byte-order mark (so Excel reads Chinese), CRLF line ends, the header
  row in the reader's language, streamed row by row (a generator of rows is never held whole);
* **XLSX** — one sheet, the header row in the reader's language, written by openpyxl in
  write-only mode;

CSV and XLSX are downloads (``Content-Disposition: attachment; filename="<name>.csv"``, and
``filename*`` for names that are not ASCII). Every text cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return — which a spreadsheet would run as a formula — is
written as text: in CSV prefixed with a single quote (as OWASP recommends), in XLSX as a string
cell with ``quotePrefix``, never a formula. Numbers stay numbers (a negative number is no
formula). Times are shown in the district's zone when one is given.

Column names come from :data:`LABELS` (one vocabulary for every export) unless a column brings
its own; :func:`column_keys` reads them back (in either language) when an export is imported
again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi.responses import JSONResponse, Response, StreamingResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from citygrowth.i18n import N_, translate

Format = Literal["json", "csv", "xlsx"]
Row = Mapping[str, Any] | Sequence[Any]
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")

#: one name per column key, for every export (msgids; translated when rendered)
LABELS: dict[str, str] = {
    "id": N_("No."), "code": N_("Code"), "name": N_("Name"), "name_zh": N_("Name (Chinese)"),
    "name_en": N_("Name (English)"), "level": N_("Level"), "parent_code": N_("Parent code"),
    "population": N_("Population"), "area_km2": N_("Area (km²)"),
    "centroid_lon": N_("Centre longitude"), "centroid_lat": N_("Centre latitude"),
    "illustrative": N_("Illustrative"), "source": N_("Source"), "status": N_("Status"),
    "category_code": N_("Category code"), "category": N_("Category"),
    "area_code": N_("Area code"), "area": N_("Area"), "department_code": N_("Department code"),
    "department": N_("Department"), "reported_at": N_("Reported at"), "due_at": N_("Due at"),
    "closed_at": N_("Closed at"), "overdue": N_("Overdue"), "supervised": N_("Supervised"),
    "escalation_level": N_("Escalation level"), "rework_count": N_("Reworks"),
    "satisfaction": N_("Satisfaction"), "address": N_("Address"), "month": N_("Month"),
    "reported": N_("Cases reported"), "registered": N_("Cases registered"),
    "closed": N_("Cases closed"),
    "due": N_("Cases due"), "closed_ontime": N_("Closed on time"),
    "ontime_rate": N_("On-time rate"),
    "closure_rate": N_("Closure rate"), "rework_rate": N_("Rework rate"),
    "handling_hours": N_("Handling hours"), "satisfied_rate": N_("Satisfied rate"),
    "indicator": N_("Indicator"), "period": N_("Reference period"), "freq": N_("Frequency"),
    "value": N_("Value"), "unit": N_("Unit"), "load_id": N_("Load"), "vintage": N_("Vintage"),
    "dataset": N_("Dataset"), "file_name": N_("File"), "actor": N_("Loaded by"),
    "created_at": N_("Created at"), "sha256": N_("SHA-256"), "rows": N_("Rows"),
    "problem_count": N_("Problems"), "period_min": N_("First period"),
    "period_max": N_("Last period"), "co_owners": N_("Co-owners"), "unit_zh": N_("Unit (Chinese)"),
    "unit_en": N_("Unit (English)"), "baseline": N_("Baseline"),
    "target_value": N_("Target value"), "start_date": N_("Start date"),
    "deadline": N_("Deadline"), "plan": N_("Plan"), "indicator_code": N_("Indicator code"),
    "description": N_("Description"), "latest_value": N_("Latest value"),
    "actual_pct": N_("Actual progress (%)"), "planned_pct": N_("Planned progress (%)"),
    "forecast_pct": N_("Forecast (%)"), "industry": N_("Industry"), "stage": N_("Stage"),
    "total_investment_yi": N_("Total investment (100 million yuan)"),
    "start_year": N_("Start year"), "end_year": N_("End year"), "lon": N_("Longitude"),
    "lat": N_("Latitude"), "completed_investment_yi": N_("Investment completed (100 million yuan)"),
    "open_problems": N_("Open problems"), "kind": N_("Kind"), "submitted_on": N_("Submitted on"),
    "approved_on": N_("Approved on"), "working_days": N_("Working days"),
    "limit_days": N_("Limit (working days)"), "steps": N_("Steps"), "title": N_("Title"),
    "enterprise": N_("Enterprise"), "source_department_code": N_("Source department"),
    "owner_department_code": N_("Owner department"),
    "expected_yi": N_("Expected investment (100 million yuan)"), "landed_on": N_("Landed on"),
    "events": N_("Events"), "updated_at": N_("Updated at"), "score": N_("Score"),
    "rank": N_("Rank"), "node": N_("Node"), "framework": N_("Framework"),
    "case_id": N_("Case"), "action": N_("Action"), "channel": N_("Channel"),
    "state": N_("State"), "attempts": N_("Attempts"), "last_error": N_("Last error"),
    "last_attempt_at": N_("Last attempt at"), "next_attempt_at": N_("Next attempt at"),
    "sent_at": N_("Sent at"), "community": N_("Community"), "tasks": N_("Tasks"),
    "hours": N_("Hours (total)"), "helpers": N_("Helpers"),
}


@dataclass(frozen=True)
class Column:
    """A column: its key (JSON, the rows' mapping keys) and, optionally, its own name (a
    msgid); otherwise :data:`LABELS` names it, or its key does."""

    key: str
    label: str | None = None

    def name(self, locale: str | None = None) -> str:
        label = self.label or LABELS.get(self.key)
        return translate(label, locale) if label else self.key


def columns(*keys: str | Column) -> list[Column]:
    return [k if isinstance(k, Column) else Column(k) for k in keys]


def column_keys(names: Iterable[Any], known: Iterable[str]) -> list[str]:
    """Header cells of an edited export back to column keys: a key as it is, or the name of
    one of ``known`` in Chinese or English."""
    by_name: dict[str, str] = {}
    for key in known:
        col = Column(key)
        for locale in ("zh_CN", "en"):
            by_name.setdefault(col.name(locale), key)
    out = []
    for n in names:
        text = "" if n is None else str(n).strip()
        out.append(text if text in set(known) else by_name.get(text, text))
    return out


# --- cells ------------------------------------------------------------------------------------

def plain(value: Any, tz: ZoneInfo | None = None) -> Any:
    """A cell's value as text, number, bool or None: lists joined, mappings as JSON, times in
    ``tz`` (ISO 8601 with the offset)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        if tz is not None and value.tzinfo is not None:
            value = value.astimezone(tz)
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(plain(v, tz)) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, default=str)
    if hasattr(value, "item"):  # numpy and pandas scalars
        return plain(value.item(), tz)
    return str(value)


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START)


def csv_cell(value: Any, tz: ZoneInfo | None = None) -> Any:
    """A CSV cell: text that a spreadsheet would run as a formula gets a leading ``'``."""
    value = plain(value, tz)
    if value is None:
        return ""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def _values(row: Row, cols: Sequence[Column]) -> Sequence[Any]:
    if isinstance(row, Mapping):
        return [row.get(c.key) for c in cols]
    return row


# --- CSV --------------------------------------------------------------------------------------

class _Line:
    """A file-like target for ``csv.writer`` that hands back what one row wrote."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def take(self) -> str:
        out, self.text = self.text, ""
        return out


def csv_lines(cols: Sequence[Column], rows: Iterable[Row], locale: str | None = None,
              tz: ZoneInfo | None = None, batch: int = 500) -> Iterator[bytes]:
    """The CSV file, in pieces of ``batch`` rows: BOM and header first."""
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    writer.writerow([csv_cell(c.name(locale)) for c in cols])
    yield ("\ufeff" + line.take()).encode("utf-8")
    for n, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(v, tz) for v in _values(row, cols)])
        if n % batch == 0:
            yield line.take().encode("utf-8")
    if line.text:
        yield line.take().encode("utf-8")


def csv_text(cols: Sequence[Column], rows: Iterable[Row], locale: str | None = None,
             tz: ZoneInfo | None = None) -> str:
    """The whole CSV file as text (with its BOM), for files written by the CLI."""
    return b"".join(csv_lines(cols, rows, locale, tz)).decode("utf-8")


# --- XLSX -------------------------------------------------------------------------------------

def _xlsx_value(value: Any, tz: ZoneInfo | None) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(tz) if tz is not None else value
            value = value.replace(tzinfo=None)  # Excel has no time zones
        return value
    if isinstance(value, dt.date):
        return value
    value = plain(value, tz)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def xlsx_bytes(cols: Sequence[Column], rows: Iterable[Row], sheet: str = "data",
               locale: str | None = None, tz: ZoneInfo | None = None) -> bytes:
    """A workbook with one sheet: the header row in the reader's language, then the rows;
    text that looks like a formula is a string cell with ``quotePrefix``."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_SAFE_NAME.sub("_", sheet)[:31] or "data")

    def cell(value: Any) -> WriteOnlyCell:
        value = _xlsx_value(value, tz)
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str) and (c.data_type == "f" or is_formula_like(value)):
            c.data_type = "s"  # text, never a formula
            c.quotePrefix = True
        return c

    ws.append([cell(c.name(locale)) for c in cols])
    for row in rows:
        ws.append([cell(v) for v in _values(row, cols)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def append_safe(ws: Any, values: Sequence[Any]) -> None:
    """``ws.append(values)`` for an ordinary (not write-only) worksheet, with the same care:
    text that looks like a formula stays text, illegal characters are replaced."""
    ws.append([_xlsx_value(v, None) for v in values])
    for c in ws[ws.max_row]:
        if isinstance(c.value, str) and (c.data_type == "f" or is_formula_like(c.value)):
            c.data_type = "s"
            c.quotePrefix = True


# --- answers ----------------------------------------------------------------------------------

def disposition(name: str, ext: str) -> str:
    """``attachment`` with an ASCII ``filename`` and, for other names, ``filename*``."""
    ascii_name = _SAFE_NAME.sub("_", name).strip("_.") or "export"
    value = f'attachment; filename="{ascii_name}.{ext}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(f'{name}.{ext}')}"
    return value


def csv_response(cols: Sequence[Column], rows: Iterable[Row], name: str,
                 locale: str | None = None, tz: ZoneInfo | None = None) -> StreamingResponse:
    """CSV download, streamed (``rows`` may be a generator)."""
    return StreamingResponse(csv_lines(cols, rows, locale, tz), media_type=CSV_TYPE,
                             headers={"Content-Disposition": disposition(name, "csv")})


def xlsx_response(cols: Sequence[Column], rows: Iterable[Row], name: str,
                  locale: str | None = None, tz: ZoneInfo | None = None,
                  sheet: str | None = None) -> Response:
    body = xlsx_bytes(cols, rows, sheet or name, locale, tz)
    return Response(body, media_type=XLSX_TYPE,
                    headers={"Content-Disposition": disposition(name, "xlsx")})


def json_rows(cols: Sequence[Column], rows: Iterable[Row],
              tz: ZoneInfo | None = None) -> list[dict[str, Any]]:
    return [{c.key: plain(v, tz) for c, v in zip(cols, _values(r, cols), strict=False)}
            for r in rows]


def json_response(cols: Sequence[Column], rows: Iterable[Row], locale: str | None = None,
                  tz: ZoneInfo | None = None) -> JSONResponse:
    return JSONResponse({"ok": True,
                         "columns": [{"key": c.key, "name": c.name(locale)} for c in cols],
                         "rows": json_rows(cols, rows, tz)})


def workbook_response(body: bytes, name: str) -> Response:
    """A workbook made elsewhere (a template to fill in) as a download; write its cells with
    :func:`append_safe`."""
    return Response(body, media_type=XLSX_TYPE,
                    headers={"Content-Disposition": disposition(name, "xlsx")})


def table_response(fmt: Format, cols: Sequence[Column], rows: Iterable[Row], name: str,
                   locale: str | None = None, tz: ZoneInfo | None = None) -> Response:
    """The table as JSON, CSV or XLSX (see the module's docstring)."""
    if fmt == "csv":
        return csv_response(cols, rows, name, locale, tz)
    if fmt == "xlsx":
        return xlsx_response(cols, rows, name, locale, tz)
    return json_response(cols, rows, locale, tz)


def frame_table(df: Any, labels: Mapping[str, str] | None = None
                ) -> tuple[list[Column], Iterator[Sequence[Any]]]:
    """A pandas DataFrame's columns (named by ``labels``, else :data:`LABELS`) and rows (NaN as
    empty), without copying it whole."""
    cols = [Column(str(c), (labels or {}).get(str(c))) for c in df.columns]
    return cols, (tuple(None if _missing(v) else v for v in row)
                  for row in df.itertuples(index=False, name=None))


def _missing(value: Any) -> bool:
    try:
        return bool(value != value) or value is None  # NaN, NaT, None
    except (TypeError, ValueError):
        return False
