"""The holidays domain's registrations through citygrowth's plugin hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from citygrowth.auth.actor import ROLES
from citygrowth.i18n import N_
from citygrowth.plugins import NavItem, hookimpl

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    """Every signed-in role may read the calendar; district administrators load notices."""
    table: dict[str, Sequence[str]] = {role: ("calendar.view",) for role in ROLES
                                       if role != "resident"}
    table["district_admin"] = ("calendar.view", "calendar.manage")
    return table


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.holidays.routes import api, pages  # lazy: imported when the hook is called

    return [api, pages]


@hookimpl
def citygrowth_commands() -> Sequence[click.Command]:
    from citygrowth.holidays.cli import calendar  # lazy: imported when the hook is called

    return [calendar]


@hookimpl
def citygrowth_nav_items() -> Sequence[NavItem]:
    return [NavItem(N_("Holiday calendar"), "/admin/calendar", "calendar.manage", order=92)]
