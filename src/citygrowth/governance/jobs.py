"""Scheduled jobs of the governance domain (also reachable as CLI commands)."""

from __future__ import annotations

from citygrowth.auth.actor import system_actor
from citygrowth.governance.delivery.service import RunResult, channels, deliver_due
from citygrowth.governance.evaluation import recent_months, write_evaluation
from citygrowth.governance.media import remove_orphans
from citygrowth.governance.service import escalate_overdue
from citygrowth.logging_setup import get_logger
from citygrowth.runtime import Runtime

log = get_logger(__name__)


def escalate_job(runtime: Runtime) -> int:
    """Escalate overdue cases (``citygrowth cases escalate``)."""
    with runtime.session() as session:
        n = escalate_overdue(session, system_actor("escalation"), runtime)
    if n:
        log.info("cases escalated", count=n)
    return n


def evaluate_job(runtime: Runtime) -> int:
    """Write this and last month's evaluation into the observation store."""
    with runtime.session() as session:
        n = write_evaluation(session, runtime, recent_months(runtime))
    log.info("case evaluation written", observations=n)
    return n


def deliver_job(runtime: Runtime) -> RunResult:
    """Send the deliveries that are due (``citygrowth cases deliver``)."""
    result = deliver_due(runtime.sessionmaker, runtime.settings, channels(runtime))
    if result.sent or result.retrying or result.failed:
        log.info("case deliveries", sent=result.sent, retrying=result.retrying,
                 failed=result.failed)
    return result


def media_cleanup_job(runtime: Runtime) -> int:
    """Remove photos uploaded but never attached to a case within a day, and stray files
    (``citygrowth cases media-cleanup``)."""
    with runtime.session() as session:
        n = remove_orphans(session, runtime.settings.store_dir, runtime.now())
    if n:
        log.info("unused case photos removed", count=n)
    return n
