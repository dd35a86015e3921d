"""The web shell's registrations: health check, system pages and the home page."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from citygrowth.plugins import hookimpl


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.web.home import router as home
    from citygrowth.web.system import router as system

    return [system, home]
