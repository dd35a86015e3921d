"""SDMX-CSV 2.0 (``application/vnd.sdmx.data+csv;version=2.0.0``)."""

from __future__ import annotations

import csv
import io

import pandas as pd

from citygrowth.exchange.sdmx.data import (
    DIMENSIONS,
    OBS_ATTRIBUTES,
    SERIES_ATTRIBUTES,
    format_value,
)
from citygrowth.exchange.sdmx.model import PRIMARY_MEASURE, TIME_DIMENSION, StructureSet
from citygrowth.exchange.sdmx.structure import FLOW_ID


def write_sdmx_csv(ss: StructureSet, rows: pd.DataFrame, detail: str = "full",
                   flow: str = FLOW_ID) -> bytes:
    """One row per observation: STRUCTURE, STRUCTURE_ID, ACTION, dimensions, value, attributes.

    ``dataonly`` leaves out attribute columns; ``serieskeysonly`` writes each series key once;
    ``nodata`` writes series keys with their series attributes.
    """
    sid = f"{ss.agency}:{flow}({ss.version})"
    dims = list(DIMENSIONS)
    cols: list[str] = [*dims, PRIMARY_MEASURE, *SERIES_ATTRIBUTES, *OBS_ATTRIBUTES]
    if detail == "dataonly":
        cols = [*dims, PRIMARY_MEASURE]
    elif detail in ("serieskeysonly", "nodata"):
        dims.remove(TIME_DIMENSION)
        cols = dims + (list(SERIES_ATTRIBUTES) if detail == "nodata" else [])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["STRUCTURE", "STRUCTURE_ID", "ACTION", *cols])
    table = rows[cols] if not rows.empty else rows.reindex(columns=cols)
    if detail in ("serieskeysonly", "nodata"):
        table = table.drop_duplicates(subset=dims)
    for rec in table.itertuples(index=False, name=None):
        values = [format_value(v) if c == PRIMARY_MEASURE else ("" if v is None else str(v))
                  for c, v in zip(cols, rec, strict=True)]
        w.writerow(["dataflow", sid, "I", *values])
    return buf.getvalue().encode("utf-8")
