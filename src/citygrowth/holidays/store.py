"""The holiday calendar of an installation, built from the notices in its store.

Each runtime has one :class:`HolidayCalendars` (``runtime.holidays``); ``runtime.calendar`` is
the case settings' working periods on its :meth:`~HolidayCalendars.current` calendar. The
calendar is read again when the notices' version (their count and latest load time) changes;
the version is checked at most every ``CHECK_SECONDS``, so a notice loaded through another
worker or host is in force within seconds, and at once in the process that loaded it
(:meth:`~HolidayCalendars.forget`). Nothing is kept in a module global: two apps on two stores
never share notices.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from citygrowth.holidays.models import HolidayDay, HolidayNotice
from citygrowth.logging_setup import get_logger
from citygrowth.workdays import STATUTORY, HolidayCalendar, YearNotice

log = get_logger(__name__)
CHECK_SECONDS = 5.0


def _rows(conn: Connection | Session) -> HolidayCalendar:
    notices: dict[int, tuple[str, dict[dt.date, str], dict[dt.date, str]]] = {
        year: (title, {}, {}) for year, title in conn.execute(
            select(HolidayNotice.year, HolidayNotice.title))}
    for day, year, kind, name in conn.execute(
            select(HolidayDay.day, HolidayDay.year, HolidayDay.kind, HolidayDay.name)):
        _title, off, on = notices[year]
        (off if kind == "holiday" else on)[day] = name
    return HolidayCalendar({year: YearNotice(year, off, on, title)
                            for year, (title, off, on) in notices.items()})


def read_calendar(session: Session) -> HolidayCalendar:
    """A calendar with every notice ``session`` sees (its own uncommitted changes included)."""
    return _rows(session)


class HolidayCalendars:
    """The holiday calendar of one runtime's store, read again when its notices change."""

    def __init__(self, engine: Callable[[], Engine], clock: Callable[[], float] = time.monotonic,
                 check_seconds: float = CHECK_SECONDS) -> None:
        self._engine = engine
        self._clock = clock
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        self._version: tuple[Any, ...] | None = None
        self._calendar: HolidayCalendar = STATUTORY
        self._checked = -1e18

    def current(self) -> HolidayCalendar:
        """The calendar with every loaded notice (checked against the store every few
        seconds)."""
        with self._lock:
            now = self._clock()
            if now - self._checked < self._check_seconds:
                return self._calendar
            self._checked = now
            try:
                with self._engine().connect() as conn:
                    version = tuple(conn.execute(select(
                        func.count(HolidayNotice.year), func.max(HolidayNotice.loaded_at))).one())
                    if version != self._version:
                        self._calendar = _rows(conn)
                        self._version = version
            except SQLAlchemyError:  # a store not yet migrated: the statutory calendar
                log.warning("holiday notices could not be read; using chinese_calendar")
            return self._calendar

    def forget(self) -> None:
        """Read the store again on the next use (after this process changed the notices)."""
        with self._lock:
            self._checked = -1e18
            self._version = None
