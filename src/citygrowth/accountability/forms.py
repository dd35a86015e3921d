"""The desk's forms: read the posted fields, call a service, and either go back to the page
or show the problems next to their fields (zh-CN/en) without writing anything.

A form works as a plain POST (the page is rendered again with the errors, status 422) and with
htmx (only the form's fragment comes back, and ``static/accountability/forms.js`` swaps it in
despite the 422). On success a plain POST is redirected (303) to the page; an htmx request gets
``HX-Redirect`` to it. The page adds ``?saved=<form>`` so it can say what was saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from citygrowth.accountability.common import problems_from
from citygrowth.errors import CityGrowthError, Conflict, ValidationFailed
from citygrowth.web.urls import site_path

M = TypeVar("M", bound=BaseModel)


@dataclass
class Form:
    """One form's posted values and problems (by field, and those of no field)."""

    name: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)

    def value(self, key: str, default: str = "") -> str:
        return self.values.get(key) or default

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.other)


def parse(model: type[M], values: dict[str, str], **extra: Any) -> M:
    """The pydantic model of a form; empty fields count as not given. Problems name fields."""
    data = {k: v for k, v in values.items() if v.strip() != ""} | extra
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(problems=problems_from(exc)) from None


def failed_form(name: str, values: dict[str, str], err: CityGrowthError,
                aliases: dict[str, str] | None = None) -> Form:
    form = Form(name, values)
    for p in err.problems:
        message = p.render()["message"]
        key = (aliases or {}).get(p.field or "", p.field or "")
        if key and key in values:
            form.errors.setdefault(key, []).append(message)
        else:
            form.other.append(message)
    if not err.problems:
        form.other.append(err.render_message())
    return form


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def back_to(request: Request, path: str, saved: str) -> Response:
    """Success: back to the page (``path`` without the mount prefix), saying what was saved."""
    url = site_path(request, f"{path}?saved={saved}")
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def submit(request: Request, session: Session, name: str, values: dict[str, str],
           action: Callable[[], object], page: Callable[[dict[str, Form], str | None], Response],
           done: str, aliases: dict[str, str] | None = None) -> Response:
    """Run ``action``; on a problem of the input (or a conflict with the record's state) roll
    back and render ``page`` with the form's errors — the whole page, or only the form for
    htmx. Permission and not-found errors go to the error page as everywhere else."""
    try:
        action()
    except (ValidationFailed, Conflict) as err:
        session.rollback()
        form = failed_form(name, values, err, aliases)
        return page({name: form}, name if is_htmx(request) else None)
    return back_to(request, done, name)
