"""One scheduler per installation: every plugin's ``ScheduledJob`` runs once per fire time,
however many web workers and hosts serve, at its cron time or interval, catching up after
downtime.

* **Times.** A job has a cron expression (``cron="0 8 * * *"``: 08:00 in the district's zone)
  or an interval (``every_seconds``); the ``scheduler_schedules`` setting overrides either by
  job name (``{"analysis.monthly-briefings": "0 7 1 * *", "index.recompute": "every 10s"}``).
  APScheduler (3.x) keeps the time: its triggers compute fire times, its scheduler wakes up for
  them and runs the jobs in worker threads, never two runs of one job at once.
* **Once.** Each run is claimed by inserting ``(job, fire time)`` into ``scheduler_runs``, whose
  pair is unique: of two schedulers that fire together, one inserts and runs, the other finds
  the row and skips. Interval jobs' fire times are aligned to the interval since the epoch, so
  every process names the same one.
* **One leader.** Only the process holding the leader lock schedules: a PostgreSQL advisory lock
  held on its own connection (released by the server when the process dies), or on SQLite an
  exclusive ``flock`` of ``<data_dir>/scheduler.lock``. The others try again every
  ``LEADER_RETRY_SECONDS`` and take over when the leader goes. Web workers compete for it when
  ``scheduler_enabled`` is on; ``citygrowth scheduler`` is the dedicated process.
* **Catch-up.** When a process becomes leader it runs, once, each job whose latest fire time
  passed without a run (a briefing due on the 1st while the machine was down is made when it
  comes back; an interval job whose interval has passed runs at once instead of waiting a whole
  interval again).

Each job gets the runtime, runs in a worker thread in the district's default language, and
logs (never raises) its failures; its run is recorded with its status. The same work is
reachable as CLI commands.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Connection, Engine, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from citygrowth.db import utcnow
from citygrowth.i18n import locale_context
from citygrowth.logging_setup import get_logger
from citygrowth.ops.models import OutboxEvent, SchedulerRun
from citygrowth.ops.relay import process_name
from citygrowth.plugins import ScheduledJob, collect_list
from citygrowth.runtime import Runtime
from citygrowth.settings import Settings

log = get_logger(__name__)
LEADER_RETRY_SECONDS = 15
LOCK_KEY = 7_372_031  # the PostgreSQL advisory lock of the scheduler's leader
EVERY = re.compile(r"^every\s+(\d+)\s*([smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
Clock = Callable[[], dt.datetime]


def _prune_job(runtime: Runtime) -> None:
    """Forget outbox events older than a day and job runs older than 90 days."""
    now = runtime.now()
    with runtime.session() as s:
        s.execute(delete(OutboxEvent).where(OutboxEvent.created_at < now - dt.timedelta(days=1)))
        s.execute(delete(SchedulerRun).where(
            SchedulerRun.started_at < now - dt.timedelta(days=90)))


PRUNE = ScheduledJob(name="ops.prune", every_seconds=86400, run=_prune_job, cron="30 3 * * *")


def parse_schedule(text: str, tz: ZoneInfo) -> BaseTrigger:
    """``"every 30s"`` (s, m, h, d) or a 5-field cron expression in ``tz``."""
    value = text.strip()
    m = EVERY.match(value)
    if m:
        # fires on the grid counted from the epoch: every process names the same fire times
        return IntervalTrigger(seconds=int(m.group(1)) * UNIT_SECONDS[m.group(2)],
                               start_date=EPOCH, timezone=tz)
    try:
        return CronTrigger.from_crontab(value, timezone=tz)
    except ValueError as exc:
        raise ValueError(f"not a schedule (every 30s, or a cron expression): {text!r}: {exc}") \
            from None


@dataclass(frozen=True)
class Plan:
    """A job with its trigger."""

    job: ScheduledJob
    trigger: BaseTrigger
    schedule: str = ""  # as written: "0 8 * * *" or "every 30s"

    @property
    def name(self) -> str:
        return self.job.name

    @property
    def interval(self) -> float | None:
        if isinstance(self.trigger, IntervalTrigger):
            return float(self.trigger.interval.total_seconds())
        return None

    def latest_fire(self, now: dt.datetime) -> dt.datetime | None:
        """The latest fire time at or before ``now`` (an interval job's: the start of the
        interval slot holding ``now``, counted from the epoch)."""
        if self.interval is not None:
            slot = int((now - EPOCH).total_seconds() // self.interval)
            return EPOCH + dt.timedelta(seconds=slot * self.interval)
        for window in (dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(days=32),
                       dt.timedelta(days=370)):
            fire = self.trigger.get_next_fire_time(None, now - window)
            if fire is None or fire > now:
                continue
            for _ in range(10_000):
                nxt = self.trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
                if nxt is None or nxt > now:
                    break
                fire = nxt
            found: dt.datetime = fire.astimezone(dt.UTC)
            return found
        return None


def plan_jobs(jobs: Sequence[ScheduledJob], settings: Settings) -> list[Plan]:
    """Each job with its trigger: the setting's override, else its cron, else its interval;
    a job the setting turns ``off`` is left out."""
    tz = ZoneInfo(settings.timezone)
    plans = []
    for job in jobs:
        schedule = (settings.scheduler_schedules.get(job.name) or job.cron
                     or f"every {job.every_seconds}s")
        if schedule.strip() == "off":
            continue
        plans.append(Plan(job, parse_schedule(schedule, tz), schedule))
    return plans


class JobRunner:
    """Claims a job's fire time in the store and runs the job, once across processes."""

    def __init__(self, runtime: Runtime, host: str | None = None) -> None:
        self.runtime = runtime
        self.host = host or process_name()

    @property
    def factory(self) -> Any:
        return self.runtime.sessionmaker

    def claim(self, job: str, fire_time: dt.datetime) -> int | None:
        """The id of the new run, or None when another process claimed this fire time."""
        with self.factory() as s:
            run = SchedulerRun(job=job, fire_time=fire_time, started_at=utcnow(),
                               status="running", host=self.host, message="")
            s.add(run)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return None
            return run.id

    def last_fire(self, job: str) -> dt.datetime | None:
        with self.factory() as s:
            value: dt.datetime | None = s.scalar(
                select(func.max(SchedulerRun.fire_time)).where(SchedulerRun.job == job))
            return value

    def run(self, plan: Plan, fire_time: dt.datetime) -> bool:
        """Run ``plan`` for ``fire_time`` unless another process did; True when this one ran."""
        run_id = self.claim(plan.name, fire_time)
        if run_id is None:
            return False
        status, message = "done", ""
        try:
            with locale_context(self.runtime.settings.default_locale,
                                self.runtime.translations):
                plan.job.run(self.runtime)
        except Exception as exc:  # a failing job must not stop the others
            log.exception("scheduled job failed", job=plan.name)
            status, message = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        with self.factory() as s:
            s.execute(update(SchedulerRun).where(SchedulerRun.id == run_id).values(
                status=status, message=message, finished_at=utcnow()))
            s.commit()
        return True

    def due(self, plan: Plan, now: dt.datetime) -> dt.datetime | None:
        """The latest fire time of ``plan`` at or before ``now`` that has no run yet."""
        fire = plan.latest_fire(now)
        if fire is None:
            return None
        last = self.last_fire(plan.name)
        if last is not None and last >= fire:
            return None
        return fire

    def catch_up(self, plans: Sequence[Plan], now: dt.datetime) -> list[str]:
        """Run, once, every job whose latest fire time passed without a run."""
        ran = []
        for plan in plans:
            fire = self.due(plan, now)
            if fire is not None and self.run(plan, fire):
                ran.append(plan.name)
        return ran

    def fire(self, plan: Plan, now: dt.datetime) -> bool:
        """What the scheduler calls when ``plan`` fires: run it for its current fire time."""
        fire = plan.latest_fire(now)
        return fire is not None and self.run(plan, fire)


class LeaderLock:
    """Held by the one process that schedules: a PostgreSQL advisory lock on a connection of
    its own, or an exclusive ``flock`` of ``<data_dir>/scheduler.lock`` on SQLite. Safe to use
    from several threads (the jobs' threads check it before each run): one connection is used
    by one thread at a time."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine = engine
        self.path = data_dir / "scheduler.lock"
        self._conn: Connection | None = None
        self._file: IO[str] | None = None
        self._guard = threading.RLock()

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def acquire(self) -> bool:
        with self._guard:
            if self.held:
                return True
            if self.engine.dialect.name == "postgresql":
                conn = self.engine.connect()
                try:
                    got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                            {"k": LOCK_KEY}).scalar())
                    conn.commit()
                except Exception:
                    conn.close()
                    raise
                if got:
                    self._conn = conn
                else:
                    conn.close()
                return got
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = self.path.open("a+", encoding="utf-8")
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                return False
            fh.seek(0)
            fh.truncate()
            fh.write(process_name() + "\n")
            fh.flush()
            self._file = fh
            return True

    def alive(self) -> bool:
        """Whether the lock is still ours (a PostgreSQL connection can be lost)."""
        with self._guard:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1"))
                    self._conn.commit()
                except Exception:
                    self.release()
                    return False
            return self.held

    def release(self) -> None:
        with self._guard:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                    self._conn.commit()
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
            if self._file is not None:
                with contextlib.suppress(OSError):
                    fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
                self._file.close()
                self._file = None


class Scheduler:
    """Competes for the leader lock; as leader, catches up and runs every job on time."""

    def __init__(self, runtime: Runtime, jobs: Sequence[ScheduledJob] | None = None,
                 clock: Clock | None = None) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        if jobs is None:
            jobs = collect_list(runtime.plugins.hook.citygrowth_scheduled_jobs(runtime=runtime))
        self.jobs = [*jobs, PRUNE]
        self.plans = plan_jobs(self.jobs, runtime.settings)
        self.clock = clock or runtime.now
        self.runner = JobRunner(runtime)
        self.lock = LeaderLock(runtime.engine, runtime.settings.data_dir)
        self._aps: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leader(self) -> bool:
        return self._aps is not None

    def _lead(self) -> None:
        """Became leader: catch up, then schedule every job with APScheduler."""
        caught = self.runner.catch_up(self.plans, self.clock())
        if caught:
            log.info("scheduler caught up", jobs=caught)
        aps = BackgroundScheduler(timezone=ZoneInfo(self.settings.timezone))
        for plan in self.plans:
            aps.add_job(self._fire, plan.trigger, args=[plan], id=plan.name, name=plan.name,
                        max_instances=1, coalesce=True, misfire_grace_time=None)
        aps.start()
        self._aps = aps
        log.info("scheduler leads", jobs=[p.name for p in self.plans])

    def _fire(self, plan: Plan) -> None:
        if not self.lock.alive():  # lost the lock: another process schedules now
            return
        self.runner.fire(plan, self.clock())

    def _follow(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.leader and not self.lock.alive():
                    log.warning("scheduler lost the leader lock")
                    self._follow()
                if not self.leader and self.lock.acquire():
                    self._lead()
            except Exception:  # the store may be down; try again
                log.exception("scheduler could not take or keep the lead")
            self._stop.wait(LEADER_RETRY_SECONDS)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="citygrowth-scheduler")
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop scheduling (a running job finishes in its thread) and release the lock."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._follow()
        self.lock.release()
