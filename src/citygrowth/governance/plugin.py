"""The governance domain's registrations through citygrowth's plugin hooks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from citygrowth.governance.delivery import email, inbox, webhook
from citygrowth.plugins import DemoStep, NavItem, ScheduledJob, hookimpl


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    from citygrowth.governance.permissions import PERMISSIONS

    return PERMISSIONS


@hookimpl
def citygrowth_routers() -> Sequence[Any]:
    from citygrowth.governance.admin_routes import api as admin_api
    from citygrowth.governance.admin_routes import pages as admin_pages
    from citygrowth.governance.delivery.routes import router as delivery
    from citygrowth.governance.help_pages import router as help_pages
    from citygrowth.governance.mobile import router as mobile
    from citygrowth.governance.open311.routes import router as open311
    from citygrowth.governance.open311.routes import test_router as open311_test
    from citygrowth.governance.pages import router as pages
    from citygrowth.governance.routes import router as api

    # delivery first: its /api/cases/inbox and /api/cases/deliveries precede /api/cases/{id}
    return [delivery, api, open311, open311_test, pages, admin_api, admin_pages, help_pages,
            mobile]


@hookimpl
def citygrowth_commands() -> Sequence[Any]:
    from citygrowth.governance.cli import cases

    return [cases]


@hookimpl
def citygrowth_nav_items() -> Sequence[NavItem]:
    return [NavItem("Command center", "/command", "case.view", 40),
            NavItem("Inbox", "/command/inbox", "case.handle", 41, badge=inbox.badge),
            NavItem("Field tasks", "/m/tasks", "case.handle", 46),
            NavItem("Patrol", "/m/patrol", "case.verify", 45),
            NavItem("Help tasks", "/help", "help.view", 48),
            NavItem("Case settings", "/admin/cases/categories", "case.taxonomy", 90)]


@hookimpl
def citygrowth_demo_steps() -> Sequence[DemoStep]:
    from citygrowth.governance.demo import run_demo

    return [DemoStep(name="cases", run=run_demo, after=("users", "observations"),
                     description="Illustrative case history (18 months) and its evaluation")]


@hookimpl
def citygrowth_scheduled_jobs() -> Sequence[ScheduledJob]:
    from citygrowth.governance.config import case_settings
    from citygrowth.governance.jobs import deliver_job, escalate_job, evaluate_job
    from citygrowth.settings import Settings

    cs = case_settings()
    return [ScheduledJob("cases.escalate", cs.escalate_every_seconds, escalate_job),
            ScheduledJob("cases.evaluate", cs.evaluate_every_seconds, evaluate_job),
            ScheduledJob("cases.deliver", Settings().delivery_every_seconds, deliver_job)]


@hookimpl
def citygrowth_dispatch_channels() -> dict[str, Callable[..., Any]]:
    """The built-in channels besides the inbox (one module each); plugins add theirs."""
    return {"webhook": webhook.send, "email": email.send}

