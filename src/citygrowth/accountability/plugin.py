"""The accountability domain's registrations through citygrowth's plugin hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from citygrowth.accountability import models  # noqa: F401  (tables on Base.metadata)
from citygrowth.plugins import DemoStep, NavItem, ScheduledJob, hookimpl

PERMISSIONS: dict[str, Sequence[str]] = {
    "district_admin": [
        "accountability.view", "accountability.publish", "target.manage", "target.report",
        "project.manage", "project.report", "project.blocker", "approval.record",
        "investment.view", "investment.edit",
    ],
    "analyst": ["accountability.view", "investment.view"],
    "department_officer": [
        "accountability.view", "target.report", "project.report", "project.blocker",
        "approval.record", "investment.view", "investment.edit",
    ],
    "street_commander": ["accountability.view", "project.blocker"],
    "machine": ["accountability.view"],
}


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    return PERMISSIONS


@hookimpl
def citygrowth_routers() -> Sequence[Any]:
    # lazy: the routes (and FastAPI) load when an app is built, not when the plugin registers
    from citygrowth.accountability.desk_pages import router as desk_router  # lazy: as above
    from citygrowth.accountability.pages import router as pages_router  # lazy: as above
    from citygrowth.accountability.project_pages import router as project_router  # lazy: same
    from citygrowth.accountability.routes import router as api_router  # lazy: as above

    return [api_router, pages_router, project_router, desk_router]


@hookimpl
def citygrowth_commands() -> Sequence[Any]:
    from citygrowth.accountability.cli import (
        accountability,  # lazy: the CLI lists commands without the web layer
    )

    return [accountability]


@hookimpl
def citygrowth_nav_items() -> Sequence[NavItem]:
    return [
        NavItem("Accountability", "/accountability", "accountability.view", order=60),
        NavItem("Key projects", "/projects", "accountability.view", order=61),
        NavItem("Investment desk", "/investment", "investment.view", order=62),
    ]


@hookimpl
def citygrowth_demo_steps() -> Sequence[DemoStep]:
    from citygrowth.accountability.demo import (
        run_demo,  # lazy: the CLI lists commands without the web layer
    )

    return [DemoStep(name="accountability", run=run_demo, after=("areas", "users"),
                     description="Targets, 119 key projects, approvals and the investment desk")]


@hookimpl
def citygrowth_scheduled_jobs() -> Sequence[ScheduledJob]:
    from citygrowth.accountability.jobs import (  # lazy: the CLI lists commands only
        publish_job,
        reminders_job,
    )

    return [
        ScheduledJob(name="accountability.publish-measures", every_seconds=6 * 3600,
                     run=publish_job),
        ScheduledJob(name="accountability.reminders", every_seconds=24 * 3600,
                     run=reminders_job),
    ]
