"""What every command shares: the settings, and a session factory made on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.events import EventBus
from citygrowth.settings import Settings


@dataclass
class CliContext:
    settings: Settings
    _engine: Engine | None = None
    _factory: sessionmaker[Session] | None = None
    bus: EventBus = field(default_factory=EventBus)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self.settings.ensure_dirs()
            self._engine = make_engine(self.settings.resolved_database_url)
        return self._engine

    @property
    def sessionmaker(self) -> sessionmaker[Session]:
        if self._factory is None:
            self._factory = make_sessionmaker(self.engine)
        return self._factory

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the command's work succeeds, else rolled back."""
        with self.sessionmaker() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise


pass_ctx = click.make_pass_decorator(CliContext)


def get_ctx() -> CliContext:
    ctx: Any = click.get_current_context().find_object(CliContext)
    assert ctx is not None
    return ctx  # type: ignore[no-any-return]
