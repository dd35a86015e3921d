"""The case taxonomy: 部件 (components) and 事件 (events) in 大类 > 小类, with codes, zh/en
names, default handling department and time limit (working hours).

Codes: ``C`` + 2-digit 大类 (+ 2-digit 小类) for components, ``E`` … for events, after the
classes of GB/T 30428.2 (公用设施, 道路交通, 市容环境 …). The set below is a sensible default;
plugins add categories through ``citygrowth_case_categories`` and administrators edit them
on ``/admin/cases/categories`` (``governance.admin``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import require
from citygrowth.errors import NotFound, Problem, ValidationFailed
from citygrowth.governance.models import KINDS, CaseCategory
from citygrowth.plugins import CaseCategorySpec, collect_list
from citygrowth.runtime import Runtime


@dataclass(frozen=True)
class Cat:
    code: str
    zh: str
    en: str
    dept: str | None = None
    hours: float | None = None
    after_photo: bool = False


_DESC = {"code": "description", "datatype": "text", "required": False,
         "description": "Extra detail", "order": 1, "variable": True}

MAJORS: tuple[Cat, ...] = (
    Cat("C01", "公用设施", "Public utilities", "urban", 16, True),
    Cat("C02", "道路交通", "Roads and traffic", "urban", 16, True),
    Cat("C03", "市容环境", "City appearance", "urban", 16, True),
    Cat("C04", "园林绿化", "Parks and greenery", "ecology", 24, True),
    Cat("C05", "房屋土地", "Buildings and land", "housing", 32, True),
    Cat("E01", "市容环境", "City appearance", "urban", 8),
    Cat("E02", "宣传广告", "Advertising", "urban", 16),
    Cat("E03", "施工管理", "Construction", "housing", 16),
    Cat("E04", "突发事件", "Emergencies", "urban", 2),
    Cat("E05", "街面秩序", "Street order", "market", 8),
    Cat("E06", "生态环境", "Environment", "ecology", 16),
    Cat("E07", "社会服务", "Social services", "civil", 16),
)

MINORS: tuple[Cat, ...] = (
    Cat("C0101", "上水井盖", "Water-supply manhole cover", "urban", 8),
    Cat("C0102", "污水井盖", "Sewer manhole cover", "urban", 8),
    Cat("C0103", "雨水箅子", "Storm-drain grate", "urban", 8),
    Cat("C0104", "消防栓", "Fire hydrant", "urban", 8),
    Cat("C0105", "路灯", "Street light", "urban", 16),
    Cat("C0201", "交通信号灯", "Traffic light", "urban", 4),
    Cat("C0202", "交通护栏", "Traffic barrier", "urban", 16),
    Cat("C0203", "道路标牌", "Road sign", "urban", 16),
    Cat("C0301", "公共厕所", "Public toilet", "urban", 8),
    Cat("C0302", "垃圾箱", "Litter bin", "urban", 8),
    Cat("C0303", "公共座椅", "Public bench", "urban", 24),
    Cat("C0401", "行道树", "Street tree", "ecology", 24),
    Cat("C0402", "绿地", "Green space", "ecology", 24),
    Cat("C0501", "危房", "Unsafe building", "housing", 16),
    Cat("E0101", "暴露垃圾", "Exposed garbage", "urban", 4),
    Cat("E0102", "道路不洁", "Dirty road", "urban", 4),
    Cat("E0103", "积存垃圾渣土", "Accumulated waste", "urban", 8),
    Cat("E0201", "违规张贴小广告", "Illegal flyers", "urban", 8),
    Cat("E0202", "违规户外广告", "Illegal outdoor advertising", "urban", 24),
    Cat("E0301", "施工扰民", "Construction nuisance", "housing", 8),
    Cat("E0302", "违法建设", "Illegal construction", "housing", 40),
    Cat("E0401", "路面塌陷", "Road collapse", "urban", 2),
    Cat("E0402", "积水内涝", "Waterlogging", "urban", 2),
    Cat("E0501", "占道经营", "Street vending", "market", 4),
    Cat("E0502", "违章停车", "Illegal parking", "urban", 4),
    Cat("E0503", "店外经营", "Business outside the shop", "market", 8),
    Cat("E0601", "噪声污染", "Noise", "ecology", 8),
    Cat("E0602", "油烟污染", "Cooking fumes", "ecology", 16),
    Cat("E0701", "困难群众求助", "Residents in need", "civil", 16),
    Cat("E0702", "养老服务诉求", "Elderly care request", "civil", 24),
)


def default_categories() -> list[CaseCategorySpec]:
    """The built-in taxonomy as specs (大类 first, then 小类). Every component 大类 asks for a
    photo of the result with 处置反馈 (a repaired cover, light or bench is seen, not told)."""
    out = [CaseCategorySpec(code=c.code, kind=_kind(c.code), name_zh=c.zh, name_en=c.en,
                            department_code=c.dept, time_limit_hours=c.hours,
                            after_photo_required=c.after_photo) for c in MAJORS]
    out += [CaseCategorySpec(code=c.code, kind=_kind(c.code), name_zh=c.zh, name_en=c.en,
                             parent_code=c.code[:3], department_code=c.dept,
                             time_limit_hours=c.hours, attributes=(_DESC,)) for c in MINORS]
    return out


def _kind(code: str) -> str:
    return "component" if code.startswith("C") else "event"


def ensure_taxonomy(session: Session, runtime: Runtime) -> int:
    """Insert the default and plugin categories that are missing (never overwrites edits).

    A category's default department is kept only when that department exists.
    """
    specs = default_categories()
    specs += collect_list(runtime.plugins.hook.citygrowth_case_categories(runtime=runtime))
    have = set(session.scalars(select(CaseCategory.code)))
    depts = set(session.scalars(select(Department.code)))
    added = 0
    for spec in sorted(specs, key=lambda s: (s.parent_code is not None, s.code)):
        if spec.code in have:
            continue
        session.add(CaseCategory(
            code=spec.code, kind=spec.kind, parent_code=spec.parent_code, name_zh=spec.name_zh,
            name_en=spec.name_en,
            department_code=spec.department_code if spec.department_code in depts else None,
            time_limit_hours=spec.time_limit_hours, attributes=list(spec.attributes),
            after_photo_required=spec.after_photo_required, active=True))
        have.add(spec.code)
        added += 1
    session.flush()
    return added


def leaf_categories(session: Session) -> list[CaseCategory]:
    """Active 小类 (the categories a report picks), ordered by code."""
    return list(session.scalars(
        select(CaseCategory).where(CaseCategory.parent_code.is_not(None),
                                   CaseCategory.active.is_(True)).order_by(CaseCategory.code)))


def get_category(session: Session, code: str) -> CaseCategory:
    cat = session.get(CaseCategory, code)
    if cat is None or not cat.active:
        raise NotFound("No case category {value}.", value=code)
    return cat


def save_category(session: Session, actor: Actor, data: dict[str, Any]) -> CaseCategory:
    """Create or edit a category (district administrators)."""
    require(actor, "case.taxonomy", None)
    problems = []
    code = str(data.get("code", "")).strip()
    if not code or len(code) > 20:
        problems.append(Problem("A category needs a code of at most 20 characters.",
                                field="code", value=code))
    if data.get("kind") not in KINDS:
        problems.append(Problem("Kind must be component or event.", field="kind",
                                value=data.get("kind")))
    if not str(data.get("name_zh", "")).strip():
        problems.append(Problem("A Chinese name is required.", field="name_zh"))
    hours = data.get("time_limit_hours")
    if hours is not None and (not isinstance(hours, (int, float)) or hours <= 0):
        problems.append(Problem("The time limit must be a positive number of working hours.",
                                field="time_limit_hours", value=hours))
    if problems:
        raise ValidationFailed(problems=problems)
    cat = session.get(CaseCategory, code) or CaseCategory(code=code, attributes=[], active=True)
    cat.kind = data["kind"]
    cat.parent_code = data.get("parent_code") or None
    cat.name_zh = str(data["name_zh"]).strip()
    cat.name_en = str(data.get("name_en", "")).strip()
    cat.department_code = data.get("department_code") or None
    cat.time_limit_hours = float(hours) if hours is not None else None
    session.add(cat)
    session.flush()
    return cat
