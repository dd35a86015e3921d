"""The analysis domain's registrations through citygrowth's plugin hooks.

Imports of the domain's routes, commands, jobs and services are made inside the hooks
(``# lazy``): the CLI builds a plugin manager to list its commands, and ``citygrowth --help``
must not load the web layer and the statistics libraries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from citygrowth.analysis import models  # noqa: F401  (tables on Base.metadata)
from citygrowth.plugins import AcceptedLoad, NavItem, ScheduledJob, hookimpl
from citygrowth.runtime import Runtime

PERMISSIONS: dict[str, Sequence[str]] = {
    "district_admin": ["analysis.view", "analysis.check", "analysis.decide",
                       "analysis.briefing"],
    "analyst": ["analysis.view", "analysis.check", "analysis.decide", "analysis.briefing"],
    "department_officer": ["analysis.view", "analysis.check", "analysis.decide"],
    "street_commander": ["analysis.view", "analysis.briefing"],
    "machine": ["analysis.view", "analysis.check"],
}


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    return PERMISSIONS


@hookimpl
def citygrowth_routers() -> Sequence[Any]:
    from citygrowth.analysis.pages import router as pages_router  # lazy: see module doc
    from citygrowth.analysis.routes import router as api_router  # lazy: see module doc

    return [api_router, pages_router]


@hookimpl
def citygrowth_commands() -> Sequence[Any]:
    from citygrowth.analysis.cli import analysis  # lazy: see module doc

    return [analysis]


@hookimpl
def citygrowth_nav_items() -> Sequence[NavItem]:
    return [NavItem("Briefings", "/briefings", "analysis.view", order=45),
            NavItem("Anomaly review", "/anomalies", "analysis.decide", order=46)]


@hookimpl
def citygrowth_scheduled_jobs() -> Sequence[ScheduledJob]:
    from citygrowth.analysis.jobs import monthly_briefings, warm_forecasts  # lazy: see module doc

    # On the 1st at 06:00 (caught up if the scheduler was down); a month's briefings are made
    # once (existing ones are kept).
    return [
        ScheduledJob(name="analysis.monthly-briefings", every_seconds=24 * 3600,
                     run=monthly_briefings, cron="0 6 1 * *"),
        ScheduledJob(name="analysis.warm-forecasts", every_seconds=12 * 3600,
                     run=warm_forecasts),
    ]


@hookimpl
def citygrowth_load_accepted(runtime: Runtime, session: Session,
                             load: AcceptedLoad) -> Sequence[dict[str, Any]]:
    from citygrowth.analysis.service import warnings_for_accepted_load  # lazy: see module doc

    return warnings_for_accepted_load(session, runtime, load)
