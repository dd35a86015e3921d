"""One pagination convention for every JSON list (see docs/api.md).

A list answers the envelope :class:`Page`::

    {"ok": true, "items": [...], "next": "/api/cases?limit=100&cursor=…" | null, "total": n}

``limit`` says how many items a page holds (each list documents its default and maximum);
``cursor`` is opaque: pass back what ``next`` holds (the ``Link: <…>; rel="next"`` header holds
the same URL) and stop when ``next`` is null. ``total`` counts every matching item where that
is cheap, and is null where counting would cost as much as reading the list. A list may carry
a few summary fields beside ``items`` (such as ``counts``), named in its schema.

A route takes ``page: Annotated[PageRequest, paging(default, maximum)]`` and answers
``page.answer(rows, key=...)`` — ``rows`` being at most ``page.limit + 1`` items read after
``page.after`` in a stable order (*keyset* pagination: a cursor is the key of the last item
shown, so rows added meanwhile neither repeat nor vanish), or ``page.slice(rows)`` for a list
already computed whole in memory.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field

from citygrowth.errors import Problem, ValidationFailed

T = TypeVar("T")
Key = tuple[Any, ...]
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,400}$"


class Page(BaseModel, Generic[T]):
    """The envelope of every JSON list."""

    ok: Literal[True] = True
    items: list[T]
    next: str | None = Field(description="The URL of the next page (relative to this "
                                         "server), or null on the last page.")
    total: int | None = Field(default=None, description="How many items match in all; null "
                                                        "where counting is not cheap.")


# --- cursors ----------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, text), = value.items()
        if tag == "t" and isinstance(text, str):
            return dt.datetime.fromisoformat(text)
        if tag == "d" and isinstance(text, str):
            return dt.date.fromisoformat(text)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    raise ValueError(value)


def encode_cursor(key: Key) -> str:
    """An opaque cursor for the position after the item whose sort key is ``key``."""
    raw = json.dumps([_plain(v) for v in key], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
    """The key a cursor holds; a 422 naming ``cursor`` for anything not made here."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list):
            raise ValueError(values)
        return tuple(_typed(v) for v in values)
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError):
        raise ValidationFailed(problems=[Problem(
            "This cursor was not given by this list; start again without it.",
            field="cursor")]) from None


# --- the request side -------------------------------------------------------------------------

class PageRequest:
    """What page of a list the caller asks for; answers it in the envelope."""

    def __init__(self, request: Request, response: Response, limit: int,
                 cursor: str | None) -> None:
        self.request, self.response, self.limit = request, response, limit
        self.cursor = cursor
        self.after: Key | None = decode_cursor(cursor) if cursor else None

    def after_as(self, *types: type) -> Key | None:
        """``after`` checked against the types of the list's key (else a 422 on ``cursor``)."""
        if self.after is None:
            return None
        ok = len(self.after) == len(types) and all(
            v is None or isinstance(v, t) for v, t in zip(self.after, types, strict=True))
        if not ok:
            decode_cursor("!")  # raises the cursor's 422
        return self.after

    def next_url(self, key: Key) -> str:
        url = self.request.url.include_query_params(cursor=encode_cursor(key))
        root = self.request.scope.get("root_path", "")
        path = url.path if url.path.startswith(root) else root + url.path
        return f"{path}?{url.query}"

    def answer(self, rows: Sequence[T], key: Callable[[T], Key], *,
               total: int | None = None, items: Callable[[Sequence[T]], list[Any]] | None
               = None, **extra: Any) -> dict[str, Any]:
        """The envelope of ``rows`` (read as ``limit + 1`` after ``after``): the first
        ``limit`` of them, and ``next`` when there was one more."""
        shown = rows[: self.limit]
        nxt = self.next_url(key(shown[-1])) if len(rows) > self.limit and shown else None
        if nxt:
            self.response.headers["Link"] = f'<{nxt}>; rel="next"'
        body = list(shown) if items is None else items(shown)
        return {"ok": True, "items": body, "next": nxt, "total": total, **extra}

    def slice(self, rows: Sequence[T], *, total: bool = True,
              items: Callable[[Sequence[T]], list[Any]] | None = None,
              **extra: Any) -> dict[str, Any]:
        """A page of a list computed whole (bounded by the district's size): the cursor holds
        the position. ``items`` turns the rows shown into what is answered."""
        after = self.after_as(int)
        start = after[0] if after else 0
        window = rows[start: start + self.limit + 1]
        shown = window[: self.limit]
        end = start + len(shown)
        nxt = self.next_url((end,)) if len(window) > self.limit else None
        if nxt:
            self.response.headers["Link"] = f'<{nxt}>; rel="next"'
        return {"ok": True, "items": list(shown) if items is None else items(shown),
                "next": nxt, "total": len(rows) if total else None, **extra}


def paging(default: int = 100, maximum: int = 1000) -> Any:
    """The ``Depends`` of a list's ``limit`` (documented default and maximum) and ``cursor``."""
    def dependency(request: Request, response: Response, limit: int = default,
                   cursor: str | None = None) -> PageRequest:
        return PageRequest(request, response, limit, cursor)

    # real objects, not the strings ``from __future__ import annotations`` would leave
    dependency.__annotations__ = {
        "request": Request, "response": Response,
        "limit": Annotated[int, Query(ge=1, le=maximum, description=(
            f"Items per page: {default} unless given, at most {maximum}."))],
        "cursor": Annotated[str | None, Query(pattern=CURSOR_PATTERN, description=(
            "Opaque: the position to go on from, as given in `next`."))],
        "return": PageRequest}
    return Depends(dependency)
