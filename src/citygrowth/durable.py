"""Files that survive a power loss, and a scratch folder that a crash cannot litter.

* :func:`fsync_file`, :func:`fsync_dir` and :func:`replace` — a rename is durable only once
  the folder holding the new name is synced (and the file's bytes before it): what the
  observation batches use between ``pending/`` and ``batches/``.
* :func:`scratch` — a temporary folder under ``<data_dir>/tmp`` (the data folder's own disk,
  not the system's temp folder, often a small RAM disk) named after the process that made it;
  :func:`clean_scratch` removes, at start-up, the folders of processes that are gone.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from citygrowth.settings import Settings

#: a scratch folder of a live process older than this is a leftover all the same
SCRATCH_MAX_AGE_SECONDS = 24 * 3600
_OWNER = re.compile(r"^[a-z]+-(\d+)-")


def fsync_file(path: Path) -> None:
    """Flush ``path``'s bytes to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush ``path``'s entries (names made, renamed or removed in it) to the disk."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # a system without directory handles (Windows): nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems refuse to sync a folder; the rename stands
        if exc.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)


def replace(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` (atomic) and make the new name durable: the file's bytes are
    synced before the rename, the folders after it."""
    fsync_file(src)
    os.replace(src, dst)
    fsync_dir(dst.parent)
    if src.parent != dst.parent:
        fsync_dir(src.parent)


def scratch_dir(settings: Settings) -> Path:
    d = settings.data_dir / "tmp"
    d.mkdir(parents=True, exist_ok=True)
    return d


def scratch(settings: Settings, kind: str = "upload") -> tempfile.TemporaryDirectory[str]:
    """A temporary folder in ``<data_dir>/tmp`` named ``<kind>-<pid>-…`` (removed when the
    ``with`` block ends; :func:`clean_scratch` removes it should the process die first)."""
    return tempfile.TemporaryDirectory(prefix=f"{kind}-{os.getpid()}-",
                                       dir=scratch_dir(settings))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def clean_scratch(settings: Settings, now: float | None = None) -> int:
    """Remove what crashed processes left in ``<data_dir>/tmp``; how many entries went."""
    folder = settings.data_dir / "tmp"
    if not folder.is_dir():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for entry in folder.iterdir():
        owner = _OWNER.match(entry.name)
        try:
            old = now - entry.lstat().st_mtime > SCRATCH_MAX_AGE_SECONDS
        except FileNotFoundError:
            continue
        if owner is not None and _alive(int(owner.group(1))) and not old:
            continue
        if owner is None and not old:
            continue  # not ours, and recent: leave it
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed
