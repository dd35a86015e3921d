"""Dispatch rules: category × area → department.

A rule names a category (a 小类, a 大类, or none for every category) and an area-code prefix
(a street, a community, a grid cell, or empty for the whole district). For a case the matching
rule with the most specific category, then the longest area prefix, then the highest priority
wins; without a matching rule the category's (or its 大类's) default department is used.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import require
from citygrowth.errors import NotFound, Problem, ValidationFailed
from citygrowth.governance.admin import check_department, parse_number
from citygrowth.governance.models import CaseCategory, DispatchRule
from citygrowth.i18n import N_


def _category_chain(session: Session, code: str) -> list[str]:
    chain: list[str] = []
    cat = session.get(CaseCategory, code)
    while cat is not None and cat.code not in chain:
        chain.append(cat.code)
        cat = session.get(CaseCategory, cat.parent_code) if cat.parent_code else None
    return chain


def route(session: Session, category_code: str, area_code: str) -> str | None:
    """The department a case of ``category_code`` in ``area_code`` goes to (or None)."""
    chain = _category_chain(session, category_code)
    best: tuple[int, int, int] | None = None
    chosen: str | None = None
    for rule in session.scalars(select(DispatchRule)):
        if rule.category_code is not None and rule.category_code not in chain:
            continue
        if not area_code.startswith(rule.area_prefix or ""):
            continue
        cat_rank = (len(chain) - chain.index(rule.category_code)) if rule.category_code else 0
        key = (cat_rank, len(rule.area_prefix or ""), rule.priority)
        if best is None or key > best:
            best, chosen = key, rule.department_code
    if chosen:
        return chosen
    for code in chain:
        cat = session.get(CaseCategory, code)
        if cat is not None and cat.department_code:
            return cat.department_code
    return None


def list_rules(session: Session, actor: Actor) -> list[DispatchRule]:
    require(actor, "case.view", None)
    return list(session.scalars(select(DispatchRule).order_by(DispatchRule.id)))


def rule_dict(rule: DispatchRule) -> dict[str, Any]:
    return {"id": rule.id, "category_code": rule.category_code, "area_prefix": rule.area_prefix,
            "department_code": rule.department_code, "priority": rule.priority,
            "note": rule.note}


def _rule_values(session: Session, data: dict[str, Any],
                 rule_id: int | None = None) -> dict[str, Any]:
    """The checked values of a rule, or ``ValidationFailed`` naming each bad field."""
    cat = str(data.get("category_code") or "").strip().upper() or None
    prefix = str(data.get("area_prefix") or "").strip()
    note = str(data.get("note") or "").strip()
    problems: list[Problem] = []
    if cat is not None and session.get(CaseCategory, cat[:20]) is None:
        problems.append(Problem("No case category {code}.", params={"code": cat},
                                field="category_code", value=cat))
    dept = check_department(session, str(data.get("department_code") or "").strip(),
                            "department_code", problems, required=True)
    if prefix and (not prefix.isdigit() or len(prefix) > 15):
        problems.append(Problem("The area prefix must be digits of an area code.",
                                field="area_prefix", value=prefix[:40]))
    elif prefix and session.get(Area, prefix) is None:
        problems.append(Problem(N_("No area has the code {code}."), params={"code": prefix},
                                field="area_prefix", value=prefix))
    priority = parse_number(data.get("priority"), "priority", problems, low=-1000, high=1000,
                            integer=True)
    if len(note) > 300:
        problems.append(Problem(N_("At most {n} characters."), {"n": 300}, field="note"))
    if not problems:
        same = select(DispatchRule.id).where(
            DispatchRule.category_code.is_(None) if cat is None
            else DispatchRule.category_code == cat,
            DispatchRule.area_prefix == prefix, DispatchRule.priority == int(priority or 0))
        if rule_id is not None:
            same = same.where(DispatchRule.id != rule_id)
        if session.scalar(same.limit(1)) is not None:
            problems.append(Problem(N_("Another rule has the same category, area and "
                                       "priority; give this one another priority."),
                                    field="priority", value=int(priority or 0)))
    if problems:
        raise ValidationFailed(problems=problems)
    return {"category_code": cat, "area_prefix": prefix, "department_code": dept,
            "priority": int(priority or 0), "note": note}


def get_rule(session: Session, actor: Actor, rule_id: int) -> DispatchRule:
    require(actor, "case.taxonomy", None)
    rule = session.get(DispatchRule, rule_id)
    if rule is None:
        raise NotFound("No dispatch rule {id}.", id=rule_id)
    return rule


def add_rule(session: Session, actor: Actor, data: dict[str, Any]) -> DispatchRule:
    """Add a rule (district administrators)."""
    require(actor, "case.taxonomy", None)
    rule = DispatchRule(**_rule_values(session, data))
    session.add(rule)
    session.flush()
    record(session, actor, "dispatch_rule.create", f"dispatch_rule:{rule.id}", rule_dict(rule))
    return rule


def update_rule(session: Session, actor: Actor, rule_id: int,
                data: dict[str, Any]) -> DispatchRule:
    """Change a rule's category, area, department, priority or note."""
    rule = get_rule(session, actor, rule_id)
    before = rule_dict(rule)
    for key, value in _rule_values(session, data, rule_id).items():
        setattr(rule, key, value)
    session.flush()
    after = rule_dict(rule)
    record(session, actor, "dispatch_rule.update", f"dispatch_rule:{rule.id}",
           {"changed": {k: [before[k], after[k]] for k in after if before[k] != after[k]}})
    return rule


def delete_rule(session: Session, actor: Actor, rule_id: int) -> None:
    rule = get_rule(session, actor, rule_id)
    gone = rule_dict(rule)
    session.delete(rule)
    session.flush()
    record(session, actor, "dispatch_rule.delete", f"dispatch_rule:{rule_id}", gone)
