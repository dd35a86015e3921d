"""How times and deadlines read on the governance pages: local time in the district's zone,
and the working time left before a deadline (or how far past it a case is)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from starlette.requests import Request

from citygrowth.governance.sla import WorkCalendar
from citygrowth.i18n import translate


def local_text(value: dt.datetime | None, tz: ZoneInfo, seconds: bool = False) -> str:
    """``2026-12-05 09:30`` in ``tz`` (empty for no time)."""
    if value is None:
        return ""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def hours_text(hours: float) -> str:
    """Working hours as people say them: ``3.5 h`` / ``3.5小时``, under an hour in minutes."""
    if hours < 1:
        return translate("{n} min").format(n=max(1, round(hours * 60)))
    return translate("{n} h").format(n=f"{hours:.1f}".rstrip("0").rstrip("."))


def remaining(due: dt.datetime | None, now: dt.datetime, calendar: WorkCalendar) -> str:
    """``剩余 3.5 工作小时`` before the deadline, ``已超期 2 工作小时`` after it."""
    if due is None:
        return ""
    if due >= now:
        return translate("{time} of working time left").format(
            time=hours_text(calendar.working_hours_between(now, due)))
    return translate("overdue by {time} of working time").format(
        time=hours_text(calendar.working_hours_between(due, now)))


def root_path(request: Request) -> str:
    """The prefix the app is mounted under (``/citygrowth``; empty at the root), for redirects."""
    return str(request.scope.get("root_path", ""))


