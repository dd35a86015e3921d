"""The observatory domain's registrations through citygrowth's plugin hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from citygrowth.plugins import DemoStep, hookimpl

if TYPE_CHECKING:
    from fastapi import APIRouter


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.observatory.routes import router

    return [router]


def _demo(cx: Any, actor: Any) -> None:
    from citygrowth.observatory.demo import run

    run(cx, actor)


@hookimpl
def citygrowth_demo_steps() -> Sequence[DemoStep]:
    return [DemoStep(name="observations", run=_demo, after=("areas",),
                     description="Illustrative observations 2019–2026 for every indicator "
                     "at every level (seeded on the 2024 district figures)")]
