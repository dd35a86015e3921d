"""The governance domain's registrations through citygrowth's plugin hooks.

Imports of the domain's routes, commands and jobs are made inside the hooks (``# lazy``): the
CLI builds a plugin manager to list its commands, and ``citygrowth --help`` must not load the
web layer of every domain."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from starlette.types import ASGIApp

from citygrowth.governance.delivery import email, inbox, webhook
from citygrowth.plugins import DemoStep, NavItem, ScheduledJob, hookimpl
from citygrowth.runtime import Runtime


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    from citygrowth.governance.permissions import PERMISSIONS  # lazy: see module doc

    return PERMISSIONS


@hookimpl
def citygrowth_routers() -> Sequence[Any]:
    from citygrowth.governance.admin_routes import api as admin_api  # lazy: see module doc
    from citygrowth.governance.admin_routes import pages as admin_pages  # lazy: see module doc
    from citygrowth.governance.delivery.routes import router as delivery  # lazy: see module doc
    from citygrowth.governance.help_pages import router as help_pages  # lazy: see module doc
    from citygrowth.governance.mobile import router as mobile  # lazy: see module doc
    from citygrowth.governance.open311.routes import router as open311  # lazy: see module doc
    from citygrowth.governance.open311.routes import (
        test_router as open311_test,  # lazy: see module doc
    )
    from citygrowth.governance.pages import router as pages  # lazy: see module doc
    from citygrowth.governance.resident import router as resident  # lazy: see module doc
    from citygrowth.governance.routes import router as api  # lazy: see module doc

    # delivery first: its /api/cases/inbox and /api/cases/deliveries precede /api/cases/{id}
    return [delivery, api, open311, open311_test, pages, resident, admin_api, admin_pages,
            help_pages, mobile]


@hookimpl
def citygrowth_commands() -> Sequence[Any]:
    from citygrowth.governance.cli import cases  # lazy: see module doc

    return [cases]


@hookimpl
def citygrowth_nav_items() -> Sequence[NavItem]:
    return [NavItem("Report a problem", "/report", None, 5),
            NavItem("Reports around", "/around", None, 6),
            NavItem("My reports", "/my/reports", "case.report", 7),
            NavItem("Command center", "/command", "case.view", 40),
            NavItem("Inbox", "/command/inbox", "case.handle", 41, badge=inbox.badge),
            NavItem("Field tasks", "/m/tasks", "case.handle", 46),
            NavItem("Patrol", "/m/patrol", "case.verify", 45),
            NavItem("Help tasks", "/help", "help.view", 48),
            NavItem("Case settings", "/admin/cases/categories", "case.taxonomy", 90)]


@hookimpl
def citygrowth_demo_steps() -> Sequence[DemoStep]:
    from citygrowth.governance.demo import run_demo  # lazy: see module doc

    return [DemoStep(name="cases", run=run_demo, after=("users", "observations"),
                     description="Illustrative case history (18 months) and its evaluation")]


@hookimpl
def citygrowth_scheduled_jobs(runtime: Runtime) -> Sequence[ScheduledJob]:
    from citygrowth.governance.jobs import (  # lazy: see module doc
        deliver_job,
        escalate_job,
        evaluate_job,
        media_cleanup_job,
    )

    cs = runtime.cases
    return [ScheduledJob("cases.escalate", cs.escalate_every_seconds, escalate_job),
            ScheduledJob("cases.evaluate", cs.evaluate_every_seconds, evaluate_job),
            ScheduledJob("cases.deliver", runtime.settings.delivery_every_seconds,
                         deliver_job),
            ScheduledJob("cases.media_cleanup", 3600, media_cleanup_job)]


@hookimpl
def citygrowth_dispatch_channels() -> dict[str, Callable[..., Any]]:
    """The built-in channels besides the inbox (one module each); plugins add theirs."""
    return {"webhook": webhook.send, "email": email.send}


@hookimpl
def citygrowth_fast_paths(runtime: Runtime) -> Sequence[Callable[[ASGIApp], ASGIApp]]:
    """The intake's fast path for machine reports, unless ``cases_fast_path`` is off."""
    from citygrowth.governance.fastpath import IntakeFastPath  # lazy: see module doc

    if not runtime.cases.fast_path:
        return []
    return [functools.partial(IntakeFastPath, runtime=runtime)]

