"""What residents read: a report's progress in plain words, their own reports, and the public
list of reports around them (FixMyStreet's "around" page) with personal data left out.

Everything here is presentation over the case store: the steps a reporter is shown are the
report and the actions that move the case (``lifecycle.PUBLIC_ACTIONS``); the department's
reply (the note of 处置反馈), the 核查 note, the reason of a cancellation or a reopening and
the photos of those steps travel with them, internal notes (supervision, escalation,
extensions, returns) do not. The public list gives category, state, street, community, day
and a position rounded to about 100 m — never the description, address, contact or photos.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.governance.icons import category_icon
from citygrowth.governance.lifecycle import OPEN, PUBLIC_ACTIONS, STATUSES
from citygrowth.governance.media import media_id, thumb_ref
from citygrowth.governance.models import Case, CaseCategory, CaseEvent
from citygrowth.governance.service import department_names, events_of
from citygrowth.i18n import N_, bilingual, translate

#: Each step of the loop as a reporter reads it ({department}: the department's name).
STEPS: dict[str, str] = {
    "report": N_("Reported"),
    "register": N_("Registered"),
    "cancel": N_("Not taken up"),
    "dispatch": N_("Dispatched to {department}"),
    "accept": N_("Being handled by {department}"),
    "return": N_("Being assigned again"),
    "handle": N_("Handled: {department} replied"),
    "verify": N_("Verified on site"),
    "rework": N_("Sent back for more work"),
    "close": N_("Closed"),
    "approve_postponement": N_("Postponed"),
    "resume": N_("Being handled again"),
    "reopen": N_("Reopened"),
}
#: Steps whose note the reporter reads (the others keep theirs inside).
NOTE_STEPS = frozenset({"cancel", "handle", "verify", "reopen"})
AROUND_DAYS = 30
AROUND_LIMIT = 200
COARSE_DIGITS = 3  # about 100 m


@dataclass(frozen=True)
class Photo:
    """A photo as a page draws it: the full picture and its thumbnail, both URLs."""

    full: str
    thumb: str


def tracked_photos(token: str, refs: Iterable[str]) -> list[Photo]:
    """The tracking page's URLs of a step's photos (``/track/<token>/photos/<id>.jpg``)."""
    out = []
    for ref in refs:
        mid = media_id(ref)
        if mid:
            base = f"/track/{token}/photos/{mid}"
            out.append(Photo(base + ".jpg", base + ".thumb.jpg"))
    return out


def staff_photos(refs: Iterable[str]) -> list[Photo]:
    """Staff pages' URLs of photos (``/media/cases/<id>.jpg``); unknown forms are left out."""
    return [Photo(r, thumb_ref(r)) for r in refs if media_id(r)]


def step_title(action: str, department: str | None) -> str:
    text = translate(STEPS.get(action, "Reported"))
    return text.format(department=department or translate("the department"))


def progress(session: Session, case: Case, token: str, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The steps the reporter sees, oldest first: title, local time, note, photos."""
    depts = department_names(session)
    current = None
    steps = []
    for e in events_of(session, case):
        if e.action not in PUBLIC_ACTIONS:
            continue
        code = (e.detail or {}).get("department_code")
        if e.action == "dispatch":
            current = depts.get(code, code) if code else None
        steps.append({
            "action": e.action, "title": step_title(e.action, current),
            "at": e.at.astimezone(tz), "to": e.to_status,
            "note": e.note if e.action in NOTE_STEPS else "",
            "photos": [] if e.action == "report" else tracked_photos(token, e.photos or []),
            "rating": (e.detail or {}).get("rating"),
        })
        if e.action in ("return", "reopen"):
            current = None
    return steps


def tracking_view(session: Session, case: Case, token: str, tz: ZoneInfo) -> dict[str, Any]:
    """Everything the tracking page shows of a case."""
    cat = session.get(CaseCategory, case.category_code)
    names = _area_names(session, [case.area_code])
    return {
        "id": case.id, "token": token, "status": case.status,
        "status_label": translate(STATUSES[case.status]),
        "category": bilingual(cat.name_zh, cat.name_en) if cat else case.category_code,
        "icon": category_icon(case.category_code, cat.parent_code if cat else None),
        "description": case.description, "address": case.address,
        "where": names.get(case.area_code, []),
        "reported_at": case.reported_at.astimezone(tz),
        "due_at": case.due_at.astimezone(tz) if case.due_at and case.status in OPEN else None,
        "closed": case.status == "closed", "satisfaction": case.satisfaction,
        "photos": tracked_photos(token, case.photos or []),
        "steps": progress(session, case, token, tz),
    }


# --- the reporter's own reports ----------------------------------------------------------------

def my_reports(session: Session, actor: Actor, tokens: Sequence[str],
               limit: int = 100) -> list[Case]:
    """Cases the logged-in actor reported, and those whose tracking codes this browser
    keeps (anonymous reports made from it), newest first."""
    conds = []
    if actor.user_id is not None:
        conds.append(Case.reporter_user_id == actor.user_id)
    wanted = [t for t in tokens if isinstance(t, str) and 8 <= len(t) <= 32][:50]
    if wanted:
        conds.append(Case.token.in_(wanted))
    if not conds:
        return []
    return list(session.scalars(select(Case).where(or_(*conds))
                                .order_by(Case.reported_at.desc(), Case.id.desc()).limit(limit)))


def report_rows(session: Session, cases: Sequence[Case], tz: ZoneInfo) -> list[dict[str, Any]]:
    """One line per case for lists a reporter reads (their own, with the tracking link)."""
    cats = _categories(session)
    names = _area_names(session, [c.area_code for c in cases])
    out = []
    for c in cases:
        cat = cats.get(c.category_code)
        out.append({"id": c.id, "token": c.token, "status": c.status,
                    "status_label": translate(STATUSES[c.status]),
                    "category": bilingual(cat.name_zh, cat.name_en) if cat else c.category_code,
                    "icon": category_icon(c.category_code, cat.parent_code if cat else None),
                    "where": names.get(c.area_code, []),
                    "reported_at": c.reported_at.astimezone(tz)})
    return out


# --- reports around ----------------------------------------------------------------------------

def around(session: Session, *, now: dt.datetime, street: str | None = None,
           days: int = AROUND_DAYS, limit: int = AROUND_LIMIT) -> list[Case]:
    """Reports of the last ``days`` days (in one street, if given), newest first; cancelled
    ones are left out."""
    q = select(Case).where(Case.reported_at >= now - dt.timedelta(days=days),
                           Case.status != "cancelled")
    if street:
        q = q.where(Case.area_code.startswith(street, autoescape=True))
    return list(session.scalars(q.order_by(Case.reported_at.desc(), Case.id.desc())
                                .limit(limit)))


def public_rows(session: Session, cases: Sequence[Case], tz: ZoneInfo) -> list[dict[str, Any]]:
    """What anyone may see of the reports around: no description, address, contact or photo;
    the position rounded to about 100 m."""
    cats = _categories(session)
    names = _area_names(session, [c.area_code for c in cases])
    out = []
    for c in cases:
        cat = cats.get(c.category_code)
        where = names.get(c.area_code, [])
        out.append({
            "id": c.id, "status": c.status, "status_label": translate(STATUSES[c.status]),
            "category": bilingual(cat.name_zh, cat.name_en) if cat else c.category_code,
            "icon": category_icon(c.category_code, cat.parent_code if cat else None),
            "street": where[0] if where else None,
            "community": where[1] if len(where) > 1 else None,
            "reported_on": c.reported_at.astimezone(tz).date().isoformat(),
            "lon": round(c.lon, COARSE_DIGITS) if c.lon is not None else None,
            "lat": round(c.lat, COARSE_DIGITS) if c.lat is not None else None,
            "illustrative": c.illustrative,
        })
    return out


def _categories(session: Session) -> dict[str, CaseCategory]:
    return {c.code: c for c in session.scalars(select(CaseCategory))}


def _area_names(session: Session, codes: Iterable[str]) -> dict[str, list[str]]:
    """Street, community and grid-cell names of each area code, in the reader's language."""
    wanted = {code[:n] for code in codes for n in (9, 12, 15) if len(code) >= n}
    rows = {a.code: bilingual(a.name_zh, a.name_en)
            for a in session.scalars(select(Area).where(Area.code.in_(wanted)))} if wanted else {}
    return {code: [rows[code[:n]] for n in (9, 12, 15) if len(code) >= n and code[:n] in rows]
            for code in codes}


def rated(session: Session, case: Case) -> bool:
    """Whether the reporter has rated the case since it was last closed."""
    last = session.scalars(select(CaseEvent.action).where(
        CaseEvent.case_id == case.id, CaseEvent.action.in_(("close", "rate")))
        .order_by(CaseEvent.seq.desc()).limit(1)).first()
    return last == "rate"
