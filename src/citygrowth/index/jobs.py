"""Keeping the index current: recomputed when a load commits, with a scheduled check behind.

* **Event-driven.** A runtime that runs background work — one whose scheduler asked for the
  scheduled jobs (a web worker with ``scheduler_enabled``, the scheduler process) — has a
  :class:`RefreshTrigger`. The ``citygrowth_event`` hook hands it ``observations.loaded``
  and ``framework.published``; the hook runs inside the load's commit, so it only sets a
  flag. The trigger's thread (off the event loop and off the request) waits
  ``DEBOUNCE_SECONDS`` after the last event — a burst of loads makes one run —, then
  recomputes what the new loads touched (:func:`refresh`): a level none of whose indicators
  was loaded takes the previous run's results over. ``index.computed`` follows on the bus,
  which the big screen's event stream hears.
* **One at a time.** One thread per runtime; across processes and hosts the recompute
  lock (:class:`RecomputeLock`: a PostgreSQL advisory lock, or an exclusive ``flock`` of
  ``<store_dir>/index-recompute.lock`` on SQLite, which serves one host). A process that
  waited for the lock finds the newest vintage already computed and does nothing.
* **Safety net.** The scheduled job ``index.recompute`` (every ``RECOMPUTE_SECONDS``) runs
  the same :func:`refresh` when the store has a vintage the last run has not seen, catching
  loads made where no trigger runs (the command line, a process that stopped).
  ``citygrowth index compute`` does it by hand.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from citygrowth.auth.actor import system_actor
from citygrowth.errors import ValidationFailed
from citygrowth.i18n import locale_context
from citygrowth.index.models import IndexRun
from citygrowth.index.service import compute_index, latest_vintage
from citygrowth.index.spec import spec_for_framework
from citygrowth.logging_setup import get_logger
from citygrowth.observatory.models import ObservationLoad
from citygrowth.runtime import Runtime

RECOMPUTE_SECONDS = 30
DEBOUNCE_SECONDS = 0.05
LOCK_WAIT_SECONDS = 600.0
LOCK_KEY = 7_372_032  # the PostgreSQL advisory lock of index recomputes
TOPICS = ("observations.loaded", "framework.published")
log = get_logger(__name__)


class RecomputeLock:
    """Held while one process recomputes the index: a PostgreSQL advisory lock on a
    connection of its own (the server frees it if the process dies), or an exclusive
    ``flock`` of ``<store_dir>/index-recompute.lock`` (SQLite: one host)."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine = engine
        self.path = data_dir / "index-recompute.lock"  # the shared folder (store_dir)

    @contextlib.contextmanager
    def held(self, wait: float = LOCK_WAIT_SECONDS) -> Iterator[bool]:
        """Yields True once the lock is ours (waiting up to ``wait`` seconds), else False."""
        deadline = time.monotonic() + wait
        if self.engine.dialect.name == "postgresql":
            conn: Connection = self.engine.connect()
            try:
                got = False
                while not got:
                    got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                            {"k": LOCK_KEY}).scalar())
                    conn.commit()
                    if got or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                try:
                    yield got
                finally:
                    if got:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                        conn.commit()
            finally:
                conn.close()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh: IO[str] = self.path.open("a+", encoding="utf-8")
        try:
            got = False
            while not got:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    got = True
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
            try:
                yield got
            finally:
                if got:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        finally:
            fh.close()


def _aware(value: str | dt.datetime) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def last_run(session: Session, framework_code: str, version: str) -> IndexRun | None:
    """The newest finished run of one version of a framework."""
    return session.scalar(select(IndexRun).where(
        IndexRun.framework_code == framework_code, IndexRun.framework_version == version,
        IndexRun.status == "done").order_by(IndexRun.id.desc()).limit(1))


def loaded_since(session: Session, run: IndexRun) -> tuple[set[str], int]:
    """The indicators of the accepted loads a run has not seen (vintage after its own, or
    recorded after it started: a load that took long to commit), and how many loads."""
    started = _aware(run.started_at)
    rows = session.execute(select(ObservationLoad.indicators, ObservationLoad.vintage,
                                  ObservationLoad.created_at).where(
        ObservationLoad.status == "accepted",
        (ObservationLoad.vintage > _aware(run.vintage))
        | (ObservationLoad.created_at >= started))).all()
    out: set[str] = set()
    for indicators, _vintage, _created in rows:
        out |= set(indicators or [])
    return out, len(rows)


def refresh(runtime: Runtime, framework: str = "default",
            wait: float = LOCK_WAIT_SECONDS) -> IndexRun | None:
    """Recompute the index when loads arrived since the last run of the version in force,
    under the recompute lock; levels whose indicators no new load touched take the last
    run's results over (a new version is computed whole). The new run, or None when there
    was nothing to do (or another process held the lock past ``wait``)."""
    lock = RecomputeLock(runtime.engine, runtime.settings.store_dir)
    with lock.held(wait) as got:
        if not got:
            log.warning("index recompute lock busy", waited=wait)
            return None
        try:
            vintage = latest_vintage(runtime.settings)
        except ValidationFailed:
            return None
        with runtime.session() as session:
            spec = spec_for_framework(runtime.frameworks.load(framework))
            previous = last_run(session, spec.code, spec.version)
            touched: set[str] | None = None
            if previous is not None:
                touched, loads = loaded_since(session, previous)
                if not loads and previous.vintage == vintage:
                    return None
            with locale_context(runtime.settings.default_locale, runtime.translations):
                run = compute_index(session, runtime, system_actor("index.recompute"),
                                    framework, previous=previous, touched=touched)
        log.info("index recomputed", framework=framework, vintage=vintage,
                 touched=sorted(touched) if touched is not None else "all")
        return run


@dataclass
class RefreshTrigger:
    """One runtime's event-driven recompute: a thread that waits for a noted event, lets
    ``debounce`` seconds pass without another, and calls :func:`refresh`."""

    runtime_ref: weakref.ref[Runtime]
    debounce: float = DEBOUNCE_SECONDS
    wake: threading.Event = field(default_factory=threading.Event)
    last_event: float = 0.0
    runs: int = 0
    _thread: threading.Thread | None = None
    _stop: bool = False

    def note(self) -> None:
        self.last_event = time.monotonic()
        self.wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, daemon=True,
                                            name="citygrowth-index-refresh")
            self._thread.start()

    def stop(self) -> None:
        self._stop = True
        self.wake.set()

    def _loop(self) -> None:
        while not self._stop:
            self.wake.wait()
            if self._stop:
                return
            while time.monotonic() - self.last_event < self.debounce:
                time.sleep(max(0.0, self.debounce - (time.monotonic() - self.last_event)))
            self.wake.clear()
            runtime = self.runtime_ref()
            if runtime is None:
                return
            try:
                if refresh(runtime) is not None:
                    self.runs += 1
            except Exception:  # the next load or the scheduled check tries again
                log.exception("index refresh failed")
            del runtime


_triggers: weakref.WeakKeyDictionary[Runtime, RefreshTrigger] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def arm(runtime: Runtime) -> RefreshTrigger:
    """Give ``runtime`` its event-driven refresh (once)."""
    with _lock:
        trigger = _triggers.get(runtime)
        if trigger is None:
            trigger = _triggers[runtime] = RefreshTrigger(weakref.ref(runtime))
            trigger.start()
            weakref.finalize(runtime, trigger.stop)
        return trigger


def trigger_of(runtime: Runtime) -> RefreshTrigger | None:
    return _triggers.get(runtime)


def note_event(runtime: Runtime, topic: str, payload: dict[str, Any]) -> None:
    """The ``citygrowth_event`` hook: wake the runtime's trigger (when it has one)."""
    if topic in TOPICS:
        trigger = _triggers.get(runtime)
        if trigger is not None:
            trigger.note()


def recompute_job(runtime: Runtime, framework: str = "default") -> bool:
    """The scheduled check: recompute when loads arrived since the last run (in any process);
    True if it did. It does not wait for a recompute another process holds the lock for."""
    return refresh(runtime, framework, wait=0.0) is not None
