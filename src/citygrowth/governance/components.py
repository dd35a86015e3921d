"""The components registry (部件): urban furniture with a 16-digit id placed in grid cells.

id = 6-digit district code + 2-digit 大类 + 2-digit 小类 + 6-digit serial, after GB/T 30428.2
(e.g. ``3702030101000007`` is the 7th water-supply manhole cover, C0101, of district 370203).
A component case (部件 category) may name the component it concerns.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import require, scope_prefixes
from citygrowth.errors import NotFound, Problem, ValidationFailed
from citygrowth.governance.intake import ReportInput, locate
from citygrowth.governance.models import CaseCategory, Component


def component_prefix(district_code: str, category_code: str) -> str:
    """The first 10 digits of the ids of a 小类 of components (``C0101`` → ``3702030101``)."""
    return district_code + category_code[1:5]


def register_component(session: Session, actor: Actor, category_code: str, lon: float,
                       lat: float, district_code: str,
                       owner_department_code: str | None = None) -> Component:
    """Register a component at a position; it gets the next serial of its 小类."""
    cat = session.get(CaseCategory, category_code)
    if cat is None or cat.kind != "component" or cat.parent_code is None:
        raise ValidationFailed(problems=[Problem(
            "No case category {code}.", params={"code": category_code}, field="category_code",
            value=category_code)])
    area = locate(session, ReportInput(category_code, lon, lat), district_code)
    require(actor, "case.taxonomy", area)
    prefix = component_prefix(district_code, category_code)
    last = session.scalar(select(func.max(Component.id)).where(Component.id.startswith(prefix)))
    serial = int(last[10:]) + 1 if last else 1
    if serial > 999999:
        raise ValidationFailed("No serial numbers left for {value}.", value=category_code)
    comp = Component(id=f"{prefix}{serial:06d}", category_code=category_code, area_code=area,
                     lon=lon, lat=lat, status="intact",
                     owner_department_code=owner_department_code or cat.department_code,
                     illustrative=False)
    session.add(comp)
    session.flush()
    return comp


def get_component(session: Session, component_id: str) -> Component:
    comp = session.get(Component, component_id)
    if comp is None:
        raise NotFound("No component {id}.", id=component_id)
    return comp


def list_components(session: Session, actor: Actor, area_prefix: str | None = None,
                    limit: int = 500) -> list[Component]:
    require(actor, "case.view", None)
    q = select(Component).order_by(Component.id)
    prefixes = scope_prefixes(actor, "case.view")
    if prefixes is not None:
        q = q.where(or_(*[Component.area_code.startswith(p) for p in prefixes])) if prefixes \
            else q.where(Component.id.is_(None))
    if area_prefix:
        q = q.where(Component.area_code.startswith(area_prefix, autoescape=True))
    return list(session.scalars(q.limit(limit)))
