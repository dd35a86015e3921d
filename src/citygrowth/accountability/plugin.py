"""The accountability domain's registrations through citygrowth's plugin hooks.

Imports of the domain's routes, commands, jobs and demo are made inside the hooks
(``# lazy``): the CLI builds a plugin manager to list its commands, and ``citygrowth --help``
must not load every domain's web layer and libraries."""

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
    from citygrowth.accountability.desk_pages import router as desk_router  # lazy: see module doc
    from citygrowth.accountability.pages import router as pages_router  # lazy: see module doc
    from citygrowth.accountability.project_pages import (  # lazy: see module doc
        router as project_router,  # lazy: see module doc
    )
    from citygrowth.accountability.routes import router as api_router  # lazy: see module doc

    return [api_router, pages_router, project_router, desk_router]


@hookimpl
def citygrowth_commands() -> Sequence[Any]:
    from citygrowth.accountability.cli import accountability  # lazy: see module doc

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
    from citygrowth.accountability.demo import run_demo  # lazy: see module doc

    return [DemoStep(name="accountability", run=run_demo, after=("areas", "users"),
                     description="Targets, 119 key projects, approvals and the investment desk")]


@hookimpl
def citygrowth_scheduled_jobs() -> Sequence[ScheduledJob]:
    from citygrowth.accountability.jobs import (  # lazy: see module doc
        publish_job,
        reminders_job,
    )

    return [
        ScheduledJob(name="accountability.publish-measures", every_seconds=6 * 3600,
                     run=publish_job),
        ScheduledJob(name="accountability.reminders", every_seconds=24 * 3600,
                     run=reminders_job, cron="0 8 * * *"),  # 08:00 local
    ]
