"""Scheduled jobs of the governance domain (also reachable as CLI commands)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from citygrowth.auth.actor import system_actor
from citygrowth.db import transaction
from citygrowth.events import EventBus
from citygrowth.governance.delivery.service import RunResult, channels, deliver_due
from citygrowth.logging_setup import get_logger
from citygrowth.plugins import get_plugin_manager
from citygrowth.settings import Settings

log = get_logger(__name__)


def escalate_job(sessionmaker: Any, settings: Any, bus: Any) -> int:
    """Escalate overdue cases (``citygrowth cases escalate``)."""
    from citygrowth.governance.service import escalate_overdue

    with transaction(sessionmaker) as session:
        n = escalate_overdue(session, system_actor("escalation"), bus=bus)
    if n:
        log.info("cases escalated", count=n)
    return n


def evaluate_job(sessionmaker: Any, settings: Any, bus: Any) -> int:
    """Write this and last month's evaluation into the observation store."""
    from citygrowth.governance.evaluation import recent_months, write_evaluation

    with transaction(sessionmaker) as session:
        n = write_evaluation(session, settings, recent_months(), bus=bus)
    log.info("case evaluation written", observations=n)
    return n


def deliver_job(sessionmaker: sessionmaker[Session], settings: Settings,
                bus: EventBus | None = None) -> RunResult:
    """Send the deliveries that are due (``citygrowth cases deliver``)."""
    result = deliver_due(sessionmaker, settings, channels(get_plugin_manager(settings.plugins)))
    if result.sent or result.retrying or result.failed:
        log.info("case deliveries", sent=result.sent, retrying=result.retrying,
                 failed=result.failed)
    return result
