"""The catalog domain's registrations through citygrowth's plugin hooks.

Imports of the domain's routes, commands, jobs and demo are made inside the hooks
(``# lazy``): the CLI builds a plugin manager to list its commands, and ``citygrowth --help``
must not load every domain's web layer and libraries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from citygrowth.i18n import N_
from citygrowth.plugins import NavItem, hookimpl

if TYPE_CHECKING:
    from fastapi import APIRouter


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.catalog.routes import router  # lazy: see module doc

    return [router]


@hookimpl
def citygrowth_nav_items() -> Sequence[NavItem]:
    return [NavItem(N_("Indicator catalog"), "/catalog", None, order=30)]


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    return {"district_admin": ["framework.publish"]}

