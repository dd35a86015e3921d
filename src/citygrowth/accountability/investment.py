"""The one-stop investment service desk: enterprises, leads, follow-ups, service requests.

Leads are shared by every department on the desk: any officer with ``investment.view`` sees
all of them and any officer with ``investment.edit`` may add a follow-up. Moving a lead's stage,
handing it over or closing it belongs to the department that holds it (or the district).
Leads are never deleted — closing keeps the lead and its whole history — so no department
loses a lead another entered. A hand-over waits for the receiving department, which accepts it
(the lead is then theirs) or refuses it with a reason (it stays where it was).

Service requests are routed by topic and carry a deadline (``REQUEST_DAYS`` working days unless
one is given); only the department they were routed to answers them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.changes import acting_department, note
from citygrowth.accountability.common import (
    INDUSTRY_NAMES,
    LEAD_STAGE_NAMES,
    REQUEST_STATUS_NAMES,
    TOPIC_NAMES,
    check_refs,
    department_names,
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
    RefuseIn,
    RequestUpdateIn,
    ServiceRequestIn,
    StageIn,
)
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.db import utcnow
from citygrowth.errors import Conflict, Problem
from citygrowth.i18n import N_, bilingual
from citygrowth.workdays import add_working_days

# Which department a service request goes to, by topic.
ROUTING = {
    "site": "invest", "permit": "ndrc", "talent": "hrss", "finance": "finance",
    "technology": "science", "market": "market", "other": "invest",
}
REQUEST_DAYS = 5  # working days to answer a service request, unless a deadline is given


def _event(lead: Lead, actor: Actor, kind: str, note: str = "", from_stage: str | None = None,
           to_stage: str | None = None, at: dt.datetime | None = None,
           department: str | None = None) -> LeadEvent:
    ev = LeadEvent(lead_id=lead.id, at=at or utcnow(), actor=actor.username,
                   department_code=department or acting_department(actor), kind=kind, note=note,
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
    ent = Enterprise(**data.model_dump(), created_by_department=acting_department(actor))
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
    note(session, actor, "lead.created", "lead", lead, lead.owner_department_code, _name(lead))
    return lead


def _name(lead: Lead) -> tuple[str, str]:
    return lead.title_zh, lead.title_en


def follow_up(session: Session, actor: Actor, lead_id: int, data: FollowUpIn) -> LeadEvent:
    """Any department on the desk may add a follow-up to any lead."""
    lead = get_or_404(session, Lead, lead_id, N_("Lead"))
    require(actor, "investment.edit", {"area_code": lead.area_code})
    ev = _event(lead, actor, "follow_up", data.note)
    session.flush()
    record(session, actor, "lead.follow_up", f"lead:{lead.id}")
    note(session, actor, "lead.follow_up", "lead", lead, lead.owner_department_code, _name(lead),
         note=data.note)
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
        raise_if([Problem(N_("The lead is already at this stage."), field="stage",
                          value=data.stage)])
    old = lead.stage
    _event(lead, actor, "stage", data.note, from_stage=lead.stage, to_stage=data.stage)
    lead.stage = data.stage
    if data.stage == "landed":
        lead.landed_on = data.landed_on or today or utcnow().date()
    session.flush()
    record(session, actor, "lead.stage", f"lead:{lead.id}", {"stage": data.stage})
    note(session, actor, "lead.stage", "lead", lead, lead.owner_department_code, _name(lead),
         old_stage=old, new_stage=data.stage)
    return lead


def hand_over(session: Session, actor: Actor, lead_id: int, data: HandOverIn) -> Lead:
    """Offer the lead to another department; it stays with the holder until accepted."""
    lead = _open_lead(session, actor, lead_id)
    problems = check_refs(session, [data.department_code], [])
    if data.department_code == lead.owner_department_code:
        problems.append(Problem(N_("The lead is already held by this department."),
                                field="department_code", value=data.department_code))
    if lead.handover_to is not None:
        problems.append(Problem(N_("A hand-over to {code} is already waiting for an answer."),
                                {"code": lead.handover_to}, field="department_code",
                                value=data.department_code))
    raise_if(problems)
    lead.handover_to, lead.handover_at = data.department_code, utcnow()
    lead.handover_by, lead.handover_note = actor.username, data.note
    _event(lead, actor, "handover", data.note, department=lead.owner_department_code)
    session.flush()
    record(session, actor, "lead.handover", f"lead:{lead.id}", {"to": data.department_code})
    note(session, actor, "lead.handover", "lead", lead, lead.owner_department_code, _name(lead),
         to=data.department_code)
    return lead


def _offered(session: Session, actor: Actor, lead_id: int) -> tuple[Lead, str]:
    lead = get_or_404(session, Lead, lead_id, N_("Lead"))
    if lead.handover_to is None:
        raise Conflict("No hand-over of this lead is waiting for an answer.")
    to = lead.handover_to
    require(actor, "investment.edit", {"area_code": lead.area_code, "department_code": to})
    return lead, to


def accept_handover(session: Session, actor: Actor, lead_id: int) -> Lead:
    """The receiving department takes the lead over."""
    lead, to = _offered(session, actor, lead_id)
    before = lead.owner_department_code
    lead.owner_department_code, lead.handover_to, lead.handover_at = to, None, None
    _event(lead, actor, "accepted", f"{before} → {to}", department=to)
    session.flush()
    record(session, actor, "lead.handover.accept", f"lead:{lead.id}", {"from": before, "to": to})
    note(session, actor, "lead.accepted", "lead", lead, to, _name(lead), to=to)
    return lead


def refuse_handover(session: Session, actor: Actor, lead_id: int, data: RefuseIn) -> Lead:
    """The receiving department declines; the lead stays with its holder."""
    lead, to = _offered(session, actor, lead_id)
    lead.handover_to, lead.handover_at = None, None
    _event(lead, actor, "refused", data.reason, department=to)
    session.flush()
    record(session, actor, "lead.handover.refuse", f"lead:{lead.id}", {"by": to})
    note(session, actor, "lead.refused", "lead", lead, lead.owner_department_code, _name(lead),
         to=to, reason=data.reason)
    return lead


def close_lead(session: Session, actor: Actor, lead_id: int, data: CloseIn) -> Lead:
    """Close (never delete) a lead; it stays listed with its history."""
    lead = _open_lead(session, actor, lead_id)
    _event(lead, actor, "closed", data.reason, from_stage=lead.stage)
    lead.closed = True
    lead.closed_reason = data.reason
    lead.handover_to = None
    session.flush()
    record(session, actor, "lead.close", f"lead:{lead.id}")
    note(session, actor, "lead.closed", "lead", lead, lead.owner_department_code, _name(lead),
         reason=data.reason)
    return lead


def create_service_request(session: Session, actor: Actor, data: ServiceRequestIn,
                           today: dt.date) -> ServiceRequest:
    """File an enterprise's request; it is routed to the department handling its topic and
    is due ``REQUEST_DAYS`` working days from today unless a deadline is given."""
    ent = get_or_404(session, Enterprise, data.enterprise_id, N_("Enterprise"))
    require(actor, "investment.edit", {"area_code": ent.area_code})
    problems = []
    if data.lead_id is not None and session.get(Lead, data.lead_id) is None:
        problems.append(Problem(N_("Unknown lead {id}."), {"id": data.lead_id}, field="lead_id",
                                value=data.lead_id))
    dept = ROUTING.get(data.topic, "invest")
    if session.get(Department, dept) is None:
        problems.append(Problem(N_("No department handles topic '{topic}' (expected '{code}')."),
                                {"topic": data.topic, "code": dept}, field="topic",
                                value=data.topic))
    if data.due_on is not None and data.due_on < today:
        problems.append(Problem(N_("The deadline {date} has already passed."),
                                {"date": data.due_on.isoformat()}, field="due_on",
                                value=data.due_on.isoformat()))
    raise_if(problems)
    req = ServiceRequest(enterprise_id=ent.id, lead_id=data.lead_id, topic=data.topic,
                         description=data.description, department_code=dept,
                         area_code=ent.area_code, created_by=actor.username,
                         due_on=data.due_on or add_working_days(today, REQUEST_DAYS))
    session.add(req)
    session.flush()
    record(session, actor, "service_request.create", f"request:{req.id}", {"to": dept})
    note(session, actor, "request.created", "request", req, dept, (ent.name_zh, ent.name_en),
         to=dept, due=req.due_on)
    return req


def update_service_request(session: Session, actor: Actor, request_id: int,
                           data: RequestUpdateIn) -> ServiceRequest:
    """The routed department works on a request or answers it (done needs the answer)."""
    req = get_or_404(session, ServiceRequest, request_id, N_("Service request"))
    require(actor, "investment.edit", req)
    if req.status == "done":
        raise Conflict("This request is already done.")
    if data.status == "done" and not (data.response or req.response):
        raise_if([Problem(N_("Write the answer given to the enterprise."), field="response")])
    req.status = data.status
    req.response = data.response or req.response
    if data.status == "done":
        req.resolved_at = utcnow()
    session.flush()
    record(session, actor, "service_request.update", f"request:{req.id}",
           {"status": data.status})
    ent = session.get(Enterprise, req.enterprise_id)
    note(session, actor, "request.updated", "request", req, req.department_code,
         (ent.name_zh, ent.name_en) if ent else ("", ""), status=data.status)
    return req


def _visible(actor: Actor, area_code: str) -> bool:
    prefixes = scope_prefixes(actor, "investment.view")
    return prefixes is None or any(area_code.startswith(p) for p in prefixes)


def visible_leads(session: Session, actor: Actor) -> list[Lead]:
    require(actor, "investment.view", None)
    leads = session.scalars(select(Lead).order_by(Lead.id))
    return [lead for lead in leads if _visible(actor, lead.area_code)]


def lead_row(lead: Lead, enterprises: dict[int, Enterprise],
             names: dict[str, str] | None = None) -> dict[str, Any]:
    ent = enterprises.get(lead.enterprise_id)
    n = names or {}
    return {
        "id": lead.id, "title": bilingual(lead.title_zh, lead.title_en),
        "enterprise": bilingual(ent.name_zh, ent.name_en) if ent else "",
        "enterprise_id": lead.enterprise_id, "industry": lead.industry,
        "industry_name": label(INDUSTRY_NAMES, lead.industry), "stage": lead.stage,
        "stage_name": label(LEAD_STAGE_NAMES, lead.stage),
        "source_department_code": lead.source_department_code,
        "owner_department_code": lead.owner_department_code,
        "source_department": n.get(lead.source_department_code, lead.source_department_code),
        "owner_department": n.get(lead.owner_department_code, lead.owner_department_code),
        "handover_to": lead.handover_to,
        "handover_department": n.get(lead.handover_to, lead.handover_to)
        if lead.handover_to else None,
        "area_code": lead.area_code,
        "expected_yi": yi(lead.expected_wan), "closed": lead.closed,
        "landed_on": lead.landed_on.isoformat() if lead.landed_on else None,
        "events": len(lead.events), "updated_at": lead.updated_at.isoformat(),
    }


def list_leads(session: Session, actor: Actor, stage: str | None = None,
               department: str | None = None) -> list[dict[str, Any]]:
    leads = visible_leads(session, actor)
    ents = {e.id: e for e in session.scalars(select(Enterprise))}
    names = department_names(session)
    rows = [lead_row(x, ents, names) for x in leads]
    return [r for r in rows if (stage is None or r["stage"] == stage) and (
        department is None or department in (r["source_department_code"],
                                             r["owner_department_code"]))]


EVENT_NAMES = {"created": N_("Entered"), "follow_up": N_("Follow-up"), "stage": N_("Stage"),
               "handover": N_("Hand-over offered"), "accepted": N_("Hand-over accepted"),
               "refused": N_("Hand-over refused"), "closed": N_("Closed")}


def lead_history(session: Session, actor: Actor, lead_id: int) -> list[dict[str, Any]]:
    require(actor, "investment.view", None)
    lead = get_or_404(session, Lead, lead_id, N_("Lead"))
    require(actor, "investment.view", {"area_code": lead.area_code})
    names = department_names(session)
    return [{"at": e.at.isoformat(), "actor": e.actor, "department_code": e.department_code,
             "department": names.get(e.department_code or "", ""), "kind": e.kind,
             "kind_name": label(EVENT_NAMES, e.kind), "from_stage": e.from_stage,
             "to_stage": e.to_stage,
             "to_stage_name": label(LEAD_STAGE_NAMES, e.to_stage) if e.to_stage else "",
             "note": e.note} for e in lead.events]


def lead_detail(session: Session, actor: Actor, lead_id: int) -> dict[str, Any]:
    """A lead with its history and what the reader's department may do with it."""
    history = lead_history(session, actor, lead_id)
    lead = get_or_404(session, Lead, lead_id, N_("Lead"))
    ents = {lead.enterprise_id: session.get(Enterprise, lead.enterprise_id)}
    row = lead_row(lead, {k: v for k, v in ents.items() if v is not None},
                   department_names(session))
    holder = can(actor, "investment.edit", lead) and not lead.closed
    row.update({
        "history": history, "closed_reason": lead.closed_reason,
        "handover_note": lead.handover_note, "handover_by": lead.handover_by,
        "can_follow_up": can(actor, "investment.edit", {"area_code": lead.area_code})
        and not lead.closed,
        "can_manage": holder, "can_hand_over": holder and lead.handover_to is None,
        "can_answer": lead.handover_to is not None and can(
            actor, "investment.edit", {"area_code": lead.area_code,
                                       "department_code": lead.handover_to}),
    })
    return row


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
    names = department_names(session)
    return {"total": len(leads), "open": sum(1 for x in leads if not x.closed),
            "closed": sum(1 for x in leads if x.closed), "landed": landed,
            "overall_conversion_pct": round(100 * landed / len(leads), 1) if leads else None,
            "stages": stages,
            "by_source_department": [{"department_code": k, "department": names.get(k, k),
                                      "count": v} for k, v in sorted(by_dept.items())]}


def list_service_requests(session: Session, actor: Actor,
                          today: dt.date | None = None) -> list[dict[str, Any]]:
    require(actor, "investment.view", None)
    ents = {e.id: e for e in session.scalars(select(Enterprise))}
    names = department_names(session)
    out = []
    for r in session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)):
        if not _visible(actor, r.area_code):
            continue
        ent = ents.get(r.enterprise_id)
        out.append({"id": r.id, "enterprise": bilingual(ent.name_zh, ent.name_en) if ent else "",
                    "enterprise_id": r.enterprise_id, "lead_id": r.lead_id,
                    "topic": r.topic, "topic_name": label(TOPIC_NAMES, r.topic),
                    "department_code": r.department_code,
                    "department": names.get(r.department_code, r.department_code),
                    "status": r.status, "status_name": label(REQUEST_STATUS_NAMES, r.status),
                    "description": r.description, "response": r.response,
                    "due_on": r.due_on.isoformat() if r.due_on else None,
                    "overdue": bool(today and r.due_on and r.status != "done"
                                    and r.due_on < today),
                    "can_answer": r.status != "done" and can(actor, "investment.edit", r),
                    "created_at": r.created_at.isoformat(),
                    "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None})
    return out


def board(session: Session, actor: Actor, today: dt.date) -> dict[str, Any]:
    """The desk's status board: open leads by stage, hand-overs waiting for an answer (those
    for the reader's department first) and service requests by status, overdue flagged."""
    leads = [r for r in list_leads(session, actor) if not r["closed"]]
    mine = actor.department_codes
    waiting = sorted((r for r in leads if r["handover_to"]),
                     key=lambda r: (r["handover_to"] not in mine, r["id"]))
    requests = list_service_requests(session, actor, today)
    return {
        "columns": [{"stage": s, "name": label(LEAD_STAGE_NAMES, s),
                     "leads": [r for r in leads if r["stage"] == s]} for s in LEAD_STAGES],
        "handovers": [r | {"for_me": r["handover_to"] in mine or can(
            actor, "investment.edit", {"area_code": r["area_code"],
                                       "department_code": r["handover_to"]})}
                      for r in waiting],
        "requests": {s: [r for r in requests if r["status"] == s] for s in REQUEST_STATUS_NAMES},
        "overdue_requests": sum(1 for r in requests if r["overdue"]),
    }


def enterprise_choices(session: Session, actor: Actor) -> list[tuple[int, str]]:
    require(actor, "investment.view", None)
    return [(e.id, bilingual(e.name_zh, e.name_en))
            for e in session.scalars(select(Enterprise).order_by(Enterprise.id))
            if _visible(actor, e.area_code)]
