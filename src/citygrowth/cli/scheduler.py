"""``citygrowth scheduler``: the process that runs the scheduled jobs (see citygrowth.scheduler)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click
from rich.console import Console
from rich.table import Table

from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.i18n import _

console = Console()


@click.command("scheduler")
@click.option("--list", "list_only", is_flag=True,
              help="List the jobs with their times and last runs; run nothing.")
@pass_ctx
def scheduler(cx: CliContext, list_only: bool) -> None:
    """Run the scheduled jobs until stopped (SIGTERM or Ctrl-C): escalations, reminders at
    08:00, briefings on the 1st, index runs after loads. However many of these and of the web
    workers run, one holds the lead and each job runs once per fire time; jobs missed while
    nothing ran are caught up when one takes the lead.

    Example: citygrowth scheduler --list
    """
    from citygrowth.scheduler import Scheduler  # lazy: APScheduler and SQLAlchemy

    sched = Scheduler(cx.runtime)
    if list_only:
        table = Table(_("Job"), _("When"), _("Last run for"))
        for plan in sched.plans:
            last = sched.runner.last_fire(plan.name)
            table.add_row(plan.name, plan.schedule, cx.runtime.local(last).strftime(
                "%Y-%m-%d %H:%M") if last else "—")
        console.print(table)
        return
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sched.start()
    click.echo(_("Scheduler started: {n} jobs; the process holding the lead runs them.").format(
        n=len(sched.plans)), err=True)
    stop.wait()
    sched.stop()
    click.echo(_("Scheduler stopped."), err=True)
