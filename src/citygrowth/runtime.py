"""The app-scoped :class:`Runtime`: everything a request, a command, a job or a hook needs.

One ``Runtime`` is built per web app (``create_app``) and per CLI invocation
(``CliContext.runtime``) from the :class:`~citygrowth.settings.Settings` in force. It carries
the settings, the plugin manager, the framework registry, the operational store's engine and
sessionmaker, the event bus, the district's time zone, the working calendar and a clock. Routes
get it through ``RuntimeDep``; scheduled jobs and demo steps receive it; every plugin hook may
take it as its ``runtime`` argument (as datasette's hooks receive ``datasette``).

Nothing in citygrowth reads configuration from a module global: two apps built in one process
with different settings (time zone, data folder, plugins) keep their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import pluggy
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from citygrowth.auth.audit import AUDIT_KEY, anchor_key
from citygrowth.auth.permissions import PermissionTable, build_permission_table
from citygrowth.catalog.registry import FrameworkRegistry
from citygrowth.db import make_engine, make_sessionmaker, transaction, utcnow
from citygrowth.governance.sla import WorkCalendar
from citygrowth.holidays.store import HolidayCalendars
from citygrowth.i18n import Translations
from citygrowth.ops.relay import RelayBus
from citygrowth.plugins import build_plugin_manager, collect_list
from citygrowth.settings import CaseSettings, Settings

Clock = Callable[[], dt.datetime]


@dataclass(eq=False)
class Runtime:
    """What one app (or one command) runs with. Build it with :func:`build_runtime`."""

    settings: Settings
    plugins: pluggy.PluginManager
    clock: Clock = utcnow
    _engine: Engine | None = field(default=None, repr=False)
    _sessionmaker: sessionmaker[Session] | None = field(default=None, repr=False)

    # --- configuration --------------------------------------------------------------------

    @property
    def cases(self) -> CaseSettings:
        """The governance settings (``CITYGROWTH_CASES_*``)."""
        return self.settings.cases

    @cached_property
    def tz(self) -> ZoneInfo:
        """The district's time zone: times are shown and working days counted in it."""
        return ZoneInfo(self.settings.timezone)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def now(self) -> dt.datetime:
        """The current moment, aware, in UTC (from the runtime's clock)."""
        return self.clock()

    def local_now(self) -> dt.datetime:
        return self.clock().astimezone(self.tz)

    def today(self) -> dt.date:
        """Today's date in the district's time zone."""
        return self.local_now().date()

    def local(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` (aware) in the district's time zone."""
        return moment.astimezone(self.tz)

    # --- shared services ------------------------------------------------------------------

    @cached_property
    def frameworks(self) -> FrameworkRegistry:
        """Indicator frameworks: the district's published one, the built-in, plugins' files."""
        offered = collect_list(self.plugins.hook.citygrowth_indicator_frameworks(runtime=self))
        return FrameworkRegistry(self.settings.store_dir / "frameworks",
                                 tuple(Path(p) for p in offered))

    @cached_property
    def permissions(self) -> PermissionTable:
        """role → permissions, merged from every plugin's ``citygrowth_permissions``."""
        return build_permission_table(self.plugins, self)

    @cached_property
    def translations(self) -> Translations:
        """The message catalogs: every built-in domain's and every plugin's."""
        dirs = collect_list(self.plugins.hook.citygrowth_locale_dirs(runtime=self))
        return Translations(tuple(Path(d) for d in dirs))

    @cached_property
    def holidays(self) -> HolidayCalendars:
        """The State Council holiday notices loaded into this runtime's store."""
        return HolidayCalendars(lambda: self.engine)

    @cached_property
    def _work_periods(self) -> WorkCalendar:
        return WorkCalendar.from_settings(self.cases.work_periods, self.settings.timezone)

    @property
    def calendar(self) -> WorkCalendar:
        """The working calendar of case deadlines and approval times: working periods, time
        zone, and holidays — the loaded notices first, then chinese_calendar (its ``days``)."""
        days = self.holidays.current()
        base = self._work_periods
        if base.days is not days:
            base = base.with_days(days)
            self.__dict__["_work_periods"] = base  # one per notices' version: its memo of days
        return base

    @cached_property
    def bus(self) -> RelayBus:
        """The event bus; every event also reaches the plugins' ``citygrowth_event`` hook, and
        the event streams of the other processes on this store (through the outbox)."""
        def to_plugins(topic: str, payload: dict[str, object]) -> None:
            self.plugins.hook.citygrowth_event(runtime=self, topic=topic, payload=payload)

        return RelayBus(lambda: self.engine, on_publish=to_plugins)

    @property
    def engine(self) -> Engine:
        """The operational store's engine, made on first use (``--help`` never makes one)."""
        if self._engine is None:
            self.settings.ensure_dirs()
            self._engine = make_engine(self.settings.resolved_database_url)
        return self._engine

    @property
    def sessionmaker(self) -> sessionmaker[Session]:
        if self._sessionmaker is None:
            # every session can sign the audit chain's anchor (``auth/audit.py``)
            self._sessionmaker = make_sessionmaker(
                self.engine, {AUDIT_KEY: anchor_key(self.settings)})
        return self._sessionmaker

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the work succeeds, else rolled back."""
        with transaction(self.sessionmaker) as s:
            yield s

    def dispose(self) -> None:
        """Write the events still queued for the outbox, then close the store's connections."""
        if "bus" in self.__dict__:
            self.bus.flush()
        if self._engine is not None:
            self._engine.dispose()


def build_runtime(settings: Settings | None = None, *, clock: Clock | None = None,
                  entry_points: bool = True) -> Runtime:
    """A runtime for ``settings``: the built-in domains, installed plugins (entry points) and
    the modules the ``plugins`` setting names."""
    settings = settings or Settings()
    pm = build_plugin_manager(settings.plugins, entry_points=entry_points)
    return Runtime(settings=settings, plugins=pm, clock=clock or utcnow)
