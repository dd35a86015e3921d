"""Open311 GeoReport v2 ⇄ citygrowth cases: services from the taxonomy, requests from cases,
POST requests into ``intake.submit_report``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.auth.models import Department
from citygrowth.governance.intake import ReportInput
from citygrowth.governance.lifecycle import OPEN, STATUSES, TABLE
from citygrowth.governance.models import Case, CaseCategory, CaseEvent
from citygrowth.governance.taxonomy import leaf_categories
from citygrowth.i18n import bilingual, translate
from citygrowth.inputs import YEAR_MAX, YEAR_MIN

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_DAYS = 90
DEFAULT_LIMIT = 1000


class SpecError(Exception):
    """An error in the spec's terms: HTTP status, body code and description."""

    def __init__(self, status: int, description: str, code: int | str | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.code = code if code is not None else status
        self.description = description


def w3(value: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def parse_w3(value: str, name: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SpecError(400, translate("{name} is not a w3 date-time (e.g. "
                                       "2010-01-01T00:00:00Z).").format(name=name)) from None
    if not YEAR_MIN <= parsed.year <= YEAR_MAX:
        raise SpecError(400, translate("{name} must lie between the years {lo} and {hi}.")
                        .format(name=name, lo=YEAR_MIN, hi=YEAR_MAX))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def service_item(cat: CaseCategory, parent: CaseCategory | None) -> dict[str, Any]:
    return {"service_code": cat.code, "service_name": bilingual(cat.name_zh, cat.name_en),
            "description": bilingual(cat.name_zh, cat.name_en),
            "metadata": bool(cat.attributes), "type": "realtime",
            "keywords": ", ".join(x for x in (cat.name_zh, cat.name_en) if x),
            "group": bilingual(parent.name_zh, parent.name_en) if parent else ""}


def services(session: Session) -> list[dict[str, Any]]:
    parents = {c.code: c for c in session.scalars(select(CaseCategory))}
    return [service_item(c, parents.get(c.parent_code or "")) for c in leaf_categories(session)]


def definition(session: Session, code: str) -> dict[str, Any]:
    cat = session.get(CaseCategory, code)
    if cat is None or not cat.active or cat.parent_code is None:
        raise SpecError(404, translate("service_code {code} was not found.").format(code=code))
    attrs = []
    for i, a in enumerate(cat.attributes or [], start=1):
        attrs.append({"variable": bool(a.get("variable", True)), "code": a["code"],
                      "datatype": a.get("datatype", "string"),
                      "required": bool(a.get("required", False)),
                      "datatype_description": a.get("datatype_description", ""),
                      "order": int(a.get("order", i)),
                      "description": translate(a.get("description", "")),
                      "values": [{"key": v["key"], "name": v["name"]}
                                 for v in a.get("values", [])]})
    return {"service_code": cat.code, "attributes": attrs}


def _attributes(form: Mapping[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, values in form.items():
        if key.startswith("attribute[") and "]" in key:
            name = key[len("attribute["):key.index("]")]
            if key.endswith("[]") or len(values) > 1:
                out[name] = list(values)
            else:
                out[name] = values[0]
    return out


def _float(value: str | None, name: str) -> float | None:
    if value is None or value.strip() == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise SpecError(400, translate("{name} must be a number.").format(name=name)) from None


@dataclass
class Posted:
    inp: ReportInput
    missing_attributes: list[str]


def report_from_form(session: Session, form: Mapping[str, list[str]]) -> Posted:
    """A POST requests body (form fields, repeated keys as lists) as a ReportInput."""
    def one(name: str) -> str:
        vals = form.get(name) or [""]
        return vals[0].strip()

    code = one("service_code")
    if not code:
        raise SpecError(400, translate("service_code was not provided."))
    definition(session, code)  # 404 when unknown
    lat, lon = _float(one("lat"), "lat"), _float(one("long"), "long")
    address = one("address_string") or one("address_id")
    if (lat is None) != (lon is None):
        raise SpecError(400, translate("lat and long must be sent together."))
    if lat is None and not address:
        raise SpecError(400, translate("lat and long, or address_string, are required."))
    attrs = _attributes(form)
    cat = session.get(CaseCategory, code)
    assert cat is not None
    missing = [a["code"] for a in cat.attributes or []
               if a.get("required") and a.get("variable", True) and not attrs.get(a["code"])]
    media = one("media_url")
    contact = one("email") or one("phone")
    inp = ReportInput(category_code=code, lon=lon, lat=lat, address=address,
                      description=one("description"), photos=[media] if media else [],
                      source="open311", device_id=one("device_id"), account_id=one("account_id"),
                      contact=contact, attributes=attrs)
    return Posted(inp, missing)


# what request_item reads of a case (lists select only these)
REQUEST_COLUMNS = (Case.id, Case.status, Case.category_code, Case.department_code,
                   Case.description, Case.photos, Case.reported_at, Case.updated_at,
                   Case.closed_at, Case.due_at, Case.address, Case.lat, Case.lon, Case.source,
                   Case.area_code)


class RequestNames:
    """What a list of requests repeats from row to row — the service, agency and status
    names in the current language — looked up once per list rather than per request."""

    def __init__(self, cats: Mapping[str, CaseCategory],
                 depts: Mapping[str, Department]) -> None:
        self.service = {code: bilingual(c.name_zh, c.name_en) for code, c in cats.items()}
        self.agency = {code: bilingual(d.name_zh, d.name_en) for code, d in depts.items()}
        self.status = {code: translate(label) for code, label in STATUSES.items()}


def request_item(session: Session, case: Any, base_url: str, extensions: bool,
                 names: RequestNames, tz: ZoneInfo, full: bool = True,
                 centre: tuple[float, float] | None = None) -> dict[str, Any]:
    """One ``request`` of ``case`` (a :class:`Case`, or a row of :data:`REQUEST_COLUMNS`).
    Not ``full`` (the public list under ``open311_publication=minimal``):
    category, status, times and, as the position, ``centre`` (the grid cell's centre) only."""
    code, status = case.category_code, case.status
    item: dict[str, Any] = {
        "service_request_id": str(case.id),
        "status": "open" if status in OPEN else "closed",
        "status_notes": names.status[status],
        "service_name": names.service.get(code, code), "service_code": code,
        "description": case.description,
        "agency_responsible": names.agency.get(case.department_code or "", ""),
        "service_notice": "", "requested_datetime": w3(case.reported_at, tz),
        "updated_datetime": w3(case.closed_at or case.updated_at, tz),
        "expected_datetime": w3(case.due_at, tz), "address": case.address,
        "address_id": "", "zipcode": "", "lat": case.lat, "long": case.lon, "media_url": None,
    }
    if full:
        if media := (case.photos[0] if case.photos else None):
            item["media_url"] = base_url.rstrip("/") + media if media.startswith("/") \
                else media
    else:
        item.update(description="", agency_responsible="", address="",
                    lat=round(centre[1], 6) if centre else None,
                    long=round(centre[0], 6) if centre else None)
    if extensions:
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                 .order_by(CaseEvent.seq))
        item["extended_attributes"] = {"channel": case.source, "area_code": case.area_code,
                                       "status_detail": status,
                                       "photos": list(case.photos) if full else []}
        item["notes"] = [{"datetime": w3(e.at, tz), "type": e.action,
                          "description": translate(TABLE[e.action].label)
                          if e.action in TABLE else translate("Report")} for e in events]
    return item


FMS_STATUS = {"reported": "OPEN", "registered": "OPEN", "dispatched": "IN_PROGRESS",
              "handling": "IN_PROGRESS", "handled": "ACTION_SCHEDULED",
              "verified": "ACTION_SCHEDULED", "postponed": "IN_PROGRESS", "closed": "FIXED",
              "cancelled": "CLOSED"}


def update_item(e: CaseEvent, tz: ZoneInfo) -> dict[str, Any]:
    """One ``request_update`` of the FixMyStreet ``servicerequestupdates`` extension."""
    return {"update_id": str(e.id), "service_request_id": str(e.case_id),
            "status": FMS_STATUS.get(e.to_status, "OPEN"), "updated_datetime": w3(e.at, tz),
            "description": translate(TABLE[e.action].label) if e.action in TABLE
            else translate("Report"), "media_url": e.photos[0] if e.photos else ""}
