"""Intake: a report becomes a case — once, durably, in the right grid cell.

``submit_report`` is used by every channel (grid workers' patrol app, the resident form,
Open311, the JSON API). A position is turned into a grid cell with the areas domain's
``GridLocator``; an ``Idempotency-Key`` (made on the phone, kept across retries) or — for
Open311 clients that retry without one — an identical report from the same device within
``retry_window_seconds`` returns the case already made instead of a second one. Callers commit
before they acknowledge (the routes do), so an acknowledged report is durable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from citygrowth.areas.locator import get_locator
from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor, Grant
from citygrowth.auth.permissions import require
from citygrowth.errors import Problem, ValidationFailed
from citygrowth.events import publish_on_commit
from citygrowth.governance import media
from citygrowth.governance.lifecycle import case_changed, report_event
from citygrowth.governance.models import Case, CaseCategory, CaseEvent, open_term
from citygrowth.inputs import text_problem
from citygrowth.runtime import Runtime

SOURCES = ("patrol", "resident", "open311", "api", "hotline")


@dataclass
class ReportInput:
    category_code: str
    lon: float | None = None
    lat: float | None = None
    area_code: str | None = None
    description: str = ""
    address: str = ""
    photos: list[str] = field(default_factory=list)
    source: str = "api"
    idempotency_key: str | None = None
    device_id: str = ""
    account_id: str = ""
    contact: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    component_id: str | None = None


@dataclass(frozen=True)
class IntakeResult:
    case: Case
    created: bool


def public_reporter(district_code: str) -> Actor:
    """The actor of an anonymous resident report (resident role over the district)."""
    return Actor(user_id=None, username="public", grants=(Grant("resident", district_code),))


class Locator(Protocol):
    def locate(self, lon: float, lat: float) -> str | None: ...


def locate(session: Session, inp: ReportInput, district_code: str,
           locator: Locator | None = None) -> str:
    """The finest known area of a report: its grid cell, else the given area, else the
    district (a report with only an address)."""
    if inp.lon is not None and inp.lat is not None:
        if not (-180 <= inp.lon <= 180 and -90 <= inp.lat <= 90):
            raise ValidationFailed(problems=[Problem(
                "The position is not a valid longitude and latitude.", field="lat",
                value=f"{inp.lat},{inp.lon}")])
        if locator is None:
            locator = get_locator(session)
        code = locator.locate(inp.lon, inp.lat)
        if code is None:
            raise ValidationFailed(problems=[Problem(
                "The position lies outside every grid cell of the district.", field="lat",
                value=f"{inp.lat},{inp.lon}")], code="outside_district")
        return str(code)
    code = inp.area_code or (district_code if inp.address.strip() else None)
    if not code:
        raise ValidationFailed(problems=[Problem(
            "Give a position (lat and long) or an address.", field="lat")])
    if session.get(Area, code) is None:
        raise ValidationFailed(problems=[Problem("No area {code}.", params={"code": code},
                                                 field="area_code", value=code)])
    return code


class CategoryLike(Protocol):
    """What intake needs of a case category (an ORM ``CaseCategory`` or the writer's row)."""

    @property
    def code(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def parent_code(self) -> str | None: ...
    @property
    def active(self) -> bool: ...


def check_report(session: Session, inp: ReportInput,
                 cats: Mapping[str, CategoryLike] | None = None) -> CategoryLike:
    """The report's category (a ``CaseCategory``, or the entry of ``cats`` — anything with
    ``code``, ``kind``, ``parent_code`` and ``active``), or ``ValidationFailed``."""
    problems = []
    cat = cats.get(inp.category_code) if cats is not None else \
        session.get(CaseCategory, inp.category_code)
    if cat is None or not cat.active or cat.parent_code is None:
        problems.append(Problem("No case category {code}.", params={"code": inp.category_code},
                                field="category_code", value=inp.category_code))
    if inp.source not in SOURCES:
        problems.append(Problem("Unknown source {value}.", params={"value": inp.source},
                                field="source", value=inp.source))
    if len(inp.description) > 4000:
        problems.append(Problem("The description is too long (at most 4000 characters).",
                                field="description"))
    problems += [p for p in (text_problem("description", inp.description),
                             text_problem("address", inp.address, line=True),
                             text_problem("contact", inp.contact, line=True)) if p]
    if inp.idempotency_key is not None and not 8 <= len(inp.idempotency_key) <= 64:
        problems.append(Problem("An idempotency key has 8 to 64 characters.",
                                field="idempotency_key", value=inp.idempotency_key))
    problems += photo_problems(inp.photos)
    if problems or cat is None:
        raise ValidationFailed(problems=problems)
    return cat


def photo_problems(refs: list[str]) -> list[Problem]:
    """What is wrong with a report's photo references (only this platform's own uploads)."""
    try:
        media.media_ids(refs)
    except ValidationFailed as exc:
        return exc.problems
    return []


def report_photos(session: Session, reporter: str, inp: ReportInput) -> list[str]:
    """The report's photos, normalised, once checked to be the reporter's (``media.owner_of``)
    unused uploads — checked after the retry lookup: a retry names photos its first try
    already used."""
    return media.check_usable(session, inp.photos, reporter) if inp.photos else []


def scoped_key(actor: Actor, key: str | None) -> str | None:
    """Keys are per reporter (by user id; anonymous reporters share the ``public`` scope), so
    one client's key never reveals another's case."""
    if not key:
        return None
    if actor.user_id is not None:
        return f"u{actor.user_id}:{key}"
    return f"{actor.username[:30]}:{key}"


def fingerprint(inp: ReportInput) -> str | None:
    if not (inp.device_id or inp.account_id):
        return None
    parts = [inp.device_id, inp.account_id, inp.category_code,
             f"{inp.lon:.5f}" if inp.lon is not None else "",
             f"{inp.lat:.5f}" if inp.lat is not None else "", inp.address, inp.description]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def find_existing(session: Session, key: str | None, fp: str | None,
                  since: dt.datetime) -> Case | None:
    """The case a retry of this report made: by its key, or by its device fingerprint since
    ``since`` (the retry window)."""
    if key:
        found = session.scalar(select(Case).where(Case.idempotency_key == key))
        if found is not None:
            return found
    if fp:
        return session.scalar(select(Case).where(Case.fingerprint == fp,
                                                 Case.reported_at >= since).limit(1))
    return None


def new_case_row(actor: Actor, inp: ReportInput, cat: CategoryLike, area_code: str,
                 now: dt.datetime) -> dict[str, Any]:
    """The row of a new case — THE one builder, for the ORM path and the group-commit writer.
    ``department_code``, ``pending``, ``pending_hours``, ``due_at``, ``warn_at``, ``closed_at``,
    ``limit_hours`` and ``satisfaction`` are left out: NULL for a new case."""
    return {"token": secrets.token_urlsafe(12),
            "idempotency_key": scoped_key(actor, inp.idempotency_key),
            "fingerprint": fingerprint(inp), "category_code": cat.code, "kind": cat.kind,
            "component_id": inp.component_id, "area_code": area_code, "status": "reported",
            "source": inp.source, "description": inp.description.strip(),
            "address": inp.address.strip()[:300], "lon": inp.lon, "lat": inp.lat,
            "photos": list(inp.photos), "attributes": inp.attributes,
            "reporter_user_id": actor.user_id, "reporter_contact": inp.contact[:200],
            "device_id": inp.device_id[:100], "account_id": inp.account_id[:100],
            "reported_at": now, "updated_at": now, "supervised": False, "escalation_level": 0,
            "rework_count": 0, "reopen_count": 0, "illustrative": False}


def first_event_row(case_id: int, actor: Actor, inp: ReportInput,
                    now: dt.datetime) -> dict[str, Any]:
    """The first event of a new case, as a row."""
    return report_event(case_id, actor, now, inp.description[:500], inp.photos, inp.source)


def reported(case_id: int, area_code: str) -> dict[str, Any]:
    """The ``case.changed`` payload of a new case."""
    return case_changed(case_id, "report", None, "reported", area_code, None)


def submit_report(session: Session, actor: Actor, inp: ReportInput, *, runtime: Runtime,
                  at: dt.datetime | None = None) -> IntakeResult:
    """Make a case of a report (or return the one a retry of it already made)."""
    cat = check_report(session, inp)
    area_code = locate(session, inp, runtime.settings.district_code)
    require(actor, "case.report", area_code)
    now = at or runtime.now()
    row = new_case_row(actor, inp, cat, area_code, now)
    key, fp = row["idempotency_key"], row["fingerprint"]
    since = now - dt.timedelta(seconds=runtime.cases.retry_window_seconds)
    existing = find_existing(session, key, fp, since)
    if existing is not None:
        return IntakeResult(existing, False)
    inp = replace(inp, photos=report_photos(session, media.owner_of(actor), inp))
    row["photos"] = list(inp.photos)
    case = Case(**row)
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
            session.add(CaseEvent(**first_event_row(case.id, actor, inp, now)))
            media.attach(session, case.id, inp.photos, "report")
            session.flush()
    except IntegrityError:  # the same key raced in from a parallel retry
        again = find_existing(session, key, None, since)
        if again is None:
            raise
        return IntakeResult(again, False)
    publish_on_commit(session, runtime.bus, "case.changed", reported(case.id, area_code))
    return IntakeResult(case, True)


# --- duplicates ------------------------------------------------------------------------------

def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def nearby(session: Session, lat: float, lon: float, category_code: str | None,
           radius: float, limit: int = 10) -> list[tuple[Case, float]]:
    """Open cases (of the category, if given) within ``radius`` metres, nearest first."""
    dlat = radius / 111_000
    dlon = radius / (111_000 * max(math.cos(math.radians(lat)), 0.01))
    q = select(Case).where(open_term(), Case.lat.between(lat - dlat, lat + dlat),
                           Case.lon.between(lon - dlon, lon + dlon))
    if category_code:
        q = q.where(Case.category_code == category_code)
    found = []
    for case in session.scalars(q.limit(500)):
        if case.lat is None or case.lon is None:
            continue
        d = haversine_m(lat, lon, case.lat, case.lon)
        if d <= radius:
            found.append((case, d))
    found.sort(key=lambda x: x[1])
    return found[:limit]

