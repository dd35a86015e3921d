"""Administering the case taxonomy: add, edit, deactivate and reactivate categories.

District administrators (permission ``case.taxonomy``) maintain the 大类 > 小类 tree in the
browser (``/admin/cases/categories``) and through ``/api/admin/cases/categories``. Every input
error is a :class:`Problem` naming its field; every change is written to the audit log.

Codes follow the scheme the component ids rely on (``components.component_prefix``): a 大类 is
``C`` (components) or ``E`` (events) and two digits, a 小类 its 大类's code and two digits; the
kind follows from the letter. Code, kind and parent are fixed once a category exists (cases,
components and dispatch rules refer to the code). A category is never deleted: it is
deactivated, and intake then refuses it; deactivating a 大类 deactivates its 小类 too, and a 小类
is reactivated only under an active 大类.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import require
from citygrowth.errors import Conflict, NotFound, Problem, ValidationFailed
from citygrowth.governance.models import CaseCategory
from citygrowth.i18n import N_

PERMISSION = "case.taxonomy"
MAJOR_CODE = re.compile(r"^[CE]\d{2}$")
MAX_HOURS = 1000.0
EDITABLE = ("name_zh", "name_en", "department_code", "time_limit_hours", "after_photo_required")


@dataclass
class CategoryNode:
    """A 大类 with its 小类 (all of them, active or not), for the administration list."""

    category: CaseCategory
    children: list[CaseCategory] = field(default_factory=list)


def category_dict(cat: CaseCategory) -> dict[str, Any]:
    return {"code": cat.code, "kind": cat.kind, "parent_code": cat.parent_code,
            "name_zh": cat.name_zh, "name_en": cat.name_en,
            "department_code": cat.department_code, "time_limit_hours": cat.time_limit_hours,
            "attributes": list(cat.attributes or []),
            "after_photo_required": bool(cat.after_photo_required), "active": bool(cat.active)}


def category_tree(session: Session, actor: Actor) -> list[CategoryNode]:
    """Every category as 大类 → 小类, ordered by code (a 小类 without its 大类 stands alone)."""
    require(actor, PERMISSION, None)
    cats = list(session.scalars(select(CaseCategory).order_by(CaseCategory.code)))
    nodes = {c.code: CategoryNode(c) for c in cats if c.parent_code is None}
    loose: list[CategoryNode] = []
    for c in cats:
        if c.parent_code is None:
            continue
        if c.parent_code in nodes:
            nodes[c.parent_code].children.append(c)
        else:
            loose.append(CategoryNode(c))
    return sorted([*nodes.values(), *loose], key=lambda n: n.category.code)


def get_any_category(session: Session, actor: Actor, code: str) -> CaseCategory:
    """A category, active or not (administrators only)."""
    require(actor, PERMISSION, None)
    cat = session.get(CaseCategory, code) or session.get(CaseCategory, code.upper())
    if cat is None:
        raise NotFound("No case category {value}.", value=code)
    return cat


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()


def parse_number(value: Any, name: str, problems: list[Problem], *, low: float, high: float,
                 integer: bool = False, low_open: bool = False) -> float | None:
    """A number from a form or JSON value ('' and None: no value), or a problem for ``name``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value.strip() if isinstance(value, str) else value)
        if not math.isfinite(number) or (integer and number != int(number)):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        problems.append(Problem(N_("Enter a whole number.") if integer else N_("Enter a number."),
                                field=name, value=str(value)[:40]))
        return None
    if number > high or number < low or (low_open and number == low):
        params = {"low": int(low) if low == int(low) else low, "high": int(high)}
        problems.append(Problem(
            N_("Enter a number greater than {low} and at most {high}.") if low_open
            else N_("Enter a number from {low} to {high}."), params, field=name,
            value=number))
        return None
    return int(number) if integer else number


def check_department(session: Session, code: str, name: str, problems: list[Problem],
                     required: bool = False) -> str | None:
    """The code of an active department, or a problem for ``name``."""
    if not code:
        if required:
            problems.append(Problem(N_("Choose a department."), field=name))
        return None
    dept = session.get(Department, code[:40])
    if dept is None or not dept.active:
        problems.append(Problem("No department {code} to dispatch to.", {"code": code},
                                field=name, value=code))
        return None
    return dept.code


TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
FALSE_WORDS = frozenset({"", "0", "false", "off", "no"})


def parse_flag(value: Any, name: str, problems: list[Problem]) -> bool:
    """A yes/no from JSON (true/false), a form checkbox ("on" or absent) or the CLI."""
    if value is None or isinstance(value, bool):
        return bool(value)
    word = str(value).strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    problems.append(Problem(N_("Answer yes or no (true or false)."), field=name,
                            value=str(value)[:40]))
    return False


def _common(session: Session, data: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    name_zh, name_en = _text(data, "name_zh"), _text(data, "name_en")
    if not name_zh:
        problems.append(Problem(N_("A Chinese name is required."), field="name_zh"))
    elif len(name_zh) > 120:
        problems.append(Problem(N_("At most {n} characters."), {"n": 120}, field="name_zh"))
    if len(name_en) > 160:
        problems.append(Problem(N_("At most {n} characters."), {"n": 160}, field="name_en"))
    return {
        "name_zh": name_zh, "name_en": name_en,
        "department_code": check_department(session, _text(data, "department_code"),
                                            "department_code", problems),
        "time_limit_hours": parse_number(data.get("time_limit_hours"), "time_limit_hours",
                                         problems, low=0, high=MAX_HOURS, low_open=True),
        "after_photo_required": parse_flag(data.get("after_photo_required"),
                                           "after_photo_required", problems),
    }


def create_category(session: Session, actor: Actor, data: dict[str, Any]) -> CaseCategory:
    """Add a 大类 (no ``parent_code``) or a 小类 under an active 大类."""
    require(actor, PERMISSION, None)
    problems: list[Problem] = []
    code = _text(data, "code").upper()
    parent_code = _text(data, "parent_code").upper() or None
    parent = None
    if parent_code is not None:
        parent = session.get(CaseCategory, parent_code[:20])
        if parent is None:
            problems.append(Problem("No case category {code}.", {"code": parent_code},
                                    field="parent_code", value=parent_code))
        elif parent.parent_code is not None:
            problems.append(Problem(N_("A sub-category belongs to a main category, not to "
                                       "another sub-category."), field="parent_code",
                                    value=parent_code))
            parent = None
        elif not parent.active:
            problems.append(Problem(N_("The category {code} is deactivated."),
                                    {"code": parent_code}, field="parent_code",
                                    value=parent_code))
    if parent_code is None and not MAJOR_CODE.match(code):
        problems.append(Problem(N_("A main category's code is C (components) or E (events) "
                                   "and two digits, e.g. E08."), field="code", value=code[:40]))
    elif parent is not None and not re.fullmatch(re.escape(parent.code) + r"\d{2}", code):
        problems.append(Problem(N_("A sub-category's code is its category's code and two "
                                   "digits, e.g. {example}."), {"example": parent.code + "01"},
                                field="code", value=code[:40]))
    elif code and session.get(CaseCategory, code[:20]) is not None:
        problems.append(Problem(N_("A category with the code {code} exists already."),
                                {"code": code}, field="code", value=code))
    values = _common(session, data, problems)
    if problems:
        raise ValidationFailed(problems=problems)
    cat = CaseCategory(code=code, kind="component" if code.startswith("C") else "event",
                       parent_code=parent.code if parent else None, attributes=[],
                       active=True, **values)
    session.add(cat)
    session.flush()
    record(session, actor, "case_category.create", f"case_category:{code}", category_dict(cat))
    return cat


def update_category(session: Session, actor: Actor, code: str,
                    data: dict[str, Any]) -> CaseCategory:
    """Edit a category's names, default department, time limit and whether 处置反馈 needs a
    photo of the result (code and parent stay)."""
    cat = get_any_category(session, actor, code)
    problems: list[Problem] = []
    for key in ("code", "parent_code"):
        given = data.get(key)
        if given not in (None, "") and str(given).strip().upper() != (
                getattr(cat, key) or ""):
            problems.append(Problem(N_("The code and parent of a category cannot be changed."),
                                    field=key, value=str(given)[:40]))
    values = _common(session, data, problems)
    if problems:
        raise ValidationFailed(problems=problems)
    before = {k: getattr(cat, k) for k in EDITABLE}
    for key, value in values.items():
        setattr(cat, key, value)
    session.flush()
    changed = {k: [before[k], values[k]] for k in EDITABLE if before[k] != values[k]}
    record(session, actor, "case_category.update", f"case_category:{cat.code}",
           {"changed": changed})
    return cat


def set_category_active(session: Session, actor: Actor, code: str,
                        active: bool) -> CaseCategory:
    """Deactivate (with its 小类) or reactivate a category; nothing is ever deleted."""
    cat = get_any_category(session, actor, code)
    also: list[str] = []
    if active:
        parent = session.get(CaseCategory, cat.parent_code) if cat.parent_code else None
        if parent is not None and not parent.active:
            raise Conflict(N_("Reactivate its category {code} first."), code=parent.code)
    elif cat.parent_code is None:
        for child in session.scalars(select(CaseCategory).where(
                CaseCategory.parent_code == cat.code, CaseCategory.active.is_(True))):
            child.active = False
            also.append(child.code)
    if bool(cat.active) == active and not also:
        return cat
    cat.active = active
    session.flush()
    record(session, actor, "case_category.reactivate" if active else
           "case_category.deactivate", f"case_category:{cat.code}",
           {"sub_categories": sorted(also)} if also else {})
    return cat
