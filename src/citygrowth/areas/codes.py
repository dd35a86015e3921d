"""Area codes: checking that a code is well formed and where it sits in the tree.

A code is a 6-digit GB/T 2260 district code followed by one 3-digit segment per level below it:
street (9 digits), community (12) and grid cell (15). A segment below the district is never
``000`` (that would denote the parent itself in the statistical code tables).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, or_

from citygrowth.areas.models import CODE_LENGTH, LEVELS, level_of, parent_code
from citygrowth.errors import Problem, ValidationFailed
from citygrowth.i18n import N_

MSG_NOT_DIGITS = N_("An area code has only digits; got {value!r}.")
MSG_BAD_LENGTH = N_("An area code has 6, 9, 12 or 15 digits; {value!r} has {length}.")
MSG_ZERO_SEGMENT = N_("The last three digits of {value!r} are 000; they must number the area.")
MSG_LEVEL_MISMATCH = N_("Level {level!r} does not match code {value!r}, which is a {expected}.")
MSG_BAD_LEVEL = N_("Unknown level {level!r}; use one of district, street, community, grid.")


def code_problem(code: Any, field: str = "code") -> Problem | None:
    """What is wrong with ``code`` as an area code, or None when it is well formed."""
    value = code if isinstance(code, str) else str(code) if code is not None else ""
    if not value.isdigit() or not value.isascii():
        return Problem(MSG_NOT_DIGITS, {"value": value}, field=field, value=value)
    if level_of(value) is None:
        return Problem(MSG_BAD_LENGTH, {"value": value, "length": len(value)}, field=field,
                       value=value)
    if len(value) > 6 and value.endswith("000"):
        return Problem(MSG_ZERO_SEGMENT, {"value": value}, field=field, value=value)
    return None


def check_code(code: Any, field: str = "code") -> str:
    """Return ``code`` when well formed, else raise :class:`ValidationFailed` naming it."""
    problem = code_problem(code, field)
    if problem is not None:
        raise ValidationFailed(problems=[problem])
    return str(code)


def check_level(level: str | None, field: str = "level") -> str | None:
    """Return ``level`` when it is one of :data:`LEVELS` (or None), else raise."""
    if level is None or level in LEVELS:
        return level
    raise ValidationFailed(problems=[Problem(MSG_BAD_LEVEL, {"level": level}, field=field,
                                             value=level)])


def level_problem(code: str, level: Any, field: str = "level") -> Problem | None:
    """A problem when a declared ``level`` disagrees with the code's length."""
    if level is None or level == "":
        return None
    if level not in LEVELS:
        return Problem(MSG_BAD_LEVEL, {"level": level}, field=field, value=level)
    expected = level_of(code)
    if expected != level:
        return Problem(MSG_LEVEL_MISMATCH, {"level": level, "value": code,
                                            "expected": expected}, field=field, value=level)
    return None


def ancestor_codes(code: str) -> list[str]:
    """Codes of every enclosing area, nearest first (``370203001002`` → street, district)."""
    out: list[str] = []
    parent = parent_code(code)
    while parent is not None:
        out.append(parent)
        parent = parent_code(parent)
    return out


def code_at_level(code: str, level: str) -> str | None:
    """The code of the area at ``level`` that contains ``code`` (None if ``level`` is finer)."""
    n = CODE_LENGTH[level]
    return code[:n] if len(code) >= n else None


__all__ = [
    "CODE_LENGTH", "LEVELS", "ancestor_codes", "check_code", "check_level", "code_at_level",
    "code_problem", "level_of", "level_problem", "parent_code", "within", "within_any",
]


def within(column: Any, prefix: str) -> Any:
    """``column`` starts with ``prefix``, written as a range (``column >= prefix AND column <
    next``) that a B-tree index serves on SQLite and PostgreSQL alike; ``LIKE prefix || '%'``
    is served by neither (SQLite's LIKE ignores case; PostgreSQL needs a C collation or a
    pattern index). Exact for digit codes in any collation; other text falls back to the
    ``LIKE``."""
    if not prefix:
        return column.is_not(None)
    if not (prefix.isdigit() and prefix.isascii()):
        return column.startswith(prefix, autoescape=True)
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper)


def within_any(column: Any, prefixes: list[str]) -> Any:
    """``column`` starts with one of ``prefixes`` (see :func:`within`)."""
    return or_(*[within(column, p) for p in prefixes]) if prefixes else false()
