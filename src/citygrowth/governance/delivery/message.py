"""The message every channel delivers: one JSON-ready dict describing the dispatched case.

Times are ISO 8601 with the district's offset, names in the district's default language,
links absolute when ``CITYGROWTH_PUBLIC_URL`` is set. The reporter's contact is never part of
it (a department reaches the reporter through the case page)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth.models import Department
from citygrowth.governance.delivery.models import CaseDelivery
from citygrowth.governance.display import local_text
from citygrowth.governance.lifecycle import STATUSES, TABLE
from citygrowth.governance.models import Case, CaseCategory, CaseEvent
from citygrowth.i18n import N_, bilingual, locale_context, translate
from citygrowth.settings import Settings

EVENTS = {"dispatch": "case.dispatched", "rework": "case.rework"}


class DeliveryFailed(Exception):
    """A channel could not deliver; the message says why (kept as the attempt's error)."""


@dataclass(frozen=True)
class Message:
    """What a channel sends: ``body`` (the JSON payload), a one-line ``subject`` and a plain
    ``text`` for people (e-mail)."""

    body: dict[str, Any]
    subject: str
    text: str


def absolute(settings: Settings, path: str) -> str:
    """``path`` under the public address (as is when none is set or it is a full URL)."""
    if not path.startswith("/") or not settings.public_url:
        return path
    return settings.public_url.rstrip("/") + path


def _iso(value: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def name_of(session: Session, model: type[Any], code: str | None) -> str:
    """The name (in the current language) of the row of ``model`` with ``code``."""
    row = session.get(model, code) if code else None
    return bilingual(row.name_zh, row.name_en) if row is not None else (code or "")


def build(session: Session, delivery: CaseDelivery, settings: Settings,
          now: dt.datetime) -> Message:
    """The message of ``delivery``, in the district's default language."""
    with locale_context(settings.default_locale):
        return _build(session, delivery, settings, now)


def _build(session: Session, delivery: CaseDelivery, settings: Settings,
           now: dt.datetime) -> Message:
    tz = ZoneInfo(settings.timezone)
    case = session.get(Case, delivery.case_id)
    event = session.get(CaseEvent, delivery.event_id)
    assert case is not None and event is not None
    step = TABLE[delivery.action]
    body: dict[str, Any] = {
        "event": EVENTS.get(delivery.action, f"case.{delivery.action}"),
        "delivery_id": delivery.id, "attempt": delivery.attempts,
        "sent_at": _iso(now, tz),
        "department": {"code": delivery.department_code,
                       "name": name_of(session, Department, delivery.department_code)},
        "action": delivery.action, "action_label": translate(step.label), "note": event.note,
        "case": {
            "id": case.id, "url": absolute(settings, f"/command/cases/{case.id}"),
            "status": case.status, "status_label": translate(STATUSES[case.status]),
            "category_code": case.category_code,
            "category": name_of(session, CaseCategory, case.category_code),
            "kind": case.kind, "area_code": case.area_code,
            "area": name_of(session, Area, case.area_code),
            "street_code": case.area_code[:9], "street": name_of(session, Area, case.area_code[:9]),
            "address": case.address, "description": case.description,
            "lat": case.lat, "lon": case.lon,
            "photos": [absolute(settings, p) for p in case.photos or []],
            "reported_at": _iso(case.reported_at, tz), "due_at": _iso(case.due_at, tz),
            "limit_hours": case.limit_hours, "supervised": case.supervised,
            "rework_count": case.rework_count,
        },
    }
    c = body["case"]
    subject = translate(N_("Case #{id} {action}: {category}, {area}")).format(
        id=case.id, action=body["action_label"], category=c["category"], area=c["area"])
    lines = [subject, "",
             f"{translate(N_('Department'))}: {body['department']['name']}",
             f"{translate(N_('Category'))}: {c['category']} ({case.category_code})",
             f"{translate(N_('Grid cell'))}: {c['area']} · {c['street']}",
             f"{translate(N_('Address'))}: {case.address or '—'}",
             f"{translate(N_('Reported at'))}: {local_text(case.reported_at, tz)}",
             f"{translate(N_('Deadline'))}: {local_text(case.due_at, tz) or '—'}",
             f"{translate(N_('Description'))}: {case.description or '—'}"]
    if event.note:
        lines.append(f"{translate(N_('Note'))}: {event.note}")
    lines += [f"{translate(N_('Photo'))}: {p}" for p in c["photos"]]
    lines += ["", f"{translate(N_('Open the case'))}: {c['url']}"]
    return Message(body, subject, "\n".join(lines) + "\n")
