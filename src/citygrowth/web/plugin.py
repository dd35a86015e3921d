"""The web shell's registrations: health check and system pages."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from citygrowth.plugins import hookimpl
from citygrowth.web.system import router


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    return [router]
