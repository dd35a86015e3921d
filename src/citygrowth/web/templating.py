"""Jinja2 templates: every domain's ``templates/`` folder, gettext installed, shared globals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pluggy
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from citygrowth import __version__
from citygrowth.i18n import add_catalog_dir, bilingual, get_locale, gettext, ngettext
from citygrowth.plugins import collect_list


def template_dirs(pm: pluggy.PluginManager) -> list[str]:
    root = Path(__file__).parent.parent
    dirs = [str(root / "web" / "templates")]
    dirs += sorted(str(p) for p in root.glob("*/templates") if p.parent.name != "web")
    dirs += [str(d) for d in collect_list(pm.hook.citygrowth_template_dirs())]
    return dirs


def register_locale_dirs(pm: pluggy.PluginManager) -> None:
    """Add the catalogs plugins offer through ``citygrowth_locale_dirs`` to the translations."""
    for d in collect_list(pm.hook.citygrowth_locale_dirs()):
        add_catalog_dir(Path(d))


def make_templates(pm: pluggy.PluginManager) -> Jinja2Templates:
    register_locale_dirs(pm)
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(d) for d in template_dirs(pm)]),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
    )
    # old-style callables: `_()` returns the translation as is (named fields use
    # str.format), so a literal "%" in a message is safe
    env.install_gettext_callables(gettext, ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.globals.update(
        get_locale=get_locale, bilingual=bilingual, version=__version__, nav_items=_nav(pm),
        csrf_for=_csrf_for, nav_badge=_nav_badge,
    )
    return Jinja2Templates(env=env)


def _csrf_for(request: Any) -> str:
    """The session's CSRF token for pages whose context lacks ``csrf_token``."""
    from citygrowth.auth.csrf import csrf_token

    if request is None or "session" not in request.scope:
        return ""
    return csrf_token(request)


def _nav(pm: pluggy.PluginManager) -> Any:
    items = sorted(collect_list(pm.hook.citygrowth_nav_items()), key=lambda i: i.order)

    def nav_items(actor: Any) -> list[Any]:
        from citygrowth.auth.permissions import can

        return [i for i in items if i.permission is None or (actor and can(actor, i.permission))]

    return nav_items


def _nav_badge(item: Any, actor: Any, request: Any) -> int | None:
    """The count an item shows beside its label (``NavItem.badge``), or None."""
    if item.badge is None or actor is None or request is None:
        return None
    value: int | None = item.badge(request, actor)
    return value


def render_page(
    request: Any, name: str, actor: Any, context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """Render a page template with what ``base.html`` needs: ``actor`` and ``csrf_token``."""
    from citygrowth.auth.csrf import csrf_token

    ctx = {"actor": actor, "csrf_token": csrf_token(request), **(context or {})}
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, ctx, status_code=status_code)
    return response
