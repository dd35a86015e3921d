"""One scheduler: cron times in the district's zone, each fire time run once however many
processes race for it, one leader at a time, and catch-up after downtime."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from citygrowth.accountability import plugin as accountability_plugin
from citygrowth.analysis import plugin as analysis_plugin
from citygrowth.db import make_engine
from citygrowth.ops.models import SchedulerRun
from citygrowth.plugins import ScheduledJob
from citygrowth.runtime import Runtime, build_runtime
from citygrowth.scheduler import JobRunner, LeaderLock, plan_jobs
from citygrowth.settings import Settings

BJ = ZoneInfo("Asia/Shanghai")


def bj(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BJ).astimezone(dt.UTC)


@pytest.fixture
def rt(db_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on the store of ``db_url`` (SQLite and PostgreSQL)."""
    runtime = build_runtime(_settings(tmp_path, db_url))
    yield runtime
    runtime.dispose()


def _settings(tmp_path: Path, url: str, **kw: Any) -> Settings:
    return Settings(data_dir=tmp_path / "var", database_url=url, env="test",
                    scheduler_enabled=False, **kw)


def _job(name: str, calls: list[dt.datetime] | None = None) -> ScheduledJob:
    """The plugin's job of that name, its work replaced by counting."""
    jobs = [*analysis_plugin.citygrowth_scheduled_jobs(),
            *accountability_plugin.citygrowth_scheduled_jobs()]
    real = next(j for j in jobs if j.name == name)
    record = calls if calls is not None else []

    def count(runtime: Runtime) -> None:
        record.append(runtime.settings.timezone)

    return ScheduledJob(real.name, real.every_seconds, count, real.cron)


def test_briefings_on_the_first_and_reminders_at_eight(tmp_path: Path, sqlite_url: str) -> None:
    plans = {p.name: p for p in plan_jobs(
        [_job("analysis.monthly-briefings"), _job("accountability.reminders")],
        _settings(tmp_path, sqlite_url))}
    briefings = plans["analysis.monthly-briefings"]
    assert briefings.latest_fire(bj(2027, 2, 1, 5, 59)) == bj(2027, 1, 1, 6, 0)
    assert briefings.latest_fire(bj(2027, 2, 1, 6, 0)) == bj(2027, 2, 1, 6, 0)
    assert plans["accountability.reminders"].latest_fire(bj(2027, 3, 4, 7, 59)) == \
        bj(2027, 3, 3, 8, 0)


def test_a_clock_across_a_month_end_makes_one_briefing(rt: Runtime) -> None:
    """Two schedulers (as two hosts would) tick every ten minutes from 30 January to
    2 February; the briefing job runs once, for 1 February 06:00 local. Then both are down
    across the next month end and the one that comes back first catches up, once."""
    calls: list[Any] = []
    [plan] = plan_jobs([_job("analysis.monthly-briefings", calls)], rt.settings)
    a = JobRunner(rt, host="host-a")
    b = JobRunner(rt, host="host-b")
    assert a.catch_up([plan], bj(2027, 1, 30, 12, 0)) == ["analysis.monthly-briefings"]
    assert len(calls) == 1  # the first start caught up with 1 January's briefing
    t = bj(2027, 1, 30, 12, 0)
    while t < bj(2027, 2, 2, 12, 0):
        t += dt.timedelta(minutes=10)
        for runner in (a, b):
            if runner.due(plan, t) is not None:
                runner.fire(plan, t)
    assert len(calls) == 2
    with rt.session() as s:
        runs = s.scalars(select(SchedulerRun).where(
            SchedulerRun.job == plan.name).order_by(SchedulerRun.fire_time)).all()
        assert [r.fire_time for r in runs] == [bj(2027, 1, 1, 6, 0), bj(2027, 2, 1, 6, 0)]
        assert all(r.status == "done" for r in runs)
    # down from 27 February to 3 March: one catch-up for 1 March, by whichever comes first
    back = bj(2027, 3, 3, 9, 0)
    assert b.catch_up([plan], back) == ["analysis.monthly-briefings"]
    assert a.catch_up([plan], back) == []
    assert len(calls) == 3


def test_racing_schedulers_run_a_fire_time_once(rt: Runtime) -> None:
    settings = rt.settings.model_copy(update={"scheduler_schedules": {"x": "every 30s"}})
    calls: list[Any] = []
    [plan] = plan_jobs([ScheduledJob("x", 999, lambda runtime: calls.append(1))], settings)
    now = dt.datetime(2027, 5, 1, 8, 0, 10, tzinfo=dt.UTC)
    runners = [JobRunner(rt, host=f"h{i}") for i in range(4)]
    results: list[bool] = []
    threads = [threading.Thread(target=lambda r=r: results.append(r.fire(plan, now)))
               for r in runners]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == [False, False, False, True] and calls == [1]
    assert plan.latest_fire(now) == dt.datetime(2027, 5, 1, 8, 0, 0, tzinfo=dt.UTC)
    # the next slot runs again
    assert runners[0].fire(plan, now + dt.timedelta(seconds=30)) and calls == [1, 1]


def test_a_failing_job_is_recorded_and_does_not_stop_the_scheduler(runtime: Runtime) -> None:
    def boom(runtime: Runtime) -> None:
        raise RuntimeError("the gateway is down")

    [plan] = plan_jobs([ScheduledJob("boom", 60, boom)], runtime.settings)
    assert JobRunner(runtime).fire(plan, dt.datetime.now(dt.UTC))
    with runtime.session() as s:
        run = s.scalars(select(SchedulerRun)).one()
        assert run.status == "failed" and "the gateway is down" in run.message


def test_one_leader_at_a_time(tmp_path: Path, db_url: str) -> None:
    engine = make_engine(db_url)
    first, second = LeaderLock(engine, tmp_path), LeaderLock(engine, tmp_path)
    try:
        assert first.acquire() and first.alive()
        assert not second.acquire()
        first.release()
        assert second.acquire()
        assert not first.acquire()
    finally:
        first.release()
        second.release()
        engine.dispose()


def test_schedule_settings(tmp_path: Path, sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="every tuesday"):  # refused when the settings load
        _settings(tmp_path, sqlite_url, scheduler_schedules={"x": "every tuesday"})
    settings = _settings(tmp_path, sqlite_url, scheduler_schedules={"x": "off", "y": "every 2m"})
    plans = plan_jobs([ScheduledJob("x", 60, lambda runtime: None),
                       ScheduledJob("y", 60, lambda runtime: None)], settings)
    assert [(p.name, p.interval) for p in plans] == [("y", 120.0)]





# SQLAlchemy's warnings as errors ("transaction already deassociated" when two threads share
# the connection) — not every warning: a connection an earlier test left for the garbage
# collector must not fail this one
@pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")
def test_the_lock_checked_from_many_threads_stays_held(tmp_path: Path, db_url: str) -> None:
    """Each job's thread checks the lock before it runs, the leader loop too: on PostgreSQL
    that is one connection, used by one thread at a time, and the lock is never dropped."""
    engine = make_engine(db_url)
    lock = LeaderLock(engine, tmp_path)
    results: list[bool] = []
    errors: list[BaseException] = []

    def check() -> None:
        try:
            results.extend(lock.alive() for _ in range(40))
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        assert lock.acquire()
        threads = [threading.Thread(target=check) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert len(results) == 240 and all(results)
        assert lock.held
    finally:
        lock.release()
        engine.dispose()
