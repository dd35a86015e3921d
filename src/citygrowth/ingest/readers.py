"""Readers of uploaded data files, registered by extension through ``citygrowth_data_readers``.

A reader is ``reader(con, path) -> Read``: it turns a file into a DuckDB relation whose columns
are the file's columns (any types; text is fine) in file order, plus ``first_row``, the row
number users see for the first record (2 for a spreadsheet or CSV with a header row, 1 for
the first element of a JSON array). The built-in readers are registered the same way as a
plugin's (``ingest/plugin.py``).

Before any reader sees an uploaded file, :func:`check_upload` holds it to the
:class:`ReadLimits` (from the settings): a workbook's (zip archive's) declared and actual
uncompressed size and compression ratio are checked member by member, without keeping what is
inflated, before openpyxl or DuckDB open it; then the number of rows and columns. A refusal
names the file and the limit.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from openpyxl import load_workbook

from citygrowth.errors import Problem, ValidationFailed
from citygrowth.i18n import N_
from citygrowth.plugins import collect_dict
from citygrowth.runtime import Runtime
from citygrowth.settings import Settings
from citygrowth.web.body import human_size


@dataclass(frozen=True)
class ReadLimits:
    """What an uploaded file may hold (``Settings.max_*``)."""

    uncompressed_bytes: int = 200 * 2**20
    compression_ratio: int = 100
    rows: int = 10_000_000
    columns: int = 200

    @classmethod
    def of(cls, settings: Settings) -> ReadLimits:
        return cls(uncompressed_bytes=settings.max_uncompressed_mb * 2**20,
                   compression_ratio=settings.max_compression_ratio,
                   rows=settings.max_upload_rows, columns=settings.max_upload_columns)


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


# --- limits, checked before any reader opens an upload ------------------------------------------

_ROW = re.compile(rb"<(?:\w+:)?row[\s>/]")
_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")
_ROW_END = re.compile(rb"</(?:\w+:)?row>|<(?:\w+:)?row\b[^>]*/>")
_SHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$")
ZIP_MEMBERS_MAX = 10_000


def _refuse(path: Path, message: str, code: str, status: int = 422,
            **params: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, status=status, file=path.name, problems=[
        Problem(message, {"file": path.name, **params}, file=path.name)], **params)


def too_many_rows(path: Path, limit: int) -> ValidationFailed:
    return _refuse(path, N_("The file {file} has more than {limit} rows; split it into smaller "
                            "files."), "too_many_rows", limit=f"{limit:,}")


def too_many_columns(path: Path, limit: int) -> ValidationFailed:
    return _refuse(path, N_("The file {file} has more than {limit} columns."),
                   "too_many_columns", limit=limit)


def check_upload(path: Path, limits: ReadLimits) -> None:
    """Hold an uploaded file to ``limits`` before a reader opens it (see the module's
    docstring); raises :class:`ValidationFailed` naming the file and the limit."""
    ext = path.suffix.lower()
    if ext == ".xlsx" or _is_zip(path):
        check_archive(path, limits)
    elif ext in (".csv", ".txt"):
        _check_text_table(path, limits)
    elif ext == ".json":
        records_table(_load_json(path), path.name, limits)


def _is_zip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def check_archive(path: Path, limits: ReadLimits) -> None:
    """A workbook is a zip archive: its declared uncompressed size, its compression ratio, and
    then its actual size (inflated member by member and thrown away, so a lying header is
    caught too) must stay within ``limits``; so must each worksheet's rows and header
    columns."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise unreadable(path, "not a valid .xlsx workbook (zip archive)") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > ZIP_MEMBERS_MAX:
            raise unreadable(path, f"more than {ZIP_MEMBERS_MAX} parts in the archive")
        declared = sum(i.file_size for i in infos)
        _check_unpacked(path, declared, limits)
        actual = 0
        for info in infos:
            actual = _inflate(archive, info, path, actual, limits)


def _check_unpacked(path: Path, size: int, limits: ReadLimits) -> None:
    if size > limits.uncompressed_bytes:
        raise _refuse(path, N_("The file {file} unpacks to more than {limit} (a workbook is a "
                               "zip archive); nothing was loaded."), "too_large", 413,
                      limit=human_size(limits.uncompressed_bytes))
    ratio = size / max(1, path.stat().st_size)
    if ratio > limits.compression_ratio:
        raise _refuse(path, N_("The file {file} unpacks to {ratio} times its size, more than "
                               "the {limit} times a workbook may; it was not opened."),
                      "zip_bomb", 422,
                      ratio=int(ratio), limit=limits.compression_ratio)


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, total: int,
             limits: ReadLimits) -> int:
    """Inflate one member, counting bytes (and a worksheet's rows); returns the new total."""
    sheet = _SHEET.match(info.filename) is not None
    rows, head, tail = 0, b"", b""
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(1 << 20):
                total += len(chunk)
                _check_unpacked(path, total, limits)
                if sheet:
                    rows += len(_ROW.findall(tail + chunk))
                    tail = chunk[-8:]
                    if len(head) < 1 << 20:
                        head += chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError):
        raise unreadable(path, "a damaged .xlsx workbook (zip archive)") from None
    if sheet:
        if rows > limits.rows + 1:
            raise too_many_rows(path, limits.rows)
        first = _ROW.search(head)
        end = _ROW_END.search(head, first.start()) if first else None
        if first and len(_CELL.findall(head[first.start():end.end() if end else None]))\
                > limits.columns:
            raise too_many_columns(path, limits.columns)
    return total


def _check_text_table(path: Path, limits: ReadLimits) -> None:
    """Lines (an upper bound of the rows) and the header's fields of a CSV file."""
    lines = 0
    with path.open("rb") as fh:
        header = fh.readline(1 << 20)
        fields = max(header.count(d) for d in (b",", b";", b"\t", b"|")) + 1
        if fields > limits.columns:
            raise too_many_columns(path, limits.columns)
        while chunk := fh.read(1 << 22):
            lines += chunk.count(b"\n")
            if lines > limits.rows:
                raise too_many_rows(path, limits.rows)


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
        header = [str(h).strip() if h is not None else ""
                  for h in next(ws.iter_rows(max_row=1, values_only=True), ())]
        while header and not header[-1]:
            header.pop()  # styled but empty cells right of the header
        rows = ws.iter_rows(min_row=2, max_col=max(1, len(header)), values_only=True)
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
    return Read(con.from_arrow(records_table(_load_json(path), path.name)), 1)


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise unreadable(path, str(exc)[:300]) from None


def records_table(data: Any, name: str = "request", limits: ReadLimits | None = None
                  ) -> pa.Table:
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise unreadable(Path(name), "expected a list of objects (or {\"rows\": [...]})")
    if limits and len(rows) > limits.rows:
        raise too_many_rows(Path(name), limits.rows)
    keys: dict[str, None] = {}
    for r in rows:
        for k in r:
            if str(k).strip():
                keys.setdefault(str(k))
        if limits and len(keys) > limits.columns:
            raise too_many_columns(Path(name), limits.columns)
    if not keys:
        keys = {"indicator": None}
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
