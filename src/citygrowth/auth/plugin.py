"""The auth domain's registrations through citygrowth's plugin hooks.

Imports of the domain's routes, commands, jobs and demo are made inside the hooks
(``# lazy``): the CLI builds a plugin manager to list its commands, and ``citygrowth --help``
must not load every domain's web layer and libraries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from citygrowth.plugins import DemoStep, hookimpl

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    return {"district_admin": ["user.manage", "audit.read"]}


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.auth.routes import (  # lazy: see module doc
        api,
        pages,
    )

    return [pages, api]


@hookimpl
def citygrowth_commands() -> Sequence[click.Command]:
    from citygrowth.auth.cli import (  # lazy: see module doc
        audit_group,
        user,
    )

    users_alias = type(user)(name="users", commands=user.commands, help=user.help)
    return [user, users_alias, audit_group]


@hookimpl
def citygrowth_demo_steps() -> Sequence[DemoStep]:
    from citygrowth.auth.demo import (  # lazy: see module doc
        DESCRIPTION,
        run_demo_step,
    )

    return [DemoStep(name="users", run=run_demo_step, after=("areas",),
                     description=DESCRIPTION)]

