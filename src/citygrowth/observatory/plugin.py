"""The observatory domain's registrations through citygrowth's plugin hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from citygrowth.plugins import hookimpl

if TYPE_CHECKING:
    from fastapi import APIRouter


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.observatory.routes import router  # lazy: routes load with an app only

    return [router]
