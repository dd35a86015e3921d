"""Bulk exports streamed as they are read: CSV from Arrow batches, and Apache Parquet.

Small and row-by-row tables are answered by :mod:`citygrowth.web.render` (``csv_response``
streams a generator of rows). This module adds what a large columnar export needs:
:func:`arrow_csv_lines` writes Arrow record batches as CSV with Arrow's own writer, every text
and time cell passed through render's one cell rule (:func:`citygrowth.web.render.csv_cell`:
formula-safe text, times in the district's zone); :func:`parquet_stream` writes the batches as
one Parquet file, a row group per batch, handing each finished piece of the file to the client
before reading the next batch. Both are sent by a ``StreamingResponse`` whose iterator runs in
a worker thread (off the event loop).

A source of batches is a function returning an iterator, called only when the answer is sent:
it opens what it reads from (a DuckDB cursor) itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from fastapi.responses import StreamingResponse

from citygrowth.web.render import Column, csv_cell, csv_lines, disposition

PARQUET_MEDIA = "application/vnd.apache.parquet"


def arrow_csv_lines(batches: Iterable[pa.RecordBatch], cols: Sequence[Column],
                    locale: str | None = None, tz: ZoneInfo | None = None) -> Iterator[bytes]:
    """CSV from Arrow record batches, one piece per batch: BOM and the header row (in the
    reader's language) first, as :func:`citygrowth.web.render.csv_lines` writes them."""
    yield from csv_lines(cols, (), locale)
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed", eol="\r\n")
    for rb in batches:
        sink = pa.BufferOutputStream()
        pacsv.write_csv(_safe_batch(rb, tz), sink, options)
        yield sink.getvalue().to_pybytes()


def _safe_batch(rb: pa.RecordBatch, tz: ZoneInfo | None) -> pa.RecordBatch:
    """Text and time columns through :func:`csv_cell`, each distinct value once (codes, units
    and vintages repeat across a batch)."""
    columns = []
    for col in rb.columns:
        if (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
                or pa.types.is_timestamp(col.type)):
            coded = pc.dictionary_encode(col)
            cells = pa.array([csv_cell(v, tz) for v in coded.dictionary.to_pylist()],
                             type=pa.string())
            col = pc.take(cells, coded.indices)
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
                             headers={"Content-Disposition": disposition(name, "parquet")})
