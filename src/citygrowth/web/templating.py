"""Jinja2 templates: every domain's ``templates/`` folder, gettext installed, shared globals."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from sqlalchemy import select

from citygrowth import __version__
from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.csrf import csrf_token
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import can
from citygrowth.i18n import bilingual, get_locale, gettext, ngettext
from citygrowth.plugins import NavItem, collect_list
from citygrowth.runtime import Runtime


def template_dirs(runtime: Runtime) -> list[str]:
    root = Path(__file__).parent.parent
    dirs = [str(root / "web" / "templates")]
    dirs += sorted(str(p) for p in root.glob("*/templates") if p.parent.name != "web")
    dirs += [str(d) for d in
             collect_list(runtime.plugins.hook.citygrowth_template_dirs(runtime=runtime))]
    return dirs


def make_templates(runtime: Runtime) -> Jinja2Templates:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(d) for d in template_dirs(runtime)]),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
    )
    # old-style callables: `_()` returns the translation as is (named fields use
    # str.format), so a literal "%" in a message is safe
    env.install_gettext_callables(gettext, ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.globals.update(
        get_locale=get_locale, bilingual=bilingual, version=__version__,
        nav_items=_nav(runtime),
        csrf_for=_csrf_for, can=_can, nav_badge=_nav_badge,
        tz=runtime.settings.timezone,
    )
    env.filters.update(localtime=localtime, localdate=localdate, department=department_name,
                       area=area_name)
    return Jinja2Templates(env=env)


def _can(actor: Actor | None, permission: str, resource: Any = None) -> bool:
    """``can`` for templates: False when nobody is logged in."""
    return actor is not None and not actor.is_anonymous and can(actor, permission, resource)


def _csrf_for(request: Request | None) -> str:
    """The session's CSRF token for pages whose context lacks ``csrf_token``."""
    if request is None or "session" not in request.scope:
        return ""
    return csrf_token(request)


def _nav(runtime: Runtime) -> Callable[[Actor | None], list[NavItem]]:
    items: list[NavItem] = sorted(
        collect_list(runtime.plugins.hook.citygrowth_nav_items(runtime=runtime)),
        key=lambda i: i.order)

    def nav_items(actor: Actor | None) -> list[NavItem]:
        return [i for i in items if i.permission is None or (actor and can(actor, i.permission))]

    return nav_items


def _nav_badge(item: Any, actor: Any, request: Any) -> int | None:
    """The count an item shows beside its label (``NavItem.badge``), or None."""
    if item.badge is None or actor is None or request is None:
        return None
    value: int | None = item.badge(request, actor)
    return value


def render_page(
    request: Request, name: str, actor: Actor | None, context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """Render a page template with what ``base.html`` needs: ``actor`` and ``csrf_token``."""
    ctx = {"actor": actor, "csrf_token": csrf_token(request), **(context or {})}
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, ctx, status_code=status_code)
    return response


# --- times as people read them -------------------------------------------------------------

def district_zone(state: Any) -> ZoneInfo:
    """The district's time zone: the app's runtime's (``app.state.runtime.tz``)."""
    runtime: Runtime = state.runtime
    return runtime.tz


def as_datetime(value: Any) -> dt.datetime | None:
    """A datetime from a datetime or an ISO 8601 string (naive means UTC); else None."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _zone(ctx: Context) -> ZoneInfo:
    request = ctx.get("request")
    if request is None:
        raise RuntimeError("localtime needs the request in the template context")
    return district_zone(request.app.state)


def export_time(value: Any, tz: ZoneInfo) -> str:
    """A time for exports people open (CSV, XLSX): local, to the second, with the offset —
    ``2026-12-07 14:00:00+08:00`` (``""`` for no time)."""
    moment = as_datetime(value)
    return moment.astimezone(tz).isoformat(sep=" ", timespec="seconds") if moment else ""


@pass_context
def localtime(ctx: Context, value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``{{ case.reported_at | localtime }}`` → ``2026-12-07 14:00`` in the district's zone
    (``""`` for no time)."""
    moment = as_datetime(value)
    return moment.astimezone(_zone(ctx)).strftime(fmt) if moment else ""


@pass_context
def localdate(ctx: Context, value: Any) -> str:
    """The local date of a moment: ``2026-12-07``."""
    return localtime(ctx, value, "%Y-%m-%d")


# --- names for codes -----------------------------------------------------------------------

NAMES_TTL = 60.0  # seconds a page may show a department or area name changed meanwhile


@dataclass(frozen=True)
class DisplayNames:
    """Departments' and areas' names by code (both languages), read once a minute per app."""

    at: float
    departments: dict[str, tuple[str, str]]
    areas: dict[str, tuple[str, str]]


_names_lock = threading.Lock()


def display_names(state: Any) -> DisplayNames:
    cached: DisplayNames | None = getattr(state, "display_names", None)
    if cached is not None and time.monotonic() - cached.at < NAMES_TTL:
        return cached
    runtime: Runtime = state.runtime
    with _names_lock, runtime.sessionmaker() as s:
        depts = {c: (zh, en) for c, zh, en in s.execute(
            select(Department.code, Department.name_zh, Department.name_en))}
        areas = {c: (zh, en) for c, zh, en in s.execute(
            select(Area.code, Area.name_zh, Area.name_en))}
    fresh = DisplayNames(time.monotonic(), depts, areas)
    state.display_names = fresh
    return fresh


def _named(ctx: Context, code: Any, kind: str) -> str:
    if code is None or code == "":
        return ""
    request = ctx.get("request")
    if request is None:
        return str(code)
    names = getattr(display_names(request.app.state), kind)
    found = names.get(str(code))
    return bilingual(*found) if found else str(code)


@pass_context
def department_name(ctx: Context, code: Any) -> str:
    """``{{ load.department_code | department }}`` → 区统计局 / Statistics Bureau."""
    return _named(ctx, code, "departments")


@pass_context
def area_name(ctx: Context, code: Any) -> str:
    """``{{ row.code | area }}`` → the area's name in the reader's language."""
    return _named(ctx, code, "areas")
