"""Progress bars of long commands (demo, index compute and uncertainty, backup, restore), on
standard error so that what a command prints on standard output stays clean."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from citygrowth.i18n import translate

console = Console(stderr=True)

#: report(stage, done, total): a bar per stage, bytes for files and checks, steps otherwise
StageReport = Callable[[str, int, int], None]


@contextmanager
def stage_bars(labels: dict[str, str], byte_stages: frozenset[str] = frozenset()
               ) -> Iterator[StageReport]:
    """One bar per stage (``labels``: stage → English msgid); yields the callback."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.fields[amount]}"), TimeRemainingColumn(), console=console,
                  transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            amount = f"{decimal(done)}/{decimal(total)}" if stage in byte_stages else ""
            if total == 0:  # nothing to do in this stage: a full bar
                done = total = 1
            if stage not in tasks:
                tasks[stage] = bar.add_task(translate(labels.get(stage, stage)), total=total,
                                            amount=amount)
            bar.update(tasks[stage], completed=done, total=total, amount=amount)

        yield report


@contextmanager
def step_bar(title: str, total: int) -> Iterator[Callable[[str], None]]:
    """A bar over ``total`` steps; yields ``advance(description)`` to call as each starts."""
    with Progress(TextColumn("[bold]{task.fields[title]}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.description}"), console=console,
                  transient=False) as bar:
        task = bar.add_task("", total=total, title=title)
        started = [False]

        def advance(description: str) -> None:
            if started[0]:
                bar.advance(task)
            started[0] = True
            bar.update(task, description=description)

        yield advance
        bar.update(task, completed=total, description="")


@contextmanager
def count_bar(title: str) -> Iterator[Callable[[int, int], None]]:
    """A bar filled by ``report(done, total)`` calls (index levels, simulations …)."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                  transient=False) as bar:
        task = bar.add_task(title, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report
