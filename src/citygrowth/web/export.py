"""Bulk exports streamed as they are read: CSV and Apache Parquet, never all rows at once.

:func:`csv_stream` writes rows (mappings) as CSV in pieces — UTF-8 with a byte-order mark so
Excel reads Chinese, text that a spreadsheet would run as a formula prefixed with ``'``.
:func:`parquet_stream` writes Arrow record batches as one Parquet file, a row group per batch,
handing each finished piece of the file to the client before reading the next batch. Both
answer a ``StreamingResponse`` whose iterator runs in a worker thread (off the event loop).

A source of rows is a function returning an iterator, called only when the answer is sent:
it opens what it reads from (a database session, a DuckDB cursor) itself, because the
request's own session is closed by then.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from fastapi.responses import StreamingResponse

CSV_MEDIA = "text/csv; charset=utf-8"
PARQUET_MEDIA = "application/vnd.apache.parquet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = pa.array(FORMULA_START)


def disposition(name: str) -> str:
    """``attachment`` with the file name (and ``filename*`` when it is not ASCII)."""
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    value = f'attachment; filename="{ascii_name}"'
    return value if ascii_name == name else value + f"; filename*=UTF-8''{quote(name)}"


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _Pieces:
    """A file for ``csv.writer`` that hands back what was written since last asked."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> bytes:
        out, self.parts = "".join(self.parts), []
        return out.encode("utf-8")


def csv_lines(header: Sequence[str], keys: Sequence[str], rows: Iterable[Mapping[str, Any]],
              batch: int = 1000) -> Iterator[bytes]:
    """The CSV file in pieces of ``batch`` rows: BOM and header first."""
    out = _Pieces()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow([csv_cell(h) for h in header])
    yield out.take()
    for n, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(row.get(k)) for k in keys])
        if n % batch == 0:
            yield out.take()
    if tail := out.take():
        yield tail


def csv_stream(header: Sequence[str], keys: Sequence[str],
               rows: Callable[[], Iterable[Mapping[str, Any]]], name: str) -> StreamingResponse:
    """A CSV download streamed from ``rows()`` (header names, then the rows' ``keys``)."""
    def pieces() -> Iterator[bytes]:
        yield from csv_lines(header, keys, rows())

    return StreamingResponse(pieces(), media_type=CSV_MEDIA,
                             headers={"Content-Disposition": disposition(name + ".csv")})


def arrow_csv_lines(batches: Iterable[pa.RecordBatch], header: Sequence[str]) -> Iterator[bytes]:
    """CSV from Arrow record batches, one piece per batch, written by Arrow's own CSV writer:
    text cells made formula-safe, times as ISO 8601 with their offset."""
    out = _Pieces()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow([csv_cell(h) for h in header])
    yield out.take()
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed", eol="\r\n")
    for rb in batches:
        sink = pa.BufferOutputStream()
        pacsv.write_csv(_safe_batch(rb), sink, options)
        yield sink.getvalue().to_pybytes()


def _safe_batch(rb: pa.RecordBatch) -> pa.RecordBatch:
    columns = []
    for col in rb.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            first = pc.utf8_slice_codeunits(col, 0, 1)
            risky = pc.is_in(first, value_set=FORMULA_FIRST)
            if pc.any(risky).as_py():
                col = pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)
        elif pa.types.is_timestamp(col.type):  # few distinct times (vintages): format each once
            coded = pc.dictionary_encode(col).combine_chunks() if isinstance(
                col, pa.ChunkedArray) else pc.dictionary_encode(col)
            text = pc.strftime(coded.dictionary, format="%Y-%m-%dT%H:%M:%S%z" if col.type.tz
                               else "%Y-%m-%dT%H:%M:%S")
            col = pc.take(text, coded.indices)
        columns.append(col)
    return pa.RecordBatch.from_arrays(columns, names=rb.schema.names)


class _Sink:
    """A write-only file for Parquet that keeps only what was written since last asked."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.closed = False
        self.position = 0

    def write(self, data: bytes | memoryview) -> int:
        self.buffer += data
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out = bytes(self.buffer)
        self.buffer.clear()
        return out


def parquet_lines(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """The Parquet file in pieces: each batch a row group, the footer last."""
    sink = _Sink()
    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")
    try:
        for rb in batches:
            writer.write_batch(rb)
            if piece := sink.take():
                yield piece
    finally:
        writer.close()
    yield sink.take()


def parquet_stream(schema: pa.Schema, batches: Callable[[], Iterable[pa.RecordBatch]],
                   name: str) -> StreamingResponse:
    """A Parquet download streamed from ``batches()``."""
    def pieces() -> Iterator[bytes]:
        yield from parquet_lines(schema, batches())

    return StreamingResponse(pieces(), media_type=PARQUET_MEDIA,
                             headers={"Content-Disposition": disposition(name + ".parquet")})
