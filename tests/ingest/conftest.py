from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from citygrowth.runtime import Runtime, build_runtime
from citygrowth.settings import Settings
from tests.factories import make_areas

DATA = Path(__file__).parent.parent / "data" / "ingest"


def settings_for(session: Session, tmp_path: Path) -> Settings:
    url = session.get_bind().url.render_as_string(hide_password=False)
    return Settings(data_dir=tmp_path / "var", database_url=url, env="test",
                    secret_key="test-secret", scheduler_enabled=False)


@pytest.fixture
def env(session: Session, tmp_path: Path) -> tuple[Session, Runtime]:
    """A migrated store with the test district's areas, and settings on a fresh data folder."""
    make_areas(session)
    session.commit()
    return session, build_runtime(settings_for(session, tmp_path))


@pytest.fixture
def env_sqlite(sqlite_session: Session, tmp_path: Path) -> tuple[Session, Runtime]:
    """Like ``env`` on SQLite only, for checks that are not about the storage backend."""
    make_areas(sqlite_session)
    sqlite_session.commit()
    return sqlite_session, build_runtime(settings_for(sqlite_session, tmp_path))
