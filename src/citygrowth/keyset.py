"""Keyset pagination in SQL: read the rows after a given row's sort key, not at an offset.

An offset makes the database read and throw away every row before the page, and a row added
meanwhile shifts every later page; the rows after a key are found through the index at once,
and the same rows come back whatever was added before them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

Key = tuple[Any, ...]


def keyset(order: Sequence[tuple[Any, bool]], after: Key | None) -> ColumnElement[bool] | None:
    """The SQL condition "after ``after``" for rows ordered by ``order`` — pairs of a column
    (or expression) and whether it sorts descending; None on the first page. The order must
    end in a unique column (an id) for no row to be skipped or repeated."""
    if after is None:
        return None
    terms = []
    for i, (col, descending) in enumerate(order):
        same = [c == v for (c, _), v in zip(order[:i], after[:i], strict=True)]
        terms.append(and_(*same, col < after[i] if descending else col > after[i]))
    return or_(*terms)
