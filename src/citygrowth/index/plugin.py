"""The index domain's registrations through citygrowth's plugin hooks.

Imports of the domain's routes, commands and jobs are made inside the hooks (``# lazy``): the
CLI builds a plugin manager to list its commands, and ``citygrowth --help`` must not load the
web layer and the engine of every domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from citygrowth.auth.actor import Actor
from citygrowth.i18n import N_
from citygrowth.index import models  # noqa: F401  (tables on Base.metadata)
from citygrowth.plugins import DemoStep, ScheduledJob, hookimpl
from citygrowth.runtime import Runtime

ALL_ROLES = ("district_admin", "analyst", "department_officer", "street_commander",
             "grid_worker", "helper", "resident", "machine")
PERMISSIONS: dict[str, Sequence[str]] = {role: ["index.read"] for role in ALL_ROLES}
PERMISSIONS["district_admin"] = ["index.read", "index.compute"]
PERMISSIONS["analyst"] = ["index.read", "index.compute"]


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    return PERMISSIONS


@hookimpl
def citygrowth_routers() -> Sequence[Any]:
    from citygrowth.index.routes import router  # lazy: see module doc

    return [router]


@hookimpl
def citygrowth_commands() -> Sequence[Any]:
    from citygrowth.index.cli import index  # lazy: see module doc
    from citygrowth.index.framework_cli import framework  # lazy: see module doc

    return [index, framework]


@hookimpl
def citygrowth_event(runtime: Runtime, topic: str, payload: dict[str, Any]) -> None:
    from citygrowth.index.jobs import note_event  # lazy: see module doc

    note_event(runtime, topic, payload)


@hookimpl
def citygrowth_scheduled_jobs(runtime: Runtime) -> Sequence[ScheduledJob]:
    """The safety-net check, and — as a runtime that asks for scheduled jobs runs background
    work — the event-driven refresh of the index for this runtime (``index.jobs``)."""
    from citygrowth.index.jobs import (  # lazy: see module doc
        RECOMPUTE_SECONDS,  # lazy: see module doc
        arm,  # lazy: see module doc
        recompute_job,  # lazy: see module doc
    )

    arm(runtime)
    return [ScheduledJob(name="index.recompute", every_seconds=RECOMPUTE_SECONDS,
                         run=recompute_job)]


@hookimpl
def citygrowth_demo_steps() -> Sequence[DemoStep]:
    return [DemoStep(name="index", run=_demo_index,
                     after=("observations", "cases", "accountability"),
                     description=N_("The City Growth Index of every street, community and "
                                    "grid cell, from the demo data"))]


def _demo_index(runtime: Runtime, actor: Actor) -> None:
    from citygrowth.index.service import compute_index  # lazy: see module doc

    with runtime.session() as session:
        compute_index(session, runtime, actor)
