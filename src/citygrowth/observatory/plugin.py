"""The observatory domain's registrations through citygrowth's plugin hooks.

Imports of the domain's routes, commands, jobs and demo are made inside the hooks
(``# lazy``): the CLI builds a plugin manager to list its commands, and ``citygrowth --help``
must not load every domain's web layer and libraries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from citygrowth.plugins import ScheduledJob, hookimpl

if TYPE_CHECKING:
    from fastapi import APIRouter


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    from citygrowth.observatory.routes import router  # lazy: see module doc

    return [router]


@hookimpl
def citygrowth_scheduled_jobs() -> Sequence[ScheduledJob]:
    from citygrowth.observatory.batches import (  # lazy: see module doc
        REPAIR_EVERY_SECONDS,
        repair_job,
    )

    # accepted loads a storage failure left invisible become visible without a restart
    return [ScheduledJob(name="observatory.repair", every_seconds=REPAIR_EVERY_SECONDS,
                         run=repair_job)]
