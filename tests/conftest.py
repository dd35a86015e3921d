"""Shared fixtures: settings on a temporary data folder, migrated databases (SQLite and
PostgreSQL), sessions, the app and its client, actors.

``needs(component)`` skips a test whose component is missing — or fails it when
``CITYGROWTH_REQUIRE_ALL=1`` (as in CI), so nothing silently goes untested there.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from citygrowth.db import Base, make_engine, make_sessionmaker, upgrade
from citygrowth.runtime import Runtime, build_runtime
from citygrowth.settings import Settings
from tests.factories import TEST_AUDIT, TEST_SECRET

REQUIRE_ALL = os.environ.get("CITYGROWTH_REQUIRE_ALL") == "1"
POSTGRES_URL = os.environ.get("CITYGROWTH_TEST_POSTGRES_URL", "")
DATA = Path(__file__).parent / "data"


def needs(component: str, available: bool, why: str = "") -> None:
    """Skip (or, with CITYGROWTH_REQUIRE_ALL=1, fail) when a component is missing."""
    if available:
        return
    message = f"{component} is not available{': ' + why if why else ''}"
    if REQUIRE_ALL:
        pytest.fail(f"CITYGROWTH_REQUIRE_ALL=1 but {message}")
    pytest.skip(message)


# --- databases ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per test worker; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    eng = create_engine(f"sqlite:///{path}")
    with eng.connect() as c:
        c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    eng.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test worker, migrated once."""
    needs("PostgreSQL", bool(POSTGRES_URL), "set CITYGROWTH_TEST_POSTGRES_URL")
    name = f"cg_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    eng = create_engine(url)
    with eng.begin() as c:
        tables = [
            r[0] for r in c.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname='public' "
                "AND tablename <> 'alembic_version'"))
        ]
        if tables:
            c.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                           + " RESTART IDENTITY CASCADE"))
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """The URL of an empty, migrated operational store — on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "citygrowth.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _truncate_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite store only (for tests that are not about storage)."""
    path = tmp_path / "citygrowth.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    factory = make_sessionmaker(engine, TEST_AUDIT)
    with factory() as s:
        yield s
    engine.dispose()


@pytest.fixture
def sqlite_session(sqlite_url: str) -> Iterator[Session]:
    engine = make_engine(sqlite_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        yield s
    engine.dispose()


# --- settings and app -----------------------------------------------------------------------

@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=sqlite_url,
        env="test",
        secret_key=TEST_SECRET,
        scheduler_enabled=False,
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """The runtime of ``settings`` (what an app or a command runs with)."""
    rt = build_runtime(settings)
    yield rt
    rt.dispose()


@pytest.fixture
def app(runtime: Runtime):  # type: ignore[no-untyped-def]
    from citygrowth.app import create_app

    return create_app(runtime=runtime)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


def all_tables() -> list[str]:
    return sorted(Base.metadata.tables)
