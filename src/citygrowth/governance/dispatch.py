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

from citygrowth.auth.actor import Actor
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import require
from citygrowth.errors import NotFound, Problem, ValidationFailed
from citygrowth.governance.models import CaseCategory, DispatchRule


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


def add_rule(session: Session, actor: Actor, data: dict[str, Any]) -> DispatchRule:
    """Add a rule (district administrators)."""
    require(actor, "case.taxonomy", None)
    cat = data.get("category_code") or None
    dept = data.get("department_code") or ""
    prefix = str(data.get("area_prefix") or "")
    problems = []
    if cat is not None and session.get(CaseCategory, cat) is None:
        problems.append(Problem("No case category {code}.", params={"code": cat},
                                field="category_code", value=cat))
    if session.get(Department, dept) is None:
        problems.append(Problem("No department {code} to dispatch to.", params={"code": dept},
                                field="department_code", value=dept))
    if prefix and (not prefix.isdigit() or len(prefix) > 15):
        problems.append(Problem("The area prefix must be digits of an area code.",
                                field="area_prefix", value=prefix))
    if problems:
        raise ValidationFailed(problems=problems)
    rule = DispatchRule(category_code=cat, area_prefix=prefix, department_code=dept,
                        priority=int(data.get("priority") or 0), note=str(data.get("note", "")))
    session.add(rule)
    session.flush()
    return rule


def delete_rule(session: Session, actor: Actor, rule_id: int) -> None:
    require(actor, "case.taxonomy", None)
    rule = session.get(DispatchRule, rule_id)
    if rule is None:
        raise NotFound("No dispatch rule {id}.", id=rule_id)
    session.delete(rule)
    session.flush()
