"""Automatic recomputation when new observations arrive.

The ``citygrowth_event`` hook only notes that ``observations.loaded`` happened (it must stay
quick: it runs inside the load's commit, and it has no database at hand). The scheduled job
``index.recompute`` runs every ``RECOMPUTE_SECONDS`` (30 s); when a note is pending — or, at
the latest every ``CHECK_SECONDS`` (10 min), to catch loads made by another process such as
the CLI — it compares the store's newest vintage with the last run's of the framework version
in force and recomputes the default framework's index if they differ (so publishing a new
framework version, ``framework.published``, also brings a recomputation).
``citygrowth index compute`` does the same by hand.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from citygrowth.auth.actor import system_actor
from citygrowth.db import transaction
from citygrowth.logging_setup import get_logger

RECOMPUTE_SECONDS = 30
CHECK_SECONDS = 600
_pending = threading.Event()
_last_check = [0.0]
log = get_logger(__name__)


def note_event(topic: str, payload: dict[str, Any]) -> None:
    if topic in ("observations.loaded", "framework.published"):
        _pending.set()


def pending() -> bool:
    return _pending.is_set()


def recompute_job(*, sessionmaker: Any, settings: Any, bus: Any = None,
                  framework: str = "default") -> bool:
    """Recompute when the store has a vintage the last run has not seen; True if it did."""
    from citygrowth.errors import ValidationFailed
    from citygrowth.index.service import _latest_vintage, compute_index, latest_vintage_computed
    from citygrowth.index.spec import spec_for_framework

    now = time.monotonic()
    if not _pending.is_set() and now - _last_check[0] < CHECK_SECONDS:
        return False
    _pending.clear()
    _last_check[0] = now
    try:
        vintage = _latest_vintage(settings)
    except ValidationFailed:
        return False
    with transaction(sessionmaker) as session:
        spec = spec_for_framework(framework)
        if latest_vintage_computed(session, spec.code, spec.version) == vintage:
            return False
        compute_index(session, settings, system_actor("index.recompute"), framework, bus=bus)
    log.info("index recomputed", framework=framework, vintage=vintage)
    return True
