"""Backup and restore round trips on SQLite and PostgreSQL while a writer keeps adding cases
(some with photos) and loading observations: the restore holds exactly what the snapshot's
manifest counted, the restored Parquet store agrees with the restored loads, every restored
photo row has its files (and no file lacks its row), and a server starts on it and serves them."""

from __future__ import annotations

import io
import json
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from citygrowth.auth.actor import system_actor
from citygrowth.auth.identity import new_api_key
from citygrowth.catalog.framework import DEFAULT_FILE
from citygrowth.cli import main
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.governance import media
from citygrowth.governance.intake import ReportInput, submit_report
from citygrowth.governance.models import Case, CaseMedia
from citygrowth.governance.taxonomy import ensure_taxonomy
from citygrowth.index.service import compute_index
from citygrowth.ingest.service import load_observations
from citygrowth.observatory.models import ObservationLoad
from citygrowth.observatory.store import ObservationStore
from citygrowth.ops.backup import PHOTO_FOLDER, BackupFailed, Manifest, backup, verify_backup
from citygrowth.ops.restore import RestoreRefused, restore
from citygrowth.runtime import Runtime, build_runtime
from citygrowth.settings import Settings
from tests.conftest import POSTGRES_URL
from tests.factories import (
    DISTRICT,
    STREET_A,
    STREET_B,
    TEST_AUDIT,
    make_areas,
    make_department,
    make_user,
)
from tests.serve import serve_app

INDICATORS = ("ECO_FIN_INSTITUTIONS", "IND_LISTED_COMPANIES", "APP_MUSEUMS",
              "SOC_VOLUNTEER_ORGS", "GOV_ILLEGAL_BUILDING_REMOVED")


def _photo(runtime: Runtime, session: Session, colour: tuple[int, int, int]) -> str:
    """A photo stored as the report form stores one (checked, re-encoded, recorded)."""
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buf, "PNG")
    encoded = media.encode_photo(buf.getvalue(), media.Limits.of(runtime.settings))
    row = media.store_photo(session, runtime.data_dir, encoded,
                            media.owner_of(system_actor("test")), runtime.now())
    return media.ref_of(row.id)


def _frame(year: str, base: float) -> pd.DataFrame:
    rows = [(code, street, year, base + i + (3 if street == STREET_B else 0))
            for i, code in enumerate(INDICATORS) for street in (STREET_A, STREET_B)]
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])


def _settings(data_dir: Path, url: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, env="test", secret_key="backup-test",
                    scheduler_enabled=False, log_level="WARNING")


def seed(settings: Settings) -> str:
    """A district with loads, an index run, a case with a photo, a framework file; returns an
    API key of the district admin."""
    settings.ensure_dirs()
    runtime = build_runtime(settings)
    system = system_actor("test")
    with runtime.session() as s:
        make_areas(s)
        make_department(s, "urban", "城管局", "Urban")
        ensure_taxonomy(s, runtime)
        user, _ = make_user(s, "leader", ("district_admin", DISTRICT))
        key = str(new_api_key(s, user, "test"))
    for year, base in (("2023", 10.0), ("2024", 12.0)):
        with runtime.session() as s:
            load_observations(s, runtime, system, _frame(year, base), source="test")
    with runtime.session() as s:
        photo = _photo(runtime, s, (200, 30, 30))
        submit_report(s, system, ReportInput(category_code="E0101", lon=120.305, lat=36.055,
                                             description="seed", photos=[photo]),
                      runtime=runtime)
    with runtime.session() as s:
        compute_index(s, runtime, system, levels=("district", "street"))
    runtime.dispose()
    fw = settings.data_dir / "frameworks"
    fw.mkdir(exist_ok=True)
    shutil.copy(DEFAULT_FILE, fw / "default-0.9.yaml")
    return key


class Writer(threading.Thread):
    """Adds a case every few milliseconds and loads a batch of observations now and then."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.settings = settings
        self.stop = threading.Event()
        self.cases = 0
        self.loads = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        runtime: Runtime = build_runtime(self.settings)
        system = system_actor("writer")
        try:
            i = 0
            while not self.stop.is_set():
                i += 1
                with runtime.session() as s:
                    photos = [_photo(runtime, s, (i % 256, 90, 90))] if i % 5 == 0 else []
                    submit_report(s, system, ReportInput(
                        category_code="E0101", lon=120.305, lat=36.055,
                        description=f"writer {i}", photos=photos), runtime=runtime)
                self.cases += 1
                if i % 10 == 0:
                    with runtime.session() as s:
                        load_observations(s, runtime, system,
                                          _frame(str(2022 - i // 10), 20.0 + i), source="w")
                    self.loads += 1
                time.sleep(0.002)
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            runtime.dispose()


@pytest.fixture
def target_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database to restore into, of the same kind as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'citygrowth.db'}"
        return
    name = f"cg_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_round_trip_while_writing(db_url: str, target_url: str, tmp_path: Path) -> None:
    source = _settings(tmp_path / "source", db_url)
    key = seed(source)
    writer = Writer(source)
    writer.start()
    while writer.cases < 20 and writer.error is None:  # the writer is under way
        time.sleep(0.01)
    stages: set[str] = set()
    waited: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        """Right after the database snapshot (PostgreSQL: between exporting the snapshot and
        pg_dump) and before the files are copied, let the writer add cases and a new batch:
        none of it may reach the backup."""
        stages.add(stage)
        if (stage, done, total) == ("database", 1, 2) or (stage, done) == ("files", 0):
            cases, loads = writer.cases, writer.loads
            deadline = time.monotonic() + 60
            while (writer.cases < cases + 3 or writer.loads < loads + 1) and \
                    writer.error is None and time.monotonic() < deadline:
                time.sleep(0.01)
            waited.append(stage)

    result = backup(source, tmp_path / "backups", progress)
    writer.stop.set()
    writer.join(30)
    assert writer.error is None, writer.error
    assert "files" in waited and {"database", "files"} <= stages
    m = result.manifest
    assert m.summary["observations"] >= 2 and m.summary["results"] >= 3
    # the seed's photo and the writer's photos before the snapshot: each with its thumbnail
    assert m.summary["uploads"] >= 4 and m.summary["uploads"] == 2 * m.tables["case_media"]
    assert m.summary["frameworks"] == 1
    assert not m.missing

    engine = make_engine(db_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        live_cases = s.scalar(select(func.count()).select_from(Case))
    engine.dispose()
    assert live_cases is not None and live_cases > m.tables["cases"]  # the writer went on

    target = _settings(tmp_path / "restored", target_url)
    restored = restore(target, result.folder)
    assert restored.tables == m.tables and not restored.needs_upgrade
    engine = make_engine(target_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == m.tables["cases"]
        loads = list(s.scalars(select(ObservationLoad).where(
            ObservationLoad.status == "accepted")))
        paths = {ld.batch_path for ld in loads}
        photo_ids = set(s.scalars(select(CaseMedia.id)))
    engine.dispose()
    # every restored photo row has its photo and thumbnail, no photo lacks its row
    names = {p.name for p in (target.data_dir / PHOTO_FOLDER).iterdir()}
    assert names == {f"{i}.jpg" for i in photo_ids} | {f"{i}.thumb.jpg" for i in photo_ids}
    assert len(photo_ids) == m.tables["case_media"]
    assert target.data_dir / PHOTO_FOLDER == media.media_folder(target.data_dir)
    # every accepted load has its batch, no batch lacks its load, paths point at the new folder
    batches = sorted((target.data_dir / "observations" / "batches").glob("*.parquet"))
    assert {p.stem for p in batches} == {ld.load_id for ld in loads}
    assert paths == {str(p.resolve()) for p in batches}
    store = ObservationStore(target).query()
    assert len(store) == sum(ld.row_count for ld in loads)

    with serve_app(target) as url:
        assert httpx.get(f"{url}/healthz").status_code == 200
        r = httpx.get(f"{url}/api/cases", headers={"X-API-Key": key}, params={"limit": 1})
        assert r.status_code == 200, r.text
        r = httpx.get(f"{url}/api/index/results", headers={"X-API-Key": key})
        assert r.status_code == 200, r.text
        r = httpx.get(f"{url}{media.ref_of(sorted(photo_ids)[0])}", headers={"X-API-Key": key})
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", r.text


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory,
           sqlite_template: Path) -> tuple[Settings, Path]:
    """A seeded SQLite installation and one backup of it (the tests below only read them)."""
    root = tmp_path_factory.mktemp("seeded")
    shutil.copy(sqlite_template, root / "source.db")
    source = _settings(root / "source", f"sqlite:///{root / 'source.db'}")
    seed(source)
    return source, backup(source, root / "backups").folder


def test_restore_refuses_a_target_with_data(seeded: tuple[Settings, Path],
                                            tmp_path: Path) -> None:
    source, folder = seeded
    with pytest.raises(RestoreRefused):
        restore(source, folder)  # the live installation itself
    other = _settings(tmp_path / "other", f"sqlite:///{tmp_path / 'other.db'}")
    other.ensure_dirs()
    (other.data_dir / "uploads" / "x.bin").write_bytes(b"x")
    with pytest.raises(RestoreRefused):
        restore(other, folder)
    assert not (tmp_path / "other.db").exists()


def test_a_damaged_backup_is_refused_before_anything_is_written(
        seeded: tuple[Settings, Path], tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(seeded[1], folder)
    batch = next((folder / "files" / "observations" / "batches").glob("*.parquet"))
    batch.write_bytes(batch.read_bytes()[:-10])
    with pytest.raises(BackupFailed, match="checksum"):
        verify_backup(folder)
    target = _settings(tmp_path / "t", f"sqlite:///{tmp_path / 't.db'}")
    with pytest.raises(BackupFailed):
        restore(target, folder)
    assert not (tmp_path / "t.db").exists()


def test_cli_backup_keep_and_restore(seeded: tuple[Settings, Path], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    source = seeded[0]
    sqlite_url = source.resolved_database_url
    monkeypatch.setenv("CITYGROWTH_DATA_DIR", str(source.data_dir))
    monkeypatch.setenv("CITYGROWTH_DATABASE_URL", sqlite_url)
    dest = tmp_path / "backups"
    runner = CliRunner()
    for _ in range(3):
        r = runner.invoke(main, ["--lang", "en", "backup", str(dest), "--keep", "2"])
        assert r.exit_code == 0, r.output
    kept = sorted(p.name for p in dest.iterdir())
    assert len(kept) == 2 and "Removed the old backup" in r.output
    manifest = json.loads((dest / kept[-1] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["observations"] == 2
    assert Manifest.read(dest / kept[-1]).tables == manifest["database"]["tables"]

    monkeypatch.setenv("CITYGROWTH_DATA_DIR", str(tmp_path / "restored"))
    monkeypatch.setenv("CITYGROWTH_DATABASE_URL", f"sqlite:///{tmp_path / 'restored.db'}")
    r = runner.invoke(main, ["--lang", "en", "restore", str(dest), "--check-only"])
    assert r.exit_code == 0 and "is complete" in r.output, r.output
    r = runner.invoke(main, ["restore", str(dest)])  # the newest backup, messages in Chinese
    assert r.exit_code == 0, r.output
    assert "已恢复" in r.output
    r = runner.invoke(main, ["--lang", "en", "restore", str(dest)])
    assert r.exit_code == 1 and "Cannot restore" in r.output
