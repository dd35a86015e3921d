"""``citygrowth restore``: a backup into an empty data folder and an empty database, verified.

The order: check every file of the backup against its manifest (nothing is touched when one
is damaged); refuse a target that holds data; restore the database (a SQLite file put in place
by an atomic rename, or ``pg_restore`` in one transaction); copy the files, checking each
checksum; point the stored paths of batches, index runs and briefings at the new data folder;
and count the rows of every table against the manifest. When any step fails, what the restore
wrote is removed again, so the target is left as empty as it was found.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from citygrowth.db import alembic_config, make_engine
from citygrowth.errors import CityGrowthError
from citygrowth.ops.backup import (
    CHUNK,
    Manifest,
    Progress,
    alembic_revisions,
    is_sqlite,
    libpq_target,
    no_progress,
    pg_tool,
    sha256_of,
    sqlite_path,
    table_counts,
    verify_backup,
)
from citygrowth.settings import Settings

#: folders of the data folder a restore fills (and which must be empty before it)
DATA_FOLDERS = ("observations/batches", "results", "exports", "uploads", "media",
                "frameworks")
#: columns that store paths inside the data folder: moved to the new folder on restore
PATH_COLUMNS = (("observation_loads", "batch_path"), ("index_runs", "results_path"),
                ("analysis_briefings", "folder"))


class RestoreRefused(CityGrowthError):
    status = 409
    code = "restore_refused"
    message = "Cannot restore: {detail}"


class RestoreFailed(CityGrowthError):
    status = 500
    code = "restore_failed"
    message = "The restore failed and was undone: {detail}"


@dataclass
class RestoreResult:
    manifest: Manifest
    tables: dict[str, int]
    files: int
    needs_upgrade: bool
    relocated: int = 0
    written: list[Path] = field(default_factory=list)


def _data_files(settings: Settings) -> list[Path]:
    found: list[Path] = []
    for rel in DATA_FOLDERS:
        folder = settings.store_dir / rel
        if folder.is_dir():
            found += [p for p in folder.rglob("*") if p.is_file()]
    return found


def check_target_empty(settings: Settings) -> None:
    """Refuse a data folder with data in it, or a database with tables."""
    files = _data_files(settings)
    if files:
        raise RestoreRefused(detail=f"the data folder {settings.store_dir} is not empty "
                                    f"({files[0]})")
    url = settings.resolved_database_url
    if is_sqlite(url):
        path = sqlite_path(url)
        if path.exists() and path.stat().st_size > 0:
            raise RestoreRefused(detail=f"the database {path} exists already")
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise RestoreRefused(detail=f"the database has {len(tables)} tables already "
                                    f"({tables[0]}); restore into an empty database")


def _restore_sqlite(folder: Path, manifest: Manifest, url: str) -> list[Path]:
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".restoring")
    shutil.copyfile(folder / manifest.database_file, tmp)
    if sha256_of(tmp) != manifest.database_sha256:
        tmp.unlink()
        raise RestoreFailed(detail="the database copy does not match the manifest")
    for suffix in ("-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)
    return [target]


def _restore_postgres(folder: Path, manifest: Manifest, url: str) -> None:
    conninfo, env = libpq_target(url)
    r = subprocess.run(
        [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", f"--dbname={conninfo}", str(folder / manifest.database_file)],
        env=env, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RestoreFailed(detail=f"pg_restore: {r.stderr.strip()[:500]}")


def _drop_restored_tables(url: str, tables: list[str]) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            quote = conn.dialect.identifier_preparer.quote
            present = set(inspect(conn).get_table_names())
            for name in tables:
                if name in present:
                    conn.execute(text(f"DROP TABLE IF EXISTS {quote(name)} CASCADE"))
    finally:
        engine.dispose()


def _copy_files(folder: Path, manifest: Manifest, data_dir: Path, progress: Progress,
                written: list[Path]) -> None:
    total = sum(f.size for f in manifest.files)
    done = 0
    progress("files", 0, total)
    for f in manifest.files:
        src = folder / "files" / f.path
        dst = data_dir / f.path
        dst.parent.mkdir(parents=True, exist_ok=True)
        written.append(dst)
        with src.open("rb") as fin, dst.open("wb") as fout:
            while chunk := fin.read(CHUNK):
                fout.write(chunk)
                done += len(chunk)
                progress("files", done, total)
        shutil.copystat(src, dst)
        if sha256_of(dst) != f.sha256:
            raise RestoreFailed(detail=f"{dst} does not match its checksum after copying")


def relocate_paths(url: str, old: list[str], new: str) -> int:
    """Point stored data-folder paths starting with one of ``old`` at ``new``."""
    engine = make_engine(url)
    changed = 0
    try:
        with engine.begin() as conn:
            present = set(inspect(conn).get_table_names())
            for table, column in PATH_COLUMNS:
                if table not in present:
                    continue
                for prefix in sorted({o.rstrip("/") for o in old if o}, key=len, reverse=True):
                    if prefix == new:
                        continue
                    res = conn.execute(text(
                        f"UPDATE {table} SET {column} = :new || substr({column}, :n) "  # noqa: S608
                        f"WHERE substr({column}, 1, :len) = :old_slash"),
                        {"new": new, "n": len(prefix) + 1, "len": len(prefix) + 1,
                         "old_slash": prefix + "/"})
                    changed += res.rowcount or 0
    finally:
        engine.dispose()
    return changed


def needs_upgrade(url: str, revisions: list[str]) -> bool:
    """Whether a database at ``revisions`` lacks a revision this version of citygrowth has
    (``alembic_version`` lists only heads no other applied revision depends on)."""
    script = ScriptDirectory.from_config(alembic_config(url))
    heads = set(script.get_heads())
    if not revisions:
        return bool(heads)
    applied = {r.revision for r in script.revision_map.iterate_revisions(
        tuple(revisions), "base") if r is not None}
    return not heads <= applied


def restore(settings: Settings, folder: Path, progress: Progress = no_progress) -> RestoreResult:
    """Restore the backup in ``folder`` into the (empty) store of ``settings``; verified."""
    manifest = verify_backup(folder, progress)
    url = settings.resolved_database_url
    kind = "sqlite" if is_sqlite(url) else "postgresql"
    if kind != manifest.database_kind:
        raise RestoreRefused(detail=f"the backup holds a {manifest.database_kind} database "
                                    f"and the target is {kind}")
    check_target_empty(settings)
    settings.ensure_dirs()
    data_dir = settings.store_dir.resolve()
    written: list[Path] = []
    try:
        progress("database", 0, 1)
        if kind == "sqlite":
            written += _restore_sqlite(folder, manifest, url)
        else:
            _restore_postgres(folder, manifest, url)
        progress("database", 1, 1)
        _copy_files(folder, manifest, data_dir, progress, written)
        relocated = relocate_paths(url, [manifest.source_data_dir], str(data_dir))
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                counts = table_counts(conn)
                revisions = alembic_revisions(conn)
        finally:
            engine.dispose()
        if counts != manifest.tables:
            diff = sorted(t for t in set(counts) | set(manifest.tables)
                          if counts.get(t) != manifest.tables.get(t))
            raise RestoreFailed(detail=f"row counts differ from the manifest in {diff[:5]}")
        if revisions != manifest.alembic:
            raise RestoreFailed(detail="the restored schema revisions differ from the manifest")
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        if kind == "postgresql":
            _drop_restored_tables(url, sorted(manifest.tables))
        raise
    return RestoreResult(manifest, counts, len(manifest.files),
                         needs_upgrade(url, revisions), relocated, written)
