"""Storage failures: a full disk, a read-only store, a locked or unreachable database.

They are the server's trouble, not the caller's, and they pass: :func:`storage_failure` turns
the low-level error (SQLite's or PostgreSQL's, an ``OSError`` of the data folder, DuckDB's)
into :class:`StorageUnavailable` — a 503 with ``Retry-After`` in the caller's language, saying
that nothing was saved — and :func:`log_storage_failure` writes one line per failure (no
traceback; repeats of the same kind within a minute are counted into the next line), where a
traceback per failure used to fill a full disk further.

Anything else is not a storage failure and stays what it is.
"""

from __future__ import annotations

import errno
import sqlite3
import threading
import time
from typing import Any

import duckdb
from sqlalchemy.exc import DBAPIError

from citygrowth.errors import CityGrowthError
from citygrowth.i18n import N_
from citygrowth.logging_setup import get_logger

log = get_logger(__name__)

FULL, READ_ONLY, BUSY, UNREACHABLE = "full", "read_only", "busy", "unreachable"
MESSAGES = {
    FULL: N_("The server's storage is full; nothing was saved. Please try again later."),
    READ_ONLY: N_("The server's storage cannot be written to at the moment; nothing was saved. "
                  "Please try again later."),
    BUSY: N_("The data store is busy; nothing was saved. Please try again in a moment."),
    UNREACHABLE: N_("The data store cannot be reached at the moment; nothing was saved. "
                    "Please try again later."),
}
RETRY_AFTER = {FULL: 60, READ_ONLY: 60, BUSY: 5, UNREACHABLE: 30}

# SQLite's primary result codes (the low byte of an extended code)
_SQLITE = {5: BUSY, 6: BUSY, 8: READ_ONLY, 10: UNREACHABLE, 13: FULL, 14: UNREACHABLE}
# PostgreSQL SQLSTATE classes and codes
_PG_CODES = {"53100": FULL, "25006": READ_ONLY, "55P03": BUSY, "57P03": UNREACHABLE,
             "57P01": UNREACHABLE, "57P02": UNREACHABLE, "40001": BUSY, "40P01": BUSY}
_PG_CLASSES = {"08": UNREACHABLE, "53": FULL, "58": UNREACHABLE}
_ERRNO = {errno.ENOSPC: FULL, errno.EDQUOT: FULL, errno.EROFS: READ_ONLY,
          errno.EIO: UNREACHABLE}
_TEXTS = (("no space left", FULL), ("disk is full", FULL), ("disk full", FULL),
          ("read-only", READ_ONLY), ("readonly", READ_ONLY), ("database is locked", BUSY))


class StorageUnavailable(CityGrowthError):
    """The store could not be written (or read) just now; the request changed nothing."""

    status = 503
    code = "storage_unavailable"
    message = MESSAGES[UNREACHABLE]

    def __init__(self, message: str | None = None, *, kind: str = UNREACHABLE,
                 detail: str = "", **params: Any) -> None:
        super().__init__(message or MESSAGES.get(kind, MESSAGES[UNREACHABLE]), **params)
        self.kind = kind
        self.detail = detail
        self.retry_after = RETRY_AFTER.get(kind, 30)


def failure_kind(exc: BaseException) -> str | None:
    """``full``, ``read_only``, ``busy`` or ``unreachable`` when ``exc`` (or what it wraps) is
    a storage failure, else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = _kind_of(current)
        if kind is not None:
            return kind
        current = current.__cause__ or current.__context__
    return None


def _kind_of(exc: BaseException) -> str | None:
    if isinstance(exc, DBAPIError):
        return _kind_of(exc.orig) if exc.orig is not None else None
    if isinstance(exc, sqlite3.Error):
        code: Any = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int) and (code & 0xFF) in _SQLITE:
            return _SQLITE[code & 0xFF]
        return _by_text(str(exc)) if isinstance(exc, sqlite3.OperationalError) else None
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        return _PG_CODES.get(sqlstate) or _PG_CLASSES.get(sqlstate[:2])
    if type(exc).__module__.startswith("psycopg") and type(exc).__name__ == "OperationalError":
        return UNREACHABLE  # psycopg's connection failures carry no SQLSTATE
    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        return _ERRNO[exc.errno]
    if isinstance(exc, duckdb.IOException):
        return _by_text(str(exc))
    return None


def _by_text(text: str) -> str | None:
    low = text.lower()
    return next((kind for needle, kind in _TEXTS if needle in low), None)


def storage_failure(exc: BaseException) -> StorageUnavailable | None:
    """The 503 to answer for ``exc``, or None when it is not a storage failure."""
    if isinstance(exc, StorageUnavailable):
        return exc
    kind = failure_kind(exc)
    return None if kind is None else StorageUnavailable(kind=kind, detail=_first_line(exc))


def _first_line(exc: BaseException) -> str:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0][:300]


class _Throttle:
    """At most one line per kind and ``every`` seconds; the lines held back are counted."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(self, kind: str, now: float | None = None) -> int | None:
        """None to hold this line back; else how many were held back since the last one."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if now - self._last.get(kind, -self.every) < self.every:
                self._held[kind] = self._held.get(kind, 0) + 1
                return None
            self._last[kind] = now
            return self._held.pop(kind, 0)


_throttle = _Throttle()


def log_storage_failure(failure: StorageUnavailable, where: str) -> None:
    """One line for this failure (or none, counted into the next line, within a minute)."""
    held = _throttle.admit(failure.kind)
    if held is not None:
        log.error("storage_unavailable", kind=failure.kind, where=where, error=failure.detail,
                  similar_failures_not_logged=held)
