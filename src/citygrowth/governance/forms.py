"""Errors of a page form, for drawing next to their fields (and the rest above the form)."""

from __future__ import annotations

from citygrowth.errors import CityGrowthError


def errors_by_field(err: CityGrowthError) -> tuple[dict[str, list[str]], list[str]]:
    """Rendered problems by field (shown next to it) and those without a field."""
    by_field: dict[str, list[str]] = {}
    other: list[str] = []
    for p in err.problems:
        msg = p.render()["message"]
        if p.field:
            by_field.setdefault(p.field.split(".")[0], []).append(msg)
        else:
            other.append(msg)
    if not err.problems:
        other.append(err.render_message())
    return by_field, other
