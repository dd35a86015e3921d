"""The one-stop investment service desk: enterprises, leads, follow-ups, service requests.

Leads are shared by every department on the desk: any officer with ``investment.view`` sees
all of them and any officer with ``investment.edit`` may add a follow-up. Moving a lead's stage,
handing it over or closing it belongs to the department that holds it (or the district).
Leads are never deleted — closing keeps the lead and its whole history — so no department
loses a lead another entered.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.common import (
    INDUSTRY_NAMES,
    LEAD_STAGE_NAMES,
    REQUEST_STATUS_NAMES,
    TOPIC_NAMES,
    check_refs,
    get_or_404,
    label,
    raise_if,
    yi,
)
from citygrowth.accountability.models import Enterprise, Lead, LeadEvent, ServiceRequest
from citygrowth.accountability.schemas import (
    LEAD_STAGES,
    CloseIn,
    EnterpriseIn,
    FollowUpIn,
    HandOverIn,
    LeadIn,
    RequestUpdateIn,
    ServiceRequestIn,
    StageIn,
)
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import require, scope_prefixes
from citygrowth.db import utcnow
from citygrowth.errors import Conflict, Problem
from citygrowth.i18n import N_, bilingual

# Which department a service request goes to, by topic.
ROUTING = {
    "site": "invest", "permit": "ndrc", "talent": "hrss", "finance": "finance",
    "technology": "science", "market": "market", "other": "invest",
}


def _dept_of(actor: Actor, fallback: str | None = None) -> str | None:
    codes = sorted(actor.department_codes)
    return codes[0] if codes else fallback


def _event(lead: Lead, actor: Actor, kind: str, note: str = "", from_stage: str | None = None,
           to_stage: str | None = None, at: dt.datetime | None = None,
           department: str | None = None) -> LeadEvent:
    ev = LeadEvent(lead_id=lead.id, at=at or utcnow(), actor=actor.username,
                   department_code=department or _dept_of(actor), kind=kind, note=note,
                   from_stage=from_stage, to_stage=to_stage)
    lead.events.append(ev)
    lead.updated_at = ev.at
    return ev


def create_enterprise(session: Session, actor: Actor, data: EnterpriseIn) -> Enterprise:
    require(actor, "investment.edit", {"area_code": data.area_code})
    raise_if(check_refs(session, [], [data.area_code]))
    if data.credit_code and session.scalar(
            select(Enterprise.id).where(Enterprise.credit_code == data.credit_code)):
        raise Conflict("An enterprise with credit code {code} already exists.",
                       code=data.credit_code)
    ent = Enterprise(**data.model_dump(), created_by_department=_dept_of(actor))
    session.add(ent)
    session.flush()
    record(session, actor, "enterprise.create", f"enterprise:{ent.id}")
    return ent


def create_lead(session: Session, actor: Actor, data: LeadIn) -> Lead:
    """Enter a lead for one's own department; it is visible to every department at once."""
    require(actor, "investment.edit", {"area_code": data.area_code,
                                       "department_code": data.department_code})
    get_or_404(session, Enterprise, data.enterprise_id, N_("Enterprise"))
    raise_if(check_refs(session, [data.department_code], [data.area_code]))
    lead = Lead(enterprise_id=data.enterprise_id, title_zh=data.title_zh, title_en=data.title_en,
                industry=data.industry, stage="new", source_department_code=data.department_code,
                owner_department_code=data.department_code, area_code=data.area_code,
                expected_wan=data.expected_wan)
    session.add(lead)
    session.flush()
    _event(lead, actor, "created", data.note, to_stage="new", department=data.department_code)
    session.flush()
    record(session, actor, "lead.create", f"lead:{lead.id}")
    return lead


def follow_up(session: Session, actor: Actor, lead_id: int, data: FollowUpIn) -> LeadEvent:
    """Any department on the desk may add a follow-up to any lead."""
    lead = get_or_404(session, Lead, lead_id, N_("Lead"))
    require(actor, "investment.edit", {"area_code": lead.area_code})
    ev = _event(lead, actor, "follow_up", data.note)
    session.flush()
    return ev


def _open_lead(session: Session, actor: Actor, lead_id: int) -> Lead:
    lead = get_or_404(session, Lead, lead_id, N_("Lead"))
    require(actor, "investment.edit", lead)
    if lead.closed:
        raise Conflict("This lead is closed.")
    return lead


def change_stage(session: Session, actor: Actor, lead_id: int, data: StageIn,
                 today: dt.date | None = None) -> Lead:
    """Move a lead along the pipeline (its holding department only)."""
    lead = _open_lead(session, actor, lead_id)
    if data.stage == lead.stage:
        raise Conflict("The lead is already at this stage.")
    _event(lead, actor, "stage", data.note, from_stage=lead.stage, to_stage=data.stage)
    lead.stage = data.stage
    if data.stage == "landed":
        lead.landed_on = data.landed_on or today or utcnow().date()
    session.flush()
    record(session, actor, "lead.stage", f"lead:{lead.id}", {"stage": data.stage})
    return lead


def hand_over(session: Session, actor: Actor, lead_id: int, data: HandOverIn) -> Lead:
    lead = _open_lead(session, actor, lead_id)
    raise_if(check_refs(session, [data.department_code], []))
    note = f"{lead.owner_department_code} → {data.department_code}"
    _event(lead, actor, "handover", f"{note}: {data.note}" if data.note else note)
    lead.owner_department_code = data.department_code
    session.flush()
    record(session, actor, "lead.handover", f"lead:{lead.id}", {"to": data.department_code})
    return lead


def close_lead(session: Session, actor: Actor, lead_id: int, data: CloseIn) -> Lead:
    """Close (never delete) a lead; it stays listed with its history."""
    lead = _open_lead(session, actor, lead_id)
    _event(lead, actor, "closed", data.reason, from_stage=lead.stage)
    lead.closed = True
    lead.closed_reason = data.reason
    session.flush()
    record(session, actor, "lead.close", f"lead:{lead.id}")
    return lead


def create_service_request(session: Session, actor: Actor,
                           data: ServiceRequestIn) -> ServiceRequest:
    """File an enterprise's request; it is routed to the department handling its topic."""
    ent = get_or_404(session, Enterprise, data.enterprise_id, N_("Enterprise"))
    require(actor, "investment.edit", {"area_code": ent.area_code})
    if data.lead_id is not None:
        get_or_404(session, Lead, data.lead_id, N_("Lead"))
    dept = ROUTING.get(data.topic, "invest")
    if session.get(Department, dept) is None:
        raise_if([Problem(N_("No department handles topic '{topic}' (expected '{code}')."),
                          {"topic": data.topic, "code": dept}, field="topic", value=data.topic)])
    req = ServiceRequest(enterprise_id=ent.id, lead_id=data.lead_id, topic=data.topic,
                         description=data.description, department_code=dept,
                         area_code=ent.area_code, created_by=actor.username)
    session.add(req)
    session.flush()
    record(session, actor, "service_request.create", f"request:{req.id}", {"to": dept})
    return req


def update_service_request(session: Session, actor: Actor, request_id: int,
                           data: RequestUpdateIn) -> ServiceRequest:
    req = get_or_404(session, ServiceRequest, request_id, N_("Service request"))
    require(actor, "investment.edit", req)
    if req.status == "done":
        raise Conflict("This request is already done.")
    req.status = data.status
    req.response = data.response or req.response
    if data.status == "done":
        req.resolved_at = utcnow()
    session.flush()
    record(session, actor, "service_request.update", f"request:{req.id}",
           {"status": data.status})
    return req


def _visible(actor: Actor, area_code: str) -> bool:
    prefixes = scope_prefixes(actor, "investment.view")
    return prefixes is None or any(area_code.startswith(p) for p in prefixes)


def visible_leads(session: Session, actor: Actor) -> list[Lead]:
    require(actor, "investment.view", None)
    leads = session.scalars(select(Lead).order_by(Lead.id))
    return [lead for lead in leads if _visible(actor, lead.area_code)]


def lead_row(lead: Lead, enterprises: dict[int, Enterprise]) -> dict[str, Any]:
    ent = enterprises.get(lead.enterprise_id)
    return {
        "id": lead.id, "title": bilingual(lead.title_zh, lead.title_en),
        "enterprise": bilingual(ent.name_zh, ent.name_en) if ent else "",
        "enterprise_id": lead.enterprise_id, "industry": lead.industry,
        "industry_name": label(INDUSTRY_NAMES, lead.industry), "stage": lead.stage,
        "stage_name": label(LEAD_STAGE_NAMES, lead.stage),
        "source_department_code": lead.source_department_code,
        "owner_department_code": lead.owner_department_code, "area_code": lead.area_code,
        "expected_yi": yi(lead.expected_wan), "closed": lead.closed,
        "landed_on": lead.landed_on.isoformat() if lead.landed_on else None,
        "events": len(lead.events), "updated_at": lead.updated_at.isoformat(),
    }


def list_leads(session: Session, actor: Actor, stage: str | None = None,
               department: str | None = None) -> list[dict[str, Any]]:
    leads = visible_leads(session, actor)
    ents = {e.id: e for e in session.scalars(select(Enterprise))}
    names = {d.code: bilingual(d.name_zh, d.name_en) for d in session.scalars(select(Department))}
    rows = [lead_row(x, ents) for x in leads]
    for r in rows:
        r["source_department"] = names.get(r["source_department_code"], "")
        r["owner_department"] = names.get(r["owner_department_code"], "")
    return [r for r in rows if (stage is None or r["stage"] == stage) and (
        department is None or department in (r["source_department_code"],
                                             r["owner_department_code"]))]


def lead_history(session: Session, actor: Actor, lead_id: int) -> list[dict[str, Any]]:
    require(actor, "investment.view", None)
    lead = get_or_404(session, Lead, lead_id, N_("Lead"))
    require(actor, "investment.view", {"area_code": lead.area_code})
    return [{"at": e.at.isoformat(), "actor": e.actor, "department_code": e.department_code,
             "kind": e.kind, "from_stage": e.from_stage, "to_stage": e.to_stage, "note": e.note}
            for e in lead.events]


def _reached(lead: Lead) -> int:
    idx = [LEAD_STAGES.index(lead.stage)]
    idx += [LEAD_STAGES.index(e.to_stage) for e in lead.events if e.to_stage in LEAD_STAGES]
    return max(idx)


def funnel(session: Session, actor: Actor) -> dict[str, Any]:
    """How many leads reached each stage, and the conversion from one stage to the next."""
    leads = visible_leads(session, actor)
    reached = [_reached(x) for x in leads]
    stages: list[dict[str, Any]] = []
    counts: list[int] = []
    for i, stage in enumerate(LEAD_STAGES):
        n = sum(1 for r in reached if r >= i)
        prev = counts[-1] if counts else 0
        counts.append(n)
        stages.append({"stage": stage, "name": label(LEAD_STAGE_NAMES, stage), "count": n,
                       "conversion_pct": round(100 * n / prev, 1) if prev else None})
    landed = counts[-1]
    by_dept = Counter(x.source_department_code for x in leads)
    return {"total": len(leads), "open": sum(1 for x in leads if not x.closed),
            "closed": sum(1 for x in leads if x.closed), "landed": landed,
            "overall_conversion_pct": round(100 * landed / len(leads), 1) if leads else None,
            "stages": stages,
            "by_source_department": [{"department_code": k, "count": v}
                                     for k, v in sorted(by_dept.items())]}


def list_service_requests(session: Session, actor: Actor) -> list[dict[str, Any]]:
    require(actor, "investment.view", None)
    ents = {e.id: e for e in session.scalars(select(Enterprise))}
    out = []
    for r in session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)):
        if not _visible(actor, r.area_code):
            continue
        ent = ents.get(r.enterprise_id)
        out.append({"id": r.id, "enterprise": bilingual(ent.name_zh, ent.name_en) if ent else "",
                    "topic": r.topic, "topic_name": label(TOPIC_NAMES, r.topic),
                    "department_code": r.department_code, "status": r.status,
                    "status_name": label(REQUEST_STATUS_NAMES, r.status),
                    "description": r.description, "response": r.response,
                    "created_at": r.created_at.isoformat(),
                    "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None})
    return out
