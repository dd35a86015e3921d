"""What every command shares: the :class:`~citygrowth.runtime.Runtime`, built on first use
(``citygrowth --help`` and ``--version`` never build one).

Importing this module is cheap (no SQLAlchemy, no pydantic, no domain): every domain's
``cli.py`` imports it, and ``citygrowth --help`` must answer in well under a second."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from citygrowth.i18n import get_locale, set_locale

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from citygrowth.events import EventBus
    from citygrowth.runtime import Runtime
    from citygrowth.settings import Settings


@dataclass
class CliContext:
    settings: Settings
    _runtime: Runtime | None = None
    _recovered: bool = False

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            from citygrowth.runtime import build_runtime  # lazy: keeps citygrowth --help fast

            self._runtime = build_runtime(self.settings)
            # the command's messages from now on also come from the plugins' catalogs
            set_locale(get_locale(), self._runtime.translations)
        return self._runtime

    @property
    def sessionmaker(self) -> sessionmaker[Session]:
        return self.runtime.sessionmaker

    @property
    def bus(self) -> EventBus:
        """The command's bus: its events also reach the event streams of the web processes
        (through the outbox, see ``citygrowth.ops.relay``)."""
        return self.runtime.bus

    def close(self) -> None:
        """At the end of a command: write the events still queued for the outbox and close
        the store's connections."""
        if self._runtime is not None:
            self._runtime.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the command's work succeeds, else rolled back. The
        first one of a command repairs what a crash left (``batches.recover_at_start``)."""
        if not self._recovered:
            self._recovered = True
            from citygrowth.observatory.batches import (  # lazy: keeps citygrowth --help fast
                recover_at_start,
            )
            recover_at_start(self.runtime)
        with self.runtime.session() as s:
            yield s


pass_ctx = click.make_pass_decorator(CliContext)


def get_ctx() -> CliContext:
    ctx = click.get_current_context().find_object(CliContext)
    assert ctx is not None
    return ctx
