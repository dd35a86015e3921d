"""Operating citygrowth through the plugin hooks: the offline API documentation pages and the
commands that belong to no domain (deploy, backup, restore, scheduler)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from citygrowth.plugins import hookimpl

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.ops.apidocs import router  # lazy: imported when the hook is called

    return [router]


@hookimpl
def citygrowth_commands() -> Sequence[click.Command]:
    from citygrowth.cli.backup import backup, restore  # lazy: imported when the hook is called
    from citygrowth.cli.deploy import deploy  # lazy: imported when the hook is called
    from citygrowth.cli.scheduler import scheduler  # lazy: imported when the hook is called

    return [backup, restore, deploy, scheduler]
