"""The web shell's registrations: health check, system pages and the home page."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from citygrowth.plugins import hookimpl


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.web.home import (
        router as home,  # lazy: the CLI lists commands without the web layer
    )
    from citygrowth.web.system import (
        router as system,  # lazy: the CLI lists commands without the web layer
    )

    return [system, home]
