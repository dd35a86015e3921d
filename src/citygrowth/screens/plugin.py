"""The screens' registrations through citygrowth's plugin hooks.

Imports of the domain's routes, commands, jobs and demo are made inside the hooks
(``# lazy``): the CLI builds a plugin manager to list its commands, and ``citygrowth --help``
must not load every domain's web layer and libraries."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from citygrowth.i18n import N_
from citygrowth.plugins import NavItem, hookimpl


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.screens import routes  # lazy: see module doc

    return [routes.pages, routes.api]


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    viewers = ("screens.view", "screens.explore")
    return {
        "district_admin": (*viewers, "screens.workbench", "data.health.view"),
        "analyst": (*viewers, "screens.workbench", "data.health.view"),
        "department_officer": (*viewers, "data.health.view"),
        "street_commander": viewers,
        "machine": viewers,
        "grid_worker": ("screens.explore",),
        "helper": ("screens.explore",),
    }


@hookimpl
def citygrowth_nav_items() -> Sequence[NavItem]:
    return [
        NavItem(N_("Big screen"), "/screen", "screens.view", order=10),
        NavItem(N_("Explorer"), "/explore", "screens.explore", order=20),
        NavItem(N_("Index workbench"), "/workbench", "screens.workbench", order=60),
        NavItem(N_("Data health"), "/data/health", "data.health.view", order=70),
    ]
