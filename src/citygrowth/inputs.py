"""The shared input types: every pydantic schema that takes input from outside uses them.

Nonsense is refused where it enters, with one clear error naming the field, before anything is
written:

* :class:`InputModel` — the base of every input schema: ``extra="forbid"``, and on every field
  (also inside lists and dicts) text without C0 control characters (tab, line feed and carriage
  return allowed) or lone UTF-16 surrogates, and numbers that are finite;
* :data:`Line` — one line of text (names, titles, codes, addresses): no control character at all;
  :data:`Text` — free text where line breaks are allowed;
* :data:`Date`, :data:`DateTime` — within 1990–2100 (:func:`date_between` for a field that says
  otherwise); :data:`Month` — ``YYYY-MM`` within the same years; :data:`Year`;
* :data:`Number` — finite, within ±10¹² (:func:`number` for another range).

Their errors have types of their own whose English messages are msgids (:data:`MESSAGES`);
``web/errors.py`` renders them, and pydantic's own common errors, in the caller's language
(:func:`input_message`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from citygrowth.errors import Problem
from citygrowth.i18n import N_

YEAR_MIN, YEAR_MAX = 1990, 2100
NUMBER_MAX = 1e12

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_LINE = re.compile(r"[\x00-\x1f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

#: our error types → English msgid (placeholders are filled from the error's context)
MESSAGES: dict[str, str] = {
    "text_control": N_("The text contains a control character (U+{code}) at position {pos}."),
    "text_surrogate": N_("The text contains an invalid character (a lone surrogate) at "
                         "position {pos}."),
    "date_range": N_("The date must lie between {lo} and {hi}."),
    "month_range": N_("The month must lie between {lo} and {hi}."),
    "number_finite": N_("Enter a finite number."),
}
#: pydantic's common error types → English msgid (placeholders from pydantic's context)
PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_type": N_("Enter text."),
    "string_too_short": N_("Enter at least {min_length} characters."),
    "string_too_long": N_("Enter at most {max_length} characters."),
    "string_pattern_mismatch": N_("This is not in the expected form."),
    "greater_than_equal": N_("Enter a value of at least {ge}."),
    "greater_than": N_("Enter a value greater than {gt}."),
    "less_than_equal": N_("Enter a value of at most {le}."),
    "less_than": N_("Enter a value less than {lt}."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "float_type": N_("Enter a number."),
    "finite_number": N_("Enter a finite number."),
    "bool_parsing": N_("Enter true or false."),
    "bool_type": N_("Enter true or false."),
    "date_parsing": N_("Enter a date (YYYY-MM-DD)."),
    "date_type": N_("Enter a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("Enter a date (YYYY-MM-DD)."),
    "date_from_datetime_inexact": N_("Enter a date (YYYY-MM-DD)."),
    "datetime_parsing": N_("Enter a date and time (e.g. 2026-05-01T09:30:00+08:00)."),
    "datetime_from_date_parsing": N_("Enter a date and time (e.g. 2026-05-01T09:30:00+08:00)."),
    "datetime_type": N_("Enter a date and time (e.g. 2026-05-01T09:30:00+08:00)."),
    "timezone_aware": N_("Give the time zone of the time (e.g. +08:00)."),
    "literal_error": N_("Choose one of: {expected}."),
    "enum": N_("Choose one of: {expected}."),
    "extra_forbidden": N_("This field is not expected here."),
    "json_invalid": N_("The body is not valid JSON ({error})."),
    "too_long": N_("Give at most {max_length} items."),
    "too_short": N_("Give at least {min_length} items."),
    "list_type": N_("Give a list."),
    "dict_type": N_("Give an object."),
    "model_type": N_("Give an object."),
    "model_attributes_type": N_("Give an object."),
}


def input_message(error_type: str, context: dict[str, Any] | None = None) -> str | None:
    """The msgid for a validation error's type (and context), if it is one we render
    ourselves. A length checked after one of our validators (a form field's ``max_length`` on
    :data:`Text`) comes as ``too_long`` of a "Value": that is characters, not items."""
    if error_type in ("too_long", "too_short") and (context or {}).get("field_type") == "Value":
        error_type = "string_" + error_type
    return MESSAGES.get(error_type) or PYDANTIC_MESSAGES.get(error_type)


def _refuse_bad_chars(value: str, control: re.Pattern[str]) -> str:
    m = control.search(value)
    if m:
        raise PydanticCustomError("text_control", MESSAGES["text_control"],
                                  {"code": f"{ord(m.group()):04X}", "pos": m.start() + 1})
    m = _SURROGATE.search(value)
    if m:
        raise PydanticCustomError("text_surrogate", MESSAGES["text_surrogate"],
                                  {"pos": m.start() + 1})
    return value


def check_text(value: Any) -> Any:
    """Free text: no C0 control character other than tab, line feed and carriage return, no lone
    surrogate. (Run before pydantic's own string checks, so that a field's ``max_length`` keeps
    its string error; anything but a string is left to them.)"""
    return _refuse_bad_chars(value, _CONTROL) if isinstance(value, str) else value


def check_line(value: Any) -> Any:
    """One line: no C0 control character at all, no lone surrogate."""
    return _refuse_bad_chars(value, _CONTROL_LINE) if isinstance(value, str) else value


def text_problem(field: str, value: str, *, line: bool = False) -> Problem | None:
    """The same text rules for input that is not a pydantic model (forms read by hand, Open311,
    services called from the CLI): a :class:`Problem` naming ``field``, or None."""
    try:
        (check_line if line else check_text)(value)
    except PydanticCustomError as err:
        return Problem(MESSAGES[err.type], dict(err.context or {}), field=field)
    return None


def check_finite(value: float) -> float:
    if not math.isfinite(value):
        raise PydanticCustomError("number_finite", MESSAGES["number_finite"])
    return value


def _check(value: Any) -> None:
    """The rules every field obeys, also inside lists and dicts."""
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, float):
        check_finite(value)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _check(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key)
            _check(item)


def date_between(lo: dt.date, hi: dt.date) -> AfterValidator:
    """A validator keeping a date (or the date of a date-time) within ``lo``–``hi``."""

    def check(value: Any) -> Any:
        day = value.date() if isinstance(value, dt.datetime) else value
        if not lo <= day <= hi:
            raise PydanticCustomError("date_range", MESSAGES["date_range"],
                                      {"lo": lo.isoformat(), "hi": hi.isoformat()})
        return value

    return AfterValidator(check)


def check_month(value: str) -> str:
    if not YEAR_MIN <= int(value[:4]) <= YEAR_MAX:
        raise PydanticCustomError("month_range", MESSAGES["month_range"],
                                  {"lo": f"{YEAR_MIN}-01", "hi": f"{YEAR_MAX}-12"})
    return value


def number(lo: float = -NUMBER_MAX, hi: float = NUMBER_MAX) -> Any:
    """A finite float within ``lo``–``hi``."""
    return Annotated[float, AllowInfNan(False), Ge(lo), Le(hi)]


DEFAULT_RANGE = date_between(dt.date(YEAR_MIN, 1, 1), dt.date(YEAR_MAX, 12, 31))
Text = Annotated[str, BeforeValidator(check_text)]
Line = Annotated[str, BeforeValidator(check_line)]
Date = Annotated[dt.date, DEFAULT_RANGE]
DateTime = Annotated[dt.datetime, DEFAULT_RANGE]
Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$"),
                  AfterValidator(check_month)]
Year = Annotated[int, Ge(YEAR_MIN), Le(YEAR_MAX)]
Number = number()


class InputModel(BaseModel):
    """Base of every input schema (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        _check(value)
        return value
