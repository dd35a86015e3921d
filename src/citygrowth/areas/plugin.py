"""The areas domain's registrations through citygrowth's plugin hooks.

Imports of the domain's routes, commands, jobs and demo are made inside the hooks
(``# lazy``): the CLI builds a plugin manager to list its commands, and ``citygrowth --help``
must not load every domain's web layer and libraries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from citygrowth.auth.actor import ROLES
from citygrowth.i18n import N_
from citygrowth.plugins import DemoStep, NavItem, hookimpl

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    """Every role reads the areas within its scope; district administrators change them."""
    table: dict[str, Sequence[str]] = {role: ("areas.read",) for role in ROLES}
    table["district_admin"] = ("areas.read", "areas.write")
    return table


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.areas.routes import (  # lazy: see module doc
        api,
        pages,
    )

    return [api, pages]


@hookimpl
def citygrowth_commands() -> Sequence[click.Command]:
    from citygrowth.areas.cli import areas  # lazy: see module doc

    return [areas]


@hookimpl
def citygrowth_nav_items() -> Sequence[NavItem]:
    return [NavItem(label=N_("Areas"), href="/areas", permission="areas.read", order=20)]


@hookimpl
def citygrowth_demo_steps() -> Sequence[DemoStep]:
    from citygrowth.areas.demo import run_step  # lazy: see module doc

    return [DemoStep(
        name="areas", run=run_step,
        description=N_("Shibei district (370203): its real boundary and 22 sub-districts, "
                       "illustrative communities and grid cells, and the departments"),
    )]
