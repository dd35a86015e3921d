"""Scheduled jobs: publish the measures; remind departments of upcoming milestones.

The same work runs from the CLI (``citygrowth accountability publish-measures`` and
``citygrowth accountability reminders``) for deployments that use cron.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from citygrowth.accountability.common import today_local
from citygrowth.accountability.measures import publish_measures
from citygrowth.accountability.targets import REMINDER_DAYS, send_reminders
from citygrowth.auth.actor import system_actor
from citygrowth.db import transaction
from citygrowth.events import EventBus
from citygrowth.logging_setup import get_logger
from citygrowth.settings import Settings

log = get_logger(__name__)


def publish_job(sessionmaker: sessionmaker[Session], settings: Settings,
                bus: EventBus | None = None) -> dict[str, int]:
    with transaction(sessionmaker) as session:
        counts = publish_measures(session, settings, system_actor("accountability"), bus,
                                  today_local(settings.timezone))
    log.info("accountability measures published", **counts)
    return counts


def reminders_job(sessionmaker: sessionmaker[Session], settings: Settings,
                  bus: EventBus | None = None) -> dict[str, Any]:
    with transaction(sessionmaker) as session:
        by_dept = send_reminders(session, system_actor("accountability"),
                                 today_local(settings.timezone), bus, REMINDER_DAYS)
    log.info("milestone reminders sent", departments=len(by_dept))
    return by_dept
