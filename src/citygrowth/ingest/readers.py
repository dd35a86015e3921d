"""Readers of uploaded data files, registered by extension through ``citygrowth_data_readers``.

A reader is ``reader(con, path) -> Read``: it turns a file into a DuckDB relation whose columns
are the file's columns (any types; text is fine) in file order, plus ``first_row``, the row
number users see for the first record (2 for a spreadsheet or CSV with a header row, 1 for
the first element of a JSON array). The built-in readers are registered the same way as a
plugin's (``ingest/plugin.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from openpyxl import load_workbook

from citygrowth.errors import Problem, ValidationFailed
from citygrowth.plugins import collect_dict
from citygrowth.runtime import Runtime


@dataclass
class Read:
    relation: duckdb.DuckDBPyRelation
    first_row: int


Reader = Callable[[duckdb.DuckDBPyConnection, Path], Read]


def unreadable(path: Path, detail: str) -> ValidationFailed:
    return ValidationFailed(
        "The file {file} could not be read: {detail}", code="unreadable_file",
        problems=[Problem("The file could not be read: {detail}", {"detail": detail},
                          file=path.name)],
        file=path.name, detail=detail,
    )


def read_csv(con: duckdb.DuckDBPyConnection, path: Path) -> Read:
    """CSV in UTF-8 (with or without BOM); GB18030 files from Excel are re-encoded first."""
    src = _utf8_copy(path)
    try:
        rel = con.read_csv(str(src), all_varchar=True, header=True)
    except duckdb.Error as exc:
        raise unreadable(path, str(exc).splitlines()[0][:300]) from None
    return Read(rel, 2)


def _utf8_copy(path: Path) -> Path:
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    try:
        head.decode("utf-8")
        return path
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # cut in the middle of a character
            return path
    try:
        text = path.read_bytes().decode("gb18030")
    except UnicodeDecodeError:
        raise unreadable(path, "not UTF-8 or GB18030 text") from None
    out = path.with_name(path.name + ".utf8.csv")
    out.write_text(text, encoding="utf-8")
    return out


def read_xlsx(con: duckdb.DuckDBPyConnection, path: Path) -> Read:
    """The sheet named ``data`` (as in our templates), else the first sheet; row 1 is the
    header."""
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise unreadable(path, type(exc).__name__) from None
    try:
        ws = wb["data"] if "data" in wb.sheetnames else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        cols: list[list[Any]] = [[] for _ in header]
        for row in rows:
            if row is None or all(v is None or v == "" for v in row):
                continue
            for i in range(len(header)):
                v = row[i] if i < len(row) else None
                cols[i].append(None if v is None else _cell_text(v))
    finally:
        wb.close()
    names = [h or f"column{i + 1}" for i, h in enumerate(header)]
    table = pa.table({n: pa.array(c, type=pa.string()) for n, c in zip(names, cols, strict=True)})
    return Read(con.from_arrow(table), 2)


def _cell_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def read_json(con: duckdb.DuckDBPyConnection, path: Path) -> Read:
    """A JSON array of objects, or ``{"rows": [...]}``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise unreadable(path, str(exc)[:300]) from None
    return Read(con.from_arrow(records_table(data, path.name)), 1)


def records_table(data: Any, name: str = "request") -> pa.Table:
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise unreadable(Path(name), "expected a list of objects (or {\"rows\": [...]})")
    keys: list[str] = []
    for r in rows:
        for k in r:
            if str(k) not in keys and str(k).strip():
                keys.append(str(k))
    if not keys:
        keys = ["indicator"]
    return pa.table({
        k: pa.array([None if r.get(k) is None else str(r.get(k)) for r in rows],
                    type=pa.string())
        for k in keys
    })


BUILTIN_READERS: dict[str, Reader] = {
    ".csv": read_csv, ".txt": read_csv, ".xlsx": read_xlsx, ".json": read_json,
}


def readers(runtime: Runtime) -> dict[str, Reader]:
    """Every reader by extension: the built-ins and those of plugins (plugins win)."""
    return collect_dict(runtime.plugins.hook.citygrowth_data_readers(runtime=runtime))


def reader_for(runtime: Runtime, path: Path) -> Reader:
    ext = path.suffix.lower()
    known = readers(runtime)
    found = known.get(ext)
    if found is None:
        raise ValidationFailed(
            "Files of type {ext} cannot be loaded (use {known}).", code="unsupported_file",
            ext=ext or "?", known=", ".join(sorted(known)),
        )
    return found
