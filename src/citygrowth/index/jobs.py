"""Automatic recomputation when new observations arrive.

The ``citygrowth_event`` hook only notes that ``observations.loaded`` (or
``framework.published``) happened, on the runtime it came from — it must stay quick: it runs
inside the load's commit. The scheduled job ``index.recompute`` runs every
``RECOMPUTE_SECONDS`` (30 s); when a note is pending, when the store has an accepted load
newer than the last run's vintage (a load made by another web worker, host or the CLI: the one
scheduler runs in one process), or at the latest every ``CHECK_SECONDS`` (10 min), it compares
the store's newest vintage with the last run's of the framework version in force and
recomputes the default framework's index if they differ. ``citygrowth index compute`` does the
same by hand.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from citygrowth.auth.actor import system_actor
from citygrowth.errors import ValidationFailed
from citygrowth.index.service import compute_index, latest_vintage, latest_vintage_computed
from citygrowth.index.spec import spec_for_framework
from citygrowth.logging_setup import get_logger
from citygrowth.observatory.models import ObservationLoad
from citygrowth.runtime import Runtime

RECOMPUTE_SECONDS = 30
CHECK_SECONDS = 600
TOPICS = ("observations.loaded", "framework.published")
log = get_logger(__name__)


@dataclass
class Notes:
    """What one runtime's recompute job knows: a load is pending; when it last looked."""

    pending: threading.Event = field(default_factory=threading.Event)
    last_check: float = 0.0


_notes: weakref.WeakKeyDictionary[Runtime, Notes] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def notes_of(runtime: Runtime) -> Notes:
    """The runtime's notes (kept beside it, gone with it)."""
    with _lock:
        notes = _notes.get(runtime)
        if notes is None:
            notes = _notes[runtime] = Notes()
        return notes


def note_event(runtime: Runtime, topic: str, payload: dict[str, Any]) -> None:
    if topic in TOPICS:
        notes_of(runtime).pending.set()


def _loaded_since_last_run(runtime: Runtime, framework: str) -> bool:
    """Whether a load newer than the last run's vintage was accepted — in any process: the
    event hook sees only this process's loads, and the scheduler may run elsewhere."""
    with runtime.session() as session:
        loaded = session.scalar(select(func.max(ObservationLoad.vintage)).where(
            ObservationLoad.status == "accepted"))
        if loaded is None:
            return False
        spec = spec_for_framework(runtime.frameworks.load(framework))
        computed = latest_vintage_computed(session, spec.code, spec.version)
    if computed is None:
        return True
    last = dt.datetime.fromisoformat(computed)
    return bool(loaded > (last if last.tzinfo else last.replace(tzinfo=dt.UTC)))


def recompute_job(runtime: Runtime, framework: str = "default") -> bool:
    """Recompute when the store has a vintage the last run has not seen; True if it did."""
    notes = notes_of(runtime)
    now = time.monotonic()
    if not notes.pending.is_set() and now - notes.last_check < CHECK_SECONDS \
            and not _loaded_since_last_run(runtime, framework):
        return False
    notes.pending.clear()
    notes.last_check = now
    try:
        vintage = latest_vintage(runtime.settings)
    except ValidationFailed:
        return False
    with runtime.session() as session:
        spec = spec_for_framework(runtime.frameworks.load(framework))
        if latest_vintage_computed(session, spec.code, spec.version) == vintage:
            return False
        compute_index(session, runtime, system_actor("index.recompute"), framework)
    log.info("index recomputed", framework=framework, vintage=vintage)
    return True
