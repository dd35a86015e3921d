"""Helpers shared by the accountability services: look-ups, labels, today's date."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth.models import Department
from citygrowth.errors import NotFound, Problem, ValidationFailed
from citygrowth.i18n import N_, _, bilingual
from citygrowth.inputs import input_message

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
APPROVAL_STATUS_NAMES = {
    "pending": N_("Being handled (办理中)"),
    "approved": N_("Approved"),
    "refused": N_("Not approved"),
}
APPROVAL_OUTCOME_NAMES = {"approved": N_("approved"), "refused": N_("not approved")}
PROBLEM_STATUS_NAMES = {"open": N_("Open"), "resolved": N_("Resolved")}


def label(table: dict[str, str], key: str) -> str:
    """The translated label of a code, or the code itself when unknown."""
    return _(table[key]) if key in table else key


def get_or_404(session: Session, model: type[T], key: Any, what: str) -> T:
    obj = session.get(model, key)
    if obj is None:
        raise NotFound("{what} {key} was not found.", what=_(what), key=key)
    return obj


def department_names(session: Session) -> dict[str, str]:
    """Every department's name in the reader's language, by code."""
    return {d.code: bilingual(d.name_zh, d.name_en) for d in session.query(Department)}


def department_choices(session: Session) -> list[tuple[str, str]]:
    """Active departments (code, name in the reader's language), for a form's choices."""
    depts = session.query(Department).filter(Department.active.is_(True)).order_by(
        Department.code)
    return [(d.code, bilingual(d.name_zh, d.name_en)) for d in depts]


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


# pydantic error type → our msgid (the field is the error's location)
REASONS = {
    "missing": N_("This column is required."),
    "float_parsing": N_("Not a number."),
    "float_type": N_("Not a number."),
    "int_parsing": N_("Not a whole number."),
    "int_type": N_("Not a whole number."),
    "int_from_float": N_("Not a whole number."),
    "finite_number": N_("Not a number."),
    "date_parsing": N_("Not a date (use YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("Not a date (use YYYY-MM-DD)."),
    "date_from_datetime_inexact": N_("Not a date (use YYYY-MM-DD)."),
    "date_type": N_("Not a date (use YYYY-MM-DD)."),
    "literal_error": N_("Not one of the allowed values."),
    "string_too_long": N_("The text is too long."),
    "string_too_short": N_("This column is required."),
    "string_pattern_mismatch": N_("Not a valid code."),
    "greater_than_equal": N_("The number is too small."),
    "less_than_equal": N_("The number is too large."),
}


FORM_REASONS = {"missing": N_("This field is required."),
                "string_too_short": N_("This field is required.")}


def problems_from(exc: ValidationError, file: str | None = None, row: int | None = None,
                  cells: dict[str, Any] | None = None,
                  field_names: dict[str, str] | None = None) -> list[Problem]:
    """A pydantic error as problems naming the field (or Excel column, when ``file`` is
    given) in the user's words."""
    problems = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        column = (field_names or {}).get(name, name)
        ctx = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
        reason = (FORM_REASONS.get(err["type"]) if file is None else None) or REASONS.get(
            err["type"]) or input_message(err["type"], err.get("ctx")) \
            or N_("Not a valid value.")
        problems.append(Problem(reason, ctx, file=file, row=row, field=column or None,
                                value=(cells or {}).get(column)))
    return problems


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems=problems)


def yi(wan: int | float) -> float:
    """万元 → 亿元, rounded to 2 decimals for display."""
    return round(wan / 10_000, 2)
