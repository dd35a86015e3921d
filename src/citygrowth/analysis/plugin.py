"""The analysis domain's registrations through citygrowth's plugin hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from citygrowth.analysis import models  # noqa: F401  (tables on Base.metadata)
from citygrowth.plugins import NavItem, ScheduledJob, hookimpl

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
    from citygrowth.analysis.pages import router as pages_router
    from citygrowth.analysis.routes import router as api_router

    return [api_router, pages_router]


@hookimpl
def citygrowth_commands() -> Sequence[Any]:
    from citygrowth.analysis.cli import analysis

    return [analysis]


@hookimpl
def citygrowth_nav_items() -> Sequence[NavItem]:
    return [NavItem("Briefings", "/briefings", "analysis.view", order=45),
            NavItem("Anomaly review", "/anomalies", "analysis.decide", order=46)]


def _briefings_job(**kw: Any) -> Any:
    from citygrowth.analysis.jobs import monthly_briefings

    return monthly_briefings(kw["sessionmaker"], kw["settings"], kw.get("bus"))


def _forecasts_job(**kw: Any) -> Any:
    from citygrowth.analysis.jobs import warm_forecasts

    return warm_forecasts(kw["sessionmaker"], kw["settings"], kw.get("bus"))


@hookimpl
def citygrowth_scheduled_jobs() -> Sequence[ScheduledJob]:
    # Checked daily; a month's briefings are made once (existing ones are kept).
    return [
        ScheduledJob(name="analysis.monthly-briefings", every_seconds=24 * 3600,
                     run=_briefings_job),
        ScheduledJob(name="analysis.warm-forecasts", every_seconds=12 * 3600,
                     run=_forecasts_job),
    ]
