"""The index domain's registrations through citygrowth's plugin hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from citygrowth.i18n import N_
from citygrowth.index import models  # noqa: F401  (tables on Base.metadata)
from citygrowth.plugins import DemoStep, ScheduledJob, hookimpl

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
    from citygrowth.index.routes import router

    return [router]


@hookimpl
def citygrowth_commands() -> Sequence[Any]:
    from citygrowth.index.cli import index

    return [index]


@hookimpl
def citygrowth_event(topic: str, payload: dict[str, Any]) -> None:
    from citygrowth.index.jobs import note_event

    note_event(topic, payload)


@hookimpl
def citygrowth_scheduled_jobs() -> Sequence[ScheduledJob]:
    from citygrowth.index.jobs import RECOMPUTE_SECONDS, recompute_job

    return [ScheduledJob(name="index.recompute", every_seconds=RECOMPUTE_SECONDS,
                         run=recompute_job)]


@hookimpl
def citygrowth_demo_steps() -> Sequence[DemoStep]:
    return [DemoStep(name="index", run=_demo_index,
                     after=("observations", "cases", "accountability"),
                     description=N_("The City Growth Index of every street, community and "
                                    "grid cell, from the demo data"))]


def _demo_index(cx: Any, actor: Any) -> None:
    from citygrowth.index.service import compute_index

    with cx.session() as session:
        compute_index(session, cx.settings, actor, bus=cx.bus)
