"""Extension points: the declared, typed list of plugin hooks.

citygrowth's own domains register through these same hooks (see ``DEFAULT_PLUGINS``); a
department, street or community adds features by shipping a package with a ``citygrowth``
entry point (or naming its module in the ``plugins`` setting) that implements some of them with
``@hookimpl``. Every hook here has a test (``tests/test_plugins.py`` checks) and an entry in
``docs/extending.md``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter
    from sqlalchemy.orm import Session
    from starlette.types import ASGIApp

    from citygrowth.auth.actor import Actor
    from citygrowth.runtime import Runtime


hookspec = pluggy.HookspecMarker("citygrowth")
hookimpl = pluggy.HookimplMarker("citygrowth")

# Built-in domains register through the same hooks as third-party plugins. Each listed module
# holds ``@hookimpl`` functions.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "citygrowth.web.plugin",
    "citygrowth.areas.plugin",
    "citygrowth.auth.plugin",
    "citygrowth.catalog.plugin",
    "citygrowth.ingest.plugin",
    "citygrowth.observatory.plugin",
    "citygrowth.index.plugin",
    "citygrowth.analysis.plugin",
    "citygrowth.governance.plugin",
    "citygrowth.accountability.plugin",
    "citygrowth.exchange.plugin",
    "citygrowth.screens.plugin",
)


@dataclass(frozen=True)
class NavItem:
    """An entry of the main navigation. ``label`` is an English msgid."""

    label: str
    href: str
    permission: str | None = None
    order: int = 100
    # a count shown beside the label (e.g. unread items): ``badge(request, actor)``, called
    # when a page renders the navigation for someone who may see the item; None or 0: none
    badge: Callable[..., int | None] | None = None


@dataclass(frozen=True)
class DemoStep:
    """One step of ``citygrowth demo``: runs after the steps named in ``after``; idempotent."""

    name: str
    run: Callable[[Runtime, Actor], object]
    after: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class ScheduledJob:
    """A job the scheduler runs every ``every_seconds`` (also a CLI command); ``run`` gets the
    runtime."""

    name: str
    every_seconds: int
    run: Callable[[Runtime], object]


@dataclass(frozen=True)
class AcceptedLoad:
    """A load that passed validation, its batch written and not yet committed (what the
    ``citygrowth_load_accepted`` hook is shown)."""

    load_id: str
    batch: Path
    rows: int
    illustrative: bool
    dataset: str | None = None


@dataclass(frozen=True)
class CaseCategorySpec:
    """A case category contributed by a plugin (see the governance taxonomy)."""

    code: str
    kind: str  # "component" (部件) or "event" (事件)
    name_zh: str
    name_en: str
    parent_code: str | None = None
    department_code: str | None = None
    time_limit_hours: float | None = None
    attributes: Sequence[dict[str, Any]] = field(default_factory=tuple)
    after_photo_required: bool = False  # 处置反馈 must carry a photo of the result


class HookSpecs:
    """Every hook citygrowth calls. Each returns contributions; pluggy collects them in lists."""

    @hookspec
    def citygrowth_routers(self, runtime: Runtime) -> Sequence[APIRouter]:
        """FastAPI routers (pages and JSON API) to mount on the app."""
        raise AssertionError  # pragma: no cover - hookspec

    @hookspec
    def citygrowth_commands(self) -> Sequence[click.Command]:
        """Click commands or groups to add under the ``citygrowth`` CLI."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_migration_dirs(self) -> Sequence[str]:
        """Folders of Alembic revisions (a branch of one's own) for one's tables."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_template_dirs(self, runtime: Runtime) -> Sequence[str]:
        """Folders of Jinja2 templates, searched after the built-in ones."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_locale_dirs(self, runtime: Runtime) -> Sequence[str]:
        """Folders holding a ``zh_CN.po`` catalog for one's own strings."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_nav_items(self, runtime: Runtime) -> Sequence[NavItem]:
        """Entries for the main navigation."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_permissions(self, runtime: Runtime) -> dict[str, Sequence[str]]:
        """Permissions granted per role, e.g. ``{"street_commander": ["case.dispatch"]}``."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_indicator_frameworks(self, runtime: Runtime) -> Sequence[Path]:
        """Indicator framework files (YAML) to offer besides the default City Growth Index."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_data_readers(self, runtime: Runtime) -> dict[str, Callable[..., Any]]:
        """Readers of uploaded data by file extension (``".csv"`` → callable)."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_case_categories(self, runtime: Runtime) -> Sequence[CaseCategorySpec]:
        """Case categories (大类/小类) to add to the governance taxonomy."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_dispatch_channels(self, runtime: Runtime) -> dict[str, Callable[..., Any]]:
        """Channels that deliver a dispatched case (e.g. SMS gateway, a department's system)."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_demo_steps(self, runtime: Runtime) -> Sequence[DemoStep]:
        """Steps of ``citygrowth demo`` that load one's demo data."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_scheduled_jobs(self, runtime: Runtime) -> Sequence[ScheduledJob]:
        """Jobs for the in-process scheduler."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_fast_paths(self, runtime: Runtime) -> Sequence[Callable[[ASGIApp], ASGIApp]]:
        """ASGI wrappers that serve one hot request ahead of the whole middleware stack and
        hand every other request to it (the case intake's fast path is one)."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_load_accepted(self, runtime: Runtime, session: Session,
                                 load: AcceptedLoad) -> Sequence[dict[str, Any]]:
        """Called inside an accepted load's transaction, after its batch is written and before
        it commits: plausibility checks of the new rows. Returns warnings (JSON-able dicts,
        kept with the load's answer) for the loader to accept or send back; raising stops the
        load."""
        raise AssertionError  # pragma: no cover

    @hookspec
    def citygrowth_event(self, runtime: Runtime, topic: str, payload: dict[str, Any]) -> None:
        """Called for every event published on the bus (``observations.loaded``,
        ``case.changed`` …)."""
        raise AssertionError  # pragma: no cover


def _load_module(name: str) -> Any:
    return importlib.import_module(name)


def build_plugin_manager(
    extra: Sequence[str] = (), entry_points: bool = True
) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("citygrowth")
    pm.add_hookspecs(HookSpecs)
    for name in (*DEFAULT_PLUGINS, *extra):
        mod = _load_module(name)
        if pm.get_plugin(name) is None:
            pm.register(mod, name=name)
    if entry_points:
        pm.load_setuptools_entrypoints("citygrowth")
    return pm


def collect_list(results: Sequence[Sequence[Any] | None]) -> list[Any]:
    """Flatten a hook's per-plugin lists."""
    out: list[Any] = []
    for r in results:
        if r:
            out.extend(r)
    return out


def collect_dict(results: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
    """Merge a hook's per-plugin dicts; later plugins (third-party) override built-ins."""
    out: dict[str, Any] = {}
    for r in reversed(list(results)):
        if r:
            out.update(r)
    return out
