"""Scheduled jobs of the governance domain (also reachable as CLI commands)."""

from __future__ import annotations

from typing import Any

from citygrowth.auth.actor import system_actor
from citygrowth.db import transaction
from citygrowth.logging_setup import get_logger

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
