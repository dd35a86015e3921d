"""The web shell's registrations: health check, system pages and the home page.

Imports of the domain's routes, commands, jobs and demo are made inside the hooks
(``# lazy``): the CLI builds a plugin manager to list its commands, and ``citygrowth --help``
must not load every domain's web layer and libraries."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from citygrowth.plugins import hookimpl


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.web.home import router as home  # lazy: see module doc
    from citygrowth.web.system import router as system  # lazy: see module doc

    return [system, home]
