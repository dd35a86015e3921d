"""The in-process scheduler: runs every plugin's ``ScheduledJob`` on its interval.

Each job gets the runtime, runs in a worker thread (in the district's default language) so it
never blocks requests, and logs (never raises) its failures. The same work is reachable as CLI
commands for deployments that prefer cron (``scheduler_enabled=false``).
"""

from __future__ import annotations

import asyncio
import contextlib

from citygrowth.i18n import locale_context
from citygrowth.logging_setup import get_logger
from citygrowth.plugins import ScheduledJob, collect_list
from citygrowth.runtime import Runtime

log = get_logger(__name__)


class Scheduler:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.jobs: list[ScheduledJob] = collect_list(
            runtime.plugins.hook.citygrowth_scheduled_jobs(runtime=runtime)
        )
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for job in self.jobs:
            self._tasks.append(asyncio.create_task(self._loop(job)))

    def run_job(self, job: ScheduledJob) -> object:
        with locale_context(self.runtime.settings.default_locale, self.runtime.translations):
            return job.run(self.runtime)

    async def _loop(self, job: ScheduledJob) -> None:
        while True:
            await asyncio.sleep(job.every_seconds)
            try:
                await asyncio.to_thread(self.run_job, job)
            except Exception:  # a failing job must not stop the others
                log.exception("scheduled job failed", job=job.name)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
