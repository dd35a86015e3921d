"""``citygrowth backup``: a consistent snapshot of an installation, taken while it runs.

What a snapshot holds (``<dest>/citygrowth-<UTC time>/``):

* ``database/`` — the operational store: a SQLite copy made with SQLite's online backup API, or
  a PostgreSQL ``pg_dump`` custom-format archive;
* ``files/`` — the data folder's files the database refers to: the Parquet batch of every
  accepted load (``observations/batches``), the results folder of every finished index run
  (``results/<framework>/<version>/<vintage>``), the files of every archived briefing
  (``exports/briefings/...``), every case photo and its thumbnail the database records
  (``media/cases/``), and every other upload and published framework version (``uploads/``,
  ``frameworks/``);
* ``manifest.json`` — row counts of every table, the Alembic revisions, and the size and
  SHA-256 of every file (the database archive included).

**How it stays consistent while loads, cases and index runs go on.** The database is
snapshotted *first*; the list of files to copy is then read *from that snapshot*, never from
the live store:

* SQLite: the online backup API copies the database as of one read transaction (in WAL mode
  writers are not blocked), and the file list is read from the copy.
* PostgreSQL: a ``REPEATABLE READ`` transaction exports its snapshot
  (``pg_export_snapshot()``); ``pg_dump --snapshot`` dumps exactly that state, and the file
  list and row counts are read in the same transaction.

Every file the snapshot refers to already exists when the snapshot is taken, because each
writer writes its file before committing its row: a load writes its Parquet batch (under
``pending/``, renamed into ``batches/`` right after the commit — the backup looks in both), an
index run writes its results and its ``run.json`` marker before committing ``status=done``,
uploads and case photos are written before the row naming them. Batches, uploads (named by
their SHA-256), photos (named by their random id) and published framework versions are never
changed once written, so copying them after the
database snapshot copies what the snapshot refers to. Files written after the snapshot (a
load committed a second later) are left out, so the restored store never shows observations
or results the restored database does not know. A file that changes while it is copied (an
index run recomputed for the same vintage rewrites its folder) is copied again until it holds
still. The snapshot is written under ``.partial`` and renamed when complete, so an
interrupted backup never looks like one.

Not copied: caches that are rebuilt on demand (``results/forecasts``), other exports, and
pending batches of loads that did not commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL, make_url

from citygrowth import __version__
from citygrowth.db import make_engine
from citygrowth.errors import CityGrowthError
from citygrowth.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
PREFIX = "citygrowth-"
#: a file that keeps changing while it is copied is given up on after this many tries
COPY_ATTEMPTS = 8
CHUNK = 1024 * 1024
#: where case photos are kept in the data folder (``governance.media.media_folder``)
PHOTO_FOLDER = "media/cases"

#: progress(stage, done, total): stage is "database", "files" or "verify"; done/total in
#: bytes for files, steps otherwise
Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    return None


class BackupFailed(CityGrowthError):
    status = 500
    code = "backup_failed"
    message = "The backup failed: {detail}"


class PgToolMissing(CityGrowthError):
    status = 500
    code = "pg_tool_missing"
    message = ("{tool} was not found. It comes with the PostgreSQL client package "
               "(Debian: apt-get install postgresql-client) and must be at least as new as the "
               "server.")


@dataclass
class FileEntry:
    path: str  # relative to the data folder, "/"-separated
    kind: str  # observations | results | briefings | uploads | frameworks
    size: int = 0
    sha256: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "size": self.size, "sha256": self.sha256}


@dataclass
class Manifest:
    created_at: str
    database_kind: str
    database_file: str
    database_size: int
    database_sha256: str
    alembic: list[str]
    tables: dict[str, int]
    source_data_dir: str
    files: list[FileEntry] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    citygrowth: str = __version__

    @property
    def summary(self) -> dict[str, int]:
        out = {k: 0 for k in ("observations", "results", "briefings", "uploads", "frameworks")}
        for f in self.files:
            out[f.kind] = out.get(f.kind, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "citygrowth": self.citygrowth, "created_at": self.created_at,
            "database": {"kind": self.database_kind, "file": self.database_file,
                         "size": self.database_size, "sha256": self.database_sha256,
                         "alembic": self.alembic, "tables": self.tables},
            "source": {"data_dir": self.source_data_dir},
            "summary": self.summary,
            "files": [f.as_dict() for f in self.files],
            "missing": self.missing,
        }

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            db = data["database"]
            if data.get("format") != FORMAT:
                raise BackupFailed(detail=f"{path}: unknown format {data.get('format')!r}")
            return cls(
                created_at=data["created_at"], database_kind=db["kind"],
                database_file=db["file"], database_size=int(db["size"]),
                database_sha256=db["sha256"], alembic=list(db["alembic"]),
                tables={str(k): int(v) for k, v in db["tables"].items()},
                source_data_dir=data["source"]["data_dir"],
                files=[FileEntry(f["path"], f["kind"], int(f["size"]), f["sha256"])
                       for f in data["files"]],
                missing=list(data.get("missing", [])), citygrowth=data.get("citygrowth", ""))
        except FileNotFoundError:
            raise BackupFailed(detail=f"{path} does not exist: not a citygrowth backup") \
                from None
        except (KeyError, TypeError, ValueError) as exc:
            raise BackupFailed(detail=f"{path} is damaged ({exc})") from None


# --- what the database refers to -------------------------------------------------------------

def _after(parts: tuple[str, ...], anchor: str, n: int) -> tuple[str, ...] | None:
    """The ``n`` path parts after the last ``anchor`` part, if exactly ``n`` follow it."""
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == anchor:
            rest = parts[i + 1:]
            return rest if len(rest) == n else None
    return None


def referenced_files(conn: Connection) -> dict[str, list[str]]:
    """Data-folder paths (relative, "/"-separated) the database refers to, by kind: accepted
    loads' batches, finished index runs' result folders, archived briefings' folders, case
    photos with their thumbnails (``governance.media``)."""
    tables = set(inspect(conn).get_table_names())
    out: dict[str, list[str]] = {"observations": [], "results": [], "briefings": [],
                                 "photos": []}
    if "observation_loads" in tables:
        for (load_id,) in conn.execute(text(
                "SELECT load_id FROM observation_loads WHERE status = 'accepted' "
                "ORDER BY load_id")):
            out["observations"].append(f"observations/batches/{load_id}.parquet")
    if "index_runs" in tables:
        for (path,) in conn.execute(text(
                "SELECT results_path FROM index_runs WHERE status = 'done' ORDER BY id")):
            rest = _after(PurePath(path).parts, "results", 3)
            if rest is not None:
                out["results"].append("/".join(("results", *rest)))
    if "analysis_briefings" in tables:
        for (folder,) in conn.execute(text(
                "SELECT folder FROM analysis_briefings ORDER BY id")):
            rest = _after(PurePath(folder).parts, "exports", 4)
            if rest is not None:
                out["briefings"].append("/".join(("exports", *rest)))
    if "case_media" in tables:
        for (media_id,) in conn.execute(text("SELECT id FROM case_media ORDER BY id")):
            out["photos"] += [f"{PHOTO_FOLDER}/{media_id}.jpg",
                              f"{PHOTO_FOLDER}/{media_id}.thumb.jpg"]
    out["results"] = sorted(set(out["results"]))
    return out


def table_counts(conn: Connection) -> dict[str, int]:
    names = sorted(inspect(conn).get_table_names())
    quote = conn.dialect.identifier_preparer.quote
    return {n: int(conn.execute(text(f"SELECT count(*) FROM {quote(n)}")).scalar_one())
            for n in names}


def alembic_revisions(conn: Connection) -> list[str]:
    if "alembic_version" not in inspect(conn).get_table_names():
        return []
    return sorted(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))


# --- copying files that hold still -----------------------------------------------------------

def _stamp(st: os.stat_result) -> tuple[int, int]:
    return st.st_size, st.st_mtime_ns


def copy_stable(src: Path, dst: Path, on_bytes: Callable[[int], None] | None = None,
                attempts: int = COPY_ATTEMPTS) -> tuple[int, str]:
    """Copy ``src`` to ``dst`` and return (size, sha256) of what was copied; copy again while
    the source changes under the copy (size or modification time)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(attempts):
        before = src.stat()
        digest = hashlib.sha256()
        size = 0
        with src.open("rb") as fin, dst.open("wb") as fout:
            while chunk := fin.read(CHUNK):
                fout.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                if on_bytes is not None and attempt == 0:
                    on_bytes(len(chunk))
        after = src.stat()
        if _stamp(before) == _stamp(after) and size == after.st_size:
            shutil.copystat(src, dst)
            return size, digest.hexdigest()
        time.sleep(0.1 * (attempt + 1))
    raise BackupFailed(detail=f"{src} kept changing while it was copied")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _walk(root: Path) -> Iterator[Path]:
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                yield p


@dataclass
class _Plan:
    """Files to copy: (relative path in the data folder, kind, source path)."""

    items: list[tuple[str, str, Path]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def add_tree(self, data_dir: Path, rel: str, kind: str) -> None:
        files = list(_walk(data_dir / rel))
        if not files and rel.startswith(("results/", "exports/")):
            self.missing.append(rel)
        for p in files:
            self.items.append((p.relative_to(data_dir).as_posix(), kind, p))


def plan_files(settings: Settings, refs: dict[str, list[str]]) -> _Plan:
    data_dir = settings.store_dir  # the files every host shares (or data_dir)
    plan = _Plan()
    for rel in refs["observations"]:
        name = PurePath(rel).name
        # a load committed an instant ago may still have its batch under pending/ (renamed
        # into batches/ right after the commit: look there again after pending/)
        for candidate in (data_dir / rel, data_dir / "observations" / "pending" / name,
                          data_dir / rel):
            if candidate.is_file():
                plan.items.append((rel, "observations", candidate))
                break
        else:
            plan.missing.append(rel)
    for rel in refs["results"]:
        plan.add_tree(data_dir, rel, "results")
    for rel in refs["briefings"]:
        plan.add_tree(data_dir, rel, "briefings")
    for rel in refs.get("photos", []):
        if (data_dir / rel).is_file():
            plan.items.append((rel, "uploads", data_dir / rel))
        else:
            plan.missing.append(rel)
    plan.add_tree(data_dir, "uploads", "uploads")
    plan.add_tree(data_dir, "frameworks", "frameworks")
    return plan


# --- the database snapshot -------------------------------------------------------------------

@dataclass
class DbSnapshot:
    kind: str
    file: str  # relative to the backup folder
    alembic: list[str]
    tables: dict[str, int]
    refs: dict[str, list[str]]


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupFailed(detail="an in-memory SQLite database cannot be backed up")
    return Path(database)


def snapshot_sqlite(url: str, dest: Path, progress: Progress) -> DbSnapshot:
    """SQLite's online backup API: one consistent copy while writers go on (WAL mode)."""
    src_path = sqlite_path(url)
    if not src_path.is_file():
        raise BackupFailed(detail=f"the database {src_path} does not exist")
    target = dest / "database" / "citygrowth.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    progress("database", 0, 1)
    src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=60)
    dst = sqlite3.connect(target)
    try:
        # pages=-1: the whole database in one step, i.e. as of one read transaction (a
        # stepwise copy would restart whenever another connection writes)
        src.backup(dst, pages=-1)
    finally:
        dst.close()
        src.close()
    engine = make_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            conn.execute(text("PRAGMA journal_mode=DELETE"))
            snap = DbSnapshot("sqlite", "database/citygrowth.db", alembic_revisions(conn),
                              table_counts(conn), referenced_files(conn))
    finally:
        engine.dispose()
    progress("database", 1, 1)
    return snap


def pg_tool(name: str) -> str:
    """Path of ``pg_dump``/``pg_restore``: on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parent.parent.name)
                        if p.parent.parent.name.isdigit() else 0)
    if candidates:
        return str(candidates[-1])
    raise PgToolMissing(tool=name)


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for the SQLAlchemy ``url`` without its password, and the
    environment carrying the password (so it never shows in a process list)."""
    u: URL = make_url(url)
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    plain = u.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def snapshot_postgres(url: str, dest: Path, progress: Progress) -> DbSnapshot:
    """``pg_dump`` of an exported snapshot; counts and file list read in the same snapshot."""
    dump = pg_tool("pg_dump")
    target = dest / "database" / "citygrowth.dump"
    target.parent.mkdir(parents=True, exist_ok=True)
    conninfo, env = libpq_target(url)
    engine = make_engine(url, isolation_level="REPEATABLE READ")
    progress("database", 0, 2)
    try:
        with engine.connect() as conn:
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            tables = table_counts(conn)
            refs = referenced_files(conn)
            alembic = alembic_revisions(conn)
            progress("database", 1, 2)
            # the exporting transaction must stay open while pg_dump imports its snapshot
            r = subprocess.run(
                [dump, "--format=custom", "--no-owner", "--no-privileges",
                 f"--snapshot={snapshot_id}", f"--file={target}", f"--dbname={conninfo}"],
                env=env, capture_output=True, text=True, check=False)
            conn.rollback()
    finally:
        engine.dispose()
    if r.returncode != 0:
        raise BackupFailed(detail=f"pg_dump: {r.stderr.strip()[:500]}")
    progress("database", 2, 2)
    return DbSnapshot("postgresql", "database/citygrowth.dump", alembic, tables, refs)


# --- the backup ------------------------------------------------------------------------------

@dataclass
class BackupResult:
    folder: Path
    manifest: Manifest
    removed: list[Path]


def backup(settings: Settings, dest_root: Path, progress: Progress = no_progress,
           keep: int | None = None, now: dt.datetime | None = None) -> BackupResult:
    """Take a snapshot into ``dest_root/citygrowth-<UTC time>/`` (see the module's doc)."""
    now = now or dt.datetime.now(dt.UTC)
    name = PREFIX + now.strftime("%Y%m%dT%H%M%S%fZ")
    dest_root.mkdir(parents=True, exist_ok=True)
    partial = dest_root / f".{name}.partial"
    final = dest_root / name
    if final.exists() or partial.exists():
        raise BackupFailed(detail=f"{final} exists already")
    partial.mkdir()
    try:
        url = settings.resolved_database_url
        snap = (snapshot_sqlite(url, partial, progress) if is_sqlite(url)
                else snapshot_postgres(url, partial, progress))
        plan = plan_files(settings, snap.refs)
        total = sum(src.stat().st_size for _, _, src in plan.items if src.exists())
        done = [0]

        def on_bytes(n: int) -> None:
            done[0] += n
            progress("files", min(done[0], total), total)

        progress("files", 0, total)
        entries: list[FileEntry] = []
        for rel, kind, src in plan.items:
            try:
                size, digest = copy_stable(src, partial / "files" / rel, on_bytes)
            except FileNotFoundError:  # removed since it was listed (a pending batch renamed)
                alt = settings.store_dir / rel
                if kind == "observations" and alt.is_file():
                    size, digest = copy_stable(alt, partial / "files" / rel, on_bytes)
                else:
                    plan.missing.append(rel)
                    continue
            entries.append(FileEntry(rel, kind, size, digest))
        db_file = partial / snap.file
        manifest = Manifest(
            created_at=now.isoformat().replace("+00:00", "Z"), database_kind=snap.kind,
            database_file=snap.file, database_size=db_file.stat().st_size,
            database_sha256=sha256_of(db_file), alembic=snap.alembic, tables=snap.tables,
            source_data_dir=str(settings.store_dir.resolve()), files=entries,
            missing=sorted(set(plan.missing)))
        (partial / MANIFEST).write_text(json.dumps(manifest.as_dict(), ensure_ascii=False,
                                                   indent=1), encoding="utf-8")
        _fsync_tree(partial)
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    removed = prune(dest_root, keep) if keep else []
    return BackupResult(final, manifest, removed)


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def list_backups(dest_root: Path) -> list[Path]:
    """Complete backups in ``dest_root``, oldest first."""
    if not dest_root.is_dir():
        return []
    return sorted(p for p in dest_root.iterdir()
                  if p.is_dir() and p.name.startswith(PREFIX) and (p / MANIFEST).is_file())


def prune(dest_root: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` complete backups; returns those removed."""
    old = list_backups(dest_root)[:-keep] if keep > 0 else []
    for p in old:
        shutil.rmtree(p)
    return old


def verify_backup(folder: Path, progress: Progress = no_progress) -> Manifest:
    """Check every file of a backup against its manifest; raises naming the first bad one."""
    manifest = Manifest.read(folder)
    checks: list[tuple[Path, int, str]] = [
        (folder / manifest.database_file, manifest.database_size, manifest.database_sha256)]
    checks += [(folder / "files" / f.path, f.size, f.sha256) for f in manifest.files]
    total = sum(size for _, size, _ in checks)
    done = 0
    progress("verify", 0, total)
    for path, size, digest in checks:
        if not path.is_file():
            raise BackupFailed(detail=f"{path} is missing from the backup")
        if path.stat().st_size != size or sha256_of(path) != digest:
            raise BackupFailed(detail=f"{path} does not match its checksum in the manifest")
        done += size
        progress("verify", done, total)
    return manifest
