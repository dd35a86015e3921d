"""Loading, showing and removing holiday notices; what the calendar knows.

Loading a year's notice (or replacing or removing one) recomputes the deadline of every case
whose handling clock runs into that year, so deadlines set before the notice was loaded are
put right, and publishes ``calendar.changed``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import require
from citygrowth.errors import Conflict, NotFound
from citygrowth.events import publish_on_commit
from citygrowth.governance.lifecycle import RUNNING, refresh_clock
from citygrowth.governance.models import Case, open_term
from citygrowth.holidays.models import HolidayDay, HolidayNotice
from citygrowth.holidays.notice import NoticeInput, default_title
from citygrowth.holidays.store import read_calendar
from citygrowth.i18n import N_, translate
from citygrowth.runtime import Runtime
from citygrowth.workdays import HolidayCalendar

MANAGE = "calendar.manage"
VIEW = "calendar.view"
SOURCES = {"notice": N_("loaded notice"), "package": N_("chinese_calendar package"),
           "weekdays": N_("not known: Monday to Friday counted as working days")}


@dataclass
class LoadResult:
    year: int
    holidays: int
    workdays: int
    replaced: bool
    recomputed: int


def _recompute_deadlines(session: Session, runtime: Runtime, year: int) -> int:
    """Recompute the deadline of every running case whose clock reaches ``year``, on the
    notices as this transaction sees them."""
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC) - dt.timedelta(days=1)
    cases = list(session.scalars(select(Case).where(
        open_term(implied=True), Case.status.in_(RUNNING), Case.due_at.is_not(None),
        Case.due_at >= start)))
    calendar = runtime.calendar.with_days(read_calendar(session))
    for case in cases:
        refresh_clock(session, case, calendar, runtime.cases.warn_fraction)
    session.flush()
    return len(cases)


def load_notice(session: Session, actor: Actor, notice: NoticeInput, *, runtime: Runtime,
                replace: bool = False) -> LoadResult:
    """Store a year's notice (all or nothing); ``replace`` to overwrite a loaded one."""
    require(actor, MANAGE, None)
    existing = session.get(HolidayNotice, notice.year)
    if existing is not None and not replace:
        raise Conflict(N_("The notice for {year} is loaded already; replace it explicitly."),
                       code="notice_exists", year=notice.year)
    if existing is not None:
        session.delete(existing)
        session.flush()
    row = HolidayNotice(year=notice.year, title=notice.title, document=notice.document,
                        published_on=notice.published_on, source=notice.source[:300],
                        loaded_by=actor.username)
    row.days = ([HolidayDay(day=d, kind="holiday", name=n)
                 for d, n in sorted(notice.holidays.items())]
                + [HolidayDay(day=d, kind="workday", name=n)
                   for d, n in sorted(notice.workdays.items())])
    session.add(row)
    session.flush()
    recomputed = _recompute_deadlines(session, runtime, notice.year)
    record(session, actor, "calendar.load", f"calendar:{notice.year}",
           {"holidays": len(notice.holidays), "workdays": len(notice.workdays),
            "replaced": existing is not None, "source": notice.source[:100],
            "recomputed_cases": recomputed})
    runtime.holidays.forget()  # read again from the next use (other processes within seconds)
    publish_on_commit(session, runtime.bus, "calendar.changed",
                      {"year": notice.year, "recomputed": recomputed})
    return LoadResult(notice.year, len(notice.holidays), len(notice.workdays),
                      existing is not None, recomputed)


def remove_notice(session: Session, actor: Actor, year: int, *, runtime: Runtime) -> int:
    """Remove a loaded notice (the year falls back to the package or to Monday–Friday);
    returns how many case deadlines were recomputed."""
    require(actor, MANAGE, None)
    existing = session.get(HolidayNotice, year)
    if existing is None:
        raise NotFound(N_("No notice is loaded for {year}."), code="no_notice", year=year)
    session.delete(existing)
    session.flush()
    recomputed = _recompute_deadlines(session, runtime, year)
    record(session, actor, "calendar.remove", f"calendar:{year}",
           {"recomputed_cases": recomputed})
    runtime.holidays.forget()
    publish_on_commit(session, runtime.bus, "calendar.changed",
                      {"year": year, "recomputed": recomputed})
    return recomputed


def _runs(days: dict[dt.date, str]) -> list[dict[str, Any]]:
    """Consecutive days of one festival joined: [{name, start, end, days}]."""
    out: list[dict[str, Any]] = []
    for day in sorted(days):
        if out and out[-1]["name"] == days[day] and out[-1]["end"] == day - dt.timedelta(days=1):
            out[-1]["end"] = day
            out[-1]["days"] += 1
        else:
            out.append({"name": days[day], "start": day, "end": day, "days": 1})
    return out


def year_view(session: Session, actor: Actor, year: int) -> dict[str, Any]:
    """What the calendar says about ``year``: its source, holidays and make-up days."""
    require(actor, VIEW, None)
    calendar = read_calendar(session)
    source = calendar.source(year)
    off, on = calendar.special_days(year)
    notice = session.get(HolidayNotice, year)
    return {
        "year": year, "source": source, "source_label": translate(SOURCES[source]),
        "known": calendar.knows(year),
        "title": notice.title if notice else "", "document": notice.document if notice else "",
        "published_on": notice.published_on.isoformat() if notice and notice.published_on
        else None,
        "loaded_by": notice.loaded_by if notice else None,
        "loaded_at": notice.loaded_at if notice else None,
        "holidays": _runs(off), "workdays": [{"day": d, "name": n} for d, n in sorted(on.items())],
        "holiday_days": len(off), "working_days": sum(
            calendar.is_workday(dt.date(year, 1, 1) + dt.timedelta(days=i))
            for i in range((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days)),
    }


def as_notice(session: Session, actor: Actor, year: int) -> NoticeInput:
    """The calendar's view of ``year`` as a notice (to export, correct and load again)."""
    require(actor, VIEW, None)
    calendar = read_calendar(session)
    off, on = calendar.special_days(year)
    notice = session.get(HolidayNotice, year)
    return NoticeInput(year=year, title=notice.title if notice else default_title(year),
                       document=notice.document if notice else "",
                       published_on=notice.published_on if notice else None,
                       holidays=off, workdays=on)


def overview(session: Session, actor: Actor, today: dt.date) -> list[dict[str, Any]]:
    """Every year from the first the package knows to next year, with its source."""
    require(actor, VIEW, None)
    calendar = read_calendar(session)
    notices = {n.year: n for n in session.scalars(select(HolidayNotice))}
    years = sorted(set(calendar.known_years()) | {today.year, today.year + 1})
    return [{"year": y, "source": calendar.source(y),
             "source_label": translate(SOURCES[calendar.source(y)]),
             "known": calendar.knows(y), "loaded_by": notices[y].loaded_by if y in notices
             else None} for y in reversed(years)]


def calendar_status(session: Session, runtime: Runtime) -> dict[str, Any]:
    """:func:`calendar_health` of the store: this year and the years from the earliest to
    the latest deadline of a running case (the clock runs through every year between)."""
    first, last = session.execute(select(func.min(Case.due_at), func.max(Case.due_at)).where(
        open_term(implied=True), Case.status.in_(RUNNING), Case.due_at.is_not(None))).one()
    reached = [] if first is None or last is None else [
        dt.date(y, 1, 1) for y in range(runtime.local(first).year,
                                        runtime.local(last).year + 1)]
    return calendar_health(read_calendar(session), runtime.today(), reached)


def calendar_health(calendar: HolidayCalendar, today: dt.date,
                    reached: Iterable[dt.date] = ()) -> dict[str, Any]:
    """For data health: the years whose holidays are missing although they matter now —
    this year, any year an open deadline reaches — and next year (to load when published)."""
    reached_years = sorted({d.year for d in reached if not calendar.knows(d.year)})
    missing = sorted(set(reached_years) | ({today.year} if not calendar.knows(today.year)
                                            else set()))
    known = calendar.known_years()
    return {"known_through": max(known) if known else None, "missing": missing,
            "deadlines_reach": reached_years,
            "next_year": today.year + 1, "next_year_known": calendar.knows(today.year + 1),
            "ok": not missing}
