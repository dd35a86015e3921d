"""The ingest domain's registrations through citygrowth's plugin hooks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from citygrowth.i18n import N_
from citygrowth.plugins import NavItem, hookimpl

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
    from citygrowth.ingest.readers import BUILTIN_READERS

    return dict(BUILTIN_READERS)


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.ingest.routes import router

    return [router]


@hookimpl
def citygrowth_commands() -> Sequence[click.Command]:
    from citygrowth.ingest.cli import data

    return [data]


@hookimpl
def citygrowth_nav_items() -> Sequence[NavItem]:
    return [NavItem(N_("Upload data"), "/data/upload", "data.load", order=40),
            NavItem(N_("Load history"), "/data/loads", "data.view", order=41)]
