"""The operational store: SQLAlchemy 2 engine, sessions and migrations.

SQLite (WAL mode, ``synchronous=FULL``, foreign keys on) by default, PostgreSQL by URL. Every
domain keeps its ORM classes in ``<domain>/models.py`` on the one :class:`Base`, and its Alembic
revisions in ``<domain>/migrations/`` as a branch of its own (``branch_labels =
("<domain>",)``) that ``depends_on`` the revisions it references. ``upgrade()`` applies every
branch's head, so domains and plugins add tables without touching each other's history.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pluggy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import DateTime, Engine, MetaData, Table, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from citygrowth.plugins import build_plugin_manager

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every ORM class."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (UTC), on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; citygrowth stores aware UTC times only")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # FULL: a commit is on the disk before it returns, so an acknowledged report or
            # load survives a power loss or an OS crash too (NORMAL survives only a killed
            # process); the intake's group commit pays one sync per batch of reports
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine, info: Mapping[str, Any] | None = None,
                      ) -> sessionmaker[Session]:
    """Sessions on ``engine``; each starts with a copy of ``info`` in ``session.info`` (the
    runtime puts the audit key there)."""
    return sessionmaker(bind=engine, expire_on_commit=False, info=dict(info or {}))


#: ``session.info`` key: errors of work that had to follow a commit and failed (a batch that
#: could not be made visible); :func:`transaction` raises the first after committing
AFTER_COMMIT_FAILURES = "citygrowth_after_commit_failures"


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error. Should
    what follows the commit fail (``AFTER_COMMIT_FAILURES``), its error is raised, so no
    caller answers as if all was done."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        failures = session.info.pop(AFTER_COMMIT_FAILURES, None)
        if failures:
            raise failures[0]


# --- migrations -------------------------------------------------------------------------------

class SQLiteInsert:
    """An INSERT of given columns run straight on the SQLite DBAPI cursor, each value passed
    through the bind processor SQLAlchemy itself uses for the column's type (JSON, UTC
    timestamps, …): for the few hot paths (the intake writer) where SQLAlchemy's per-statement
    machinery costs more than the insert. The rows land exactly as SQLAlchemy would write them
    (``tests/test_db.py`` compares), in the connection's current transaction; a constraint
    violation is raised as SQLAlchemy's ``IntegrityError``."""

    def __init__(self, table: Table, columns: Sequence[str], dialect: Dialect) -> None:
        if dialect.name != "sqlite":
            raise ValueError(f"SQLiteInsert is for SQLite, not {dialect.name}")
        cols = [table.c[name] for name in columns]
        prep = dialect.identifier_preparer
        self.columns = tuple(columns)
        self._get = operator.itemgetter(*self.columns)
        self.sql = (f"INSERT INTO {prep.format_table(table)} "
                    f"({', '.join(prep.format_column(c) for c in cols)}) "
                    f"VALUES ({', '.join('?' for _ in cols)})")
        self.procs = [(i, proc) for i, c in enumerate(cols)
                      if (proc := c.type.dialect_impl(dialect).bind_processor(dialect))]

    def params(self, row: Mapping[str, Any], memo: dict[tuple[int, Any], Any]) -> list[Any]:
        """The row's values in column order, processed. ``memo`` (one per insert call) keeps
        what a processor made of a value seen before in the same call — the same timestamp
        object, an empty list or dict — so each is processed once per batch."""
        values = list(self._get(row)) if len(self.columns) > 1 else [self._get(row)]
        for i, proc in self.procs:
            value = values[i]
            if value is None:
                continue
            kind = type(value)
            key = (i, kind) if kind in (list, dict) and not value else (i, id(value))
            done = memo.get(key, _MISSING)
            if done is _MISSING:
                done = memo[key] = proc(value)
            values[i] = done
        return values

    def insert(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert one row after the other; their new row ids, in order."""
        ids = []
        memo: dict[tuple[int, Any], Any] = {}
        try:
            for row in rows:
                cursor.execute(self.sql, self.params(row, memo))
                ids.append(int(cursor.lastrowid))
        except cursor.connection.IntegrityError as exc:
            raise IntegrityError(self.sql, None, exc) from exc
        return ids

    def insert_many(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        memo: dict[tuple[int, Any], Any] = {}
        try:
            cursor.executemany(self.sql, [self.params(row, memo) for row in rows])
        except cursor.connection.IntegrityError as exc:
            raise IntegrityError(self.sql, None, exc) from exc


_MISSING = object()

def migration_dirs(plugins: pluggy.PluginManager | None = None) -> list[Path]:
    """Every folder of Alembic revisions: each domain's, then each plugin's (``plugins``: the
    runtime's manager; by default the built-ins and installed plugins)."""
    root = Path(__file__).parent
    dirs = sorted(p for p in root.glob("*/migrations") if p.is_dir())
    pm = plugins or build_plugin_manager()
    for extra in pm.hook.citygrowth_migration_dirs():
        dirs.extend(Path(d) for d in extra)
    seen: list[Path] = []
    for d in dirs:
        if d not in seen:
            seen.append(d)
    return seen


def alembic_config(url: str, plugins: pluggy.PluginManager | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations_env"))
    cfg.set_main_option("version_locations",
                        " ".join(str(d) for d in migration_dirs(plugins)))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, plugins: pluggy.PluginManager | None = None) -> None:
    """Bring the database at ``url`` to the newest revision of every branch."""
    command.upgrade(alembic_config(url, plugins), "heads")


def current_heads(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
