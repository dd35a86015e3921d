"""Scheduled jobs: publish the measures; remind departments of upcoming milestones.

The same work runs from the CLI (``citygrowth accountability publish-measures`` and
``citygrowth accountability reminders``) for deployments that use cron.
"""

from __future__ import annotations

from typing import Any

from citygrowth.accountability.measures import publish_measures
from citygrowth.accountability.targets import REMINDER_DAYS, send_reminders
from citygrowth.auth.actor import system_actor
from citygrowth.logging_setup import get_logger
from citygrowth.runtime import Runtime

log = get_logger(__name__)


def publish_job(runtime: Runtime) -> dict[str, int]:
    with runtime.session() as session:
        counts = publish_measures(session, runtime, system_actor("accountability"),
                                  runtime.today())
    log.info("accountability measures published", **counts)
    return counts


def reminders_job(runtime: Runtime) -> dict[str, Any]:
    with runtime.session() as session:
        by_dept = send_reminders(session, system_actor("accountability"),
                                 runtime.today(), runtime.bus, REMINDER_DAYS)
    log.info("milestone reminders sent", departments=len(by_dept))
    return by_dept
