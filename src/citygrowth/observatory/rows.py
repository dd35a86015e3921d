"""Rows of :meth:`ObservationStore.page` as the API answers them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from citygrowth.observatory.store import QUERY_COLUMNS


def page_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The sort key (:data:`~citygrowth.observatory.store.PAGE_KEY`) of a row: what a cursor
    holds."""
    indicator, area_code, period = row[0], row[1], row[2]
    return indicator, area_code, row[len(QUERY_COLUMNS)], period


def observation(row: tuple[Any, ...]) -> dict[str, Any]:
    """The row as ``{indicator, area_code, period, freq, value, unit, load_id, vintage}``
    (the vintage in ISO 8601, UTC; NaN as null)."""
    out = dict(zip(QUERY_COLUMNS, row, strict=False))
    vintage = out["vintage"]
    out["vintage"] = vintage.astimezone(dt.UTC).isoformat() if vintage is not None else None
    if out["value"] is not None and out["value"] != out["value"]:
        out["value"] = None
    return out
