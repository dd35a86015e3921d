"""The in-process scheduler: runs every plugin's ``ScheduledJob`` on its interval.

Each job gets the app's sessionmaker, settings and bus, runs in a worker thread so it never
blocks requests, and logs (never raises) its failures. The same work is reachable as CLI
commands for deployments that prefer cron (``scheduler_enabled=false``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from citygrowth.logging_setup import get_logger
from citygrowth.plugins import ScheduledJob, collect_list

log = get_logger(__name__)


class Scheduler:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.jobs: list[ScheduledJob] = collect_list(
            app.state.plugins.hook.citygrowth_scheduled_jobs()
        )
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for job in self.jobs:
            self._tasks.append(asyncio.create_task(self._loop(job)))

    async def _loop(self, job: ScheduledJob) -> None:
        while True:
            await asyncio.sleep(job.every_seconds)
            try:
                await asyncio.to_thread(
                    job.run,
                    sessionmaker=self.app.state.sessionmaker,
                    settings=self.app.state.settings,
                    bus=self.app.state.bus,
                )
            except Exception:  # a failing job must not stop the others
                log.exception("scheduled job failed", job=job.name)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
