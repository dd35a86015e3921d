"""The exchange domain's registrations through citygrowth's plugin hooks.

Imports of the domain's routes, commands, jobs and demo are made inside the hooks
(``# lazy``): the CLI builds a plugin manager to list its commands, and ``citygrowth --help``
must not load every domain's web layer and libraries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from citygrowth.auth.actor import ROLES
from citygrowth.plugins import hookimpl

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.exchange.routes import routers  # lazy: see module doc

    return routers()


@hookimpl
def citygrowth_commands() -> Sequence[click.Command]:
    from citygrowth.exchange.cli import exchange  # lazy: see module doc

    return [exchange]


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    # Every signed-in role and machine clients read observation values for exchange.
    return {role: ["exchange.read"] for role in ROLES}
