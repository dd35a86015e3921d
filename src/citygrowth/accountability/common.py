"""Helpers shared by the accountability services: look-ups, labels, today's date."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth.models import Department
from citygrowth.errors import NotFound, Problem, ValidationFailed
from citygrowth.i18n import N_, _, bilingual

T = TypeVar("T")

INDUSTRY_NAMES = {
    "blue_economy": N_("Blue economy"),
    "sci_tech": N_("Science and technology innovation"),
    "big_data": N_("Big data"),
    "finance": N_("Finance"),
    "commerce": N_("Commerce and trade"),
    "culture_tourism": N_("Culture and tourism"),
    "urban_renewal": N_("Urban renewal"),
    "health": N_("Health care"),
    "other": N_("Other"),
}
PROJECT_STAGE_NAMES = {
    "planning": N_("Planning"),
    "preparing": N_("Preparing"),
    "construction": N_("Under construction"),
    "completed": N_("Completed"),
}
APPROVAL_KIND_NAMES = {
    "approval": N_("Approval (核准)"),
    "filing": N_("Filing (备案)"),
    "initiation": N_("Initiation (立项)"),
}
LEAD_STAGE_NAMES = {
    "new": N_("New lead"),
    "contacted": N_("Contacted"),
    "negotiating": N_("Negotiating"),
    "signed": N_("Signed"),
    "landed": N_("Landed"),
}
TOPIC_NAMES = {
    "site": N_("Site and premises"),
    "permit": N_("Permits and approvals"),
    "talent": N_("Talent and employment"),
    "finance": N_("Finance and subsidies"),
    "technology": N_("Technology and patents"),
    "market": N_("Market registration"),
    "other": N_("Other"),
}

REQUEST_STATUS_NAMES = {
    "open": N_("Open"),
    "in_progress": N_("In progress"),
    "done": N_("Done"),
}


def label(table: dict[str, str], key: str) -> str:
    """The translated label of a code, or the code itself when unknown."""
    return _(table[key]) if key in table else key


def get_or_404(session: Session, model: type[T], key: Any, what: str) -> T:
    obj = session.get(model, key)
    if obj is None:
        raise NotFound("{what} {key} was not found.", what=_(what), key=key)
    return obj


def department_names(session: Session) -> dict[str, str]:
    return {d.code: bilingual(d.name_zh, d.name_en) for d in session.query(Department)}


def check_refs(
    session: Session, departments: list[str], areas: list[str], file: str | None = None,
    row: int | None = None,
) -> list[Problem]:
    """Problems for department and area codes that do not exist."""
    problems = []
    for code in departments:
        if session.get(Department, code) is None:
            problems.append(Problem(N_("Unknown department '{code}'."), {"code": code},
                                    file=file, row=row, field="department", value=code))
    for code in areas:
        if session.get(Area, code) is None:
            problems.append(Problem(N_("Unknown area '{code}'."), {"code": code},
                                    file=file, row=row, field="area_code", value=code))
    return problems


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems=problems)


def yi(wan: int | float) -> float:
    """万元 → 亿元, rounded to 2 decimals for display."""
    return round(wan / 10_000, 2)
