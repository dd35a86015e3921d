"""The ingest domain's registrations through citygrowth's plugin hooks.

Imports of the domain's routes, commands, readers and demo are made inside the hooks
(``# lazy``): the CLI builds a plugin manager to list its commands, and ``citygrowth --help``
must not load the web layer and DuckDB."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from citygrowth.i18n import N_
from citygrowth.plugins import DemoStep, NavItem, hookimpl

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    return {
        "district_admin": ["data.load", "data.view"],
        "department_officer": ["data.load", "data.view"],
        "analyst": ["data.view"],
        "street_commander": ["data.view"],
        "machine": ["data.view"],
    }


@hookimpl
def citygrowth_data_readers() -> dict[str, Callable[..., Any]]:
    from citygrowth.ingest.readers import BUILTIN_READERS  # lazy: see module doc

    return dict(BUILTIN_READERS)


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.ingest.routes import router  # lazy: see module doc

    return [router]


@hookimpl
def citygrowth_commands() -> Sequence[click.Command]:
    from citygrowth.ingest.cli import data  # lazy: see module doc

    return [data]


@hookimpl
def citygrowth_nav_items() -> Sequence[NavItem]:
    return [NavItem(N_("Upload data"), "/data/upload", "data.load", order=40),
            NavItem(N_("Load history"), "/data/loads", "data.view", order=41)]


@hookimpl
def citygrowth_demo_steps() -> Sequence[DemoStep]:
    from citygrowth.ingest.demo import run_demo  # lazy: see module doc

    return [DemoStep(name="observations", run=run_demo, after=("areas",),
                     description="Illustrative observations 2019–2026 for every indicator "
                     "at every level (seeded on the 2024 district figures)")]
