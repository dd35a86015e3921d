"""One error base class, one JSON error shape.

Every error a user can cause is a :class:`CityGrowthError` (or a subclass) with a stable
``code``, an HTTP ``status`` and a message written in English as a gettext msgid with
named ``{fields}``; it is translated into the user's language when rendered. Errors about
input carry a list of :class:`Problem` that name the file, row and field.

The JSON shape is always::

    {"ok": false, "error": "<message>", "code": "<code>", "errors": [<problem>, ...]}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from citygrowth.i18n import translate


class _Keep(dict[str, Any]):
    """Leaves an unknown ``{field}`` of a message as it is instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, params: dict[str, Any]) -> str:
    """``template.format_map(params)`` that never raises for a missing or odd field."""
    try:
        return template.format_map(_Keep(params))
    except (ValueError, IndexError, AttributeError, TypeError):
        return template


@dataclass(frozen=True)
class Problem:
    """One thing wrong with some input: where it is and why it is wrong.

    ``message`` is an English msgid whose ``{fields}`` are filled from ``params``.
    """

    message: str
    params: dict[str, Any] = field(default_factory=dict)
    file: str | None = None
    row: int | None = None
    field: str | None = None
    value: Any = None

    def render(self, locale: str | None = None) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v is not None and k != "params"}
        out["message"] = fill(translate(self.message, locale), self.params)
        if "value" in out and not isinstance(out["value"], (str, int, float, bool)):
            out["value"] = str(out["value"])
        return out


class CityGrowthError(Exception):
    """Base of every error a user of citygrowth can see."""

    status: int = 400
    code: str = "bad_request"
    message: str = "The request could not be carried out."

    def __init__(
        self,
        message: str | None = None,
        *,
        problems: list[Problem] | None = None,
        code: str | None = None,
        status: int | None = None,
        **params: Any,
    ) -> None:
        if message is not None:
            self.message = message
        if code is not None and "{code" in self.message:
            # ``code`` names a field of the message here, not the error's code
            params["code"] = code
            code = None
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.params = params
        self.problems = list(problems or [])
        super().__init__(fill(self.message, params))

    def render_message(self, locale: str | None = None) -> str:
        return fill(translate(self.message, locale), self.params)

    def to_dict(self, locale: str | None = None) -> dict[str, Any]:
        """The one JSON error shape."""
        return {
            "ok": False,
            "error": self.render_message(locale),
            "code": self.code,
            "errors": [p.render(locale) for p in self.problems],
        }


class ValidationFailed(CityGrowthError):
    status = 422
    code = "invalid"
    message = "The input is not valid."


class NotFound(CityGrowthError):
    status = 404
    code = "not_found"
    message = "Not found."


class Unauthenticated(CityGrowthError):
    status = 401
    code = "unauthenticated"
    message = "Please log in first."


class Forbidden(CityGrowthError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class Conflict(CityGrowthError):
    status = 409
    code = "conflict"
    message = "This conflicts with the current state."


class TooManyRequests(CityGrowthError):
    status = 429
    code = "too_many_requests"
    message = "Too many attempts. Please wait and try again."


class ConfigurationError(CityGrowthError):
    status = 500
    code = "configuration"
    message = "citygrowth is not configured correctly: {detail}"
