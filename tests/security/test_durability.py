"""Durability as promised, tested as the attack or the accident would go:

* a server killed with SIGKILL while several clients send reports, several times, restarted
  each time: every acknowledged report is stored exactly once (retries included);
* a crash between a load's commit and the move of its batch: the load is visible after the
  restart (and listed by data health until then); a move that fails answers 503, not 200;
* two machine users whose names share 35 leading characters and an idempotency key each get
  their own case;
* crash leftovers (pending files, upload copies) cleaned at start-up;
* a read-only or full store answers 503 with Retry-After in the caller's language, logs one
  line, and ``/healthz`` is not "ok".
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from citygrowth import durable, storage
from citygrowth.app import create_app
from citygrowth.auth.actor import system_actor
from citygrowth.auth.identity import new_api_key
from citygrowth.auth.models import RoleGrant, User
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.governance.models import Case
from citygrowth.ingest.service import load_observations
from citygrowth.logging_setup import setup_logging
from citygrowth.observatory import batches
from citygrowth.observatory.models import ObservationLoad
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, TEST_AUDIT, make_areas
from tests.governance.conftest import POS_A, POS_B, seed_store
from tests.serve import ROOT, SETTINGS_VAR

# --- a server that can be killed -----------------------------------------------------------------


def start(settings: Settings) -> tuple[subprocess.Popen[bytes], str]:
    """``tests.serve``'s child server, handed back so the test may kill it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = {**os.environ, SETTINGS_VAR: settings.model_dump_json()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.serve", str(sock.fileno()), "on", "error"], cwd=ROOT,
        env=env, pass_fds=[sock.fileno()], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server exited with {proc.returncode}"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


def machine_key(settings: Settings, name: str = "crash-client") -> tuple[str, int]:
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        user = User(username=name, display_name=name)
        user.grants.append(RoleGrant(role="machine", area_code=DISTRICT))
        s.add(user)
        s.flush()
        key, uid = new_api_key(s, user, "crash"), user.id
        s.commit()
    engine.dispose()
    return key, uid


class Client(threading.Thread):
    """Sends its reports one by one, each with its own key, retrying an unanswered one (the
    server may be dead) with the same key until it is acknowledged."""

    def __init__(self, name: str, n: int, key: str, base: list[str]) -> None:
        super().__init__(daemon=True)
        self.keys = [f"{name}-{i:04d}-{uuid.uuid4().hex[:8]}" for i in range(n)]
        self.acked: dict[str, int] = {}
        self.api_key = key
        self.base = base  # the current server's URL (changes at each restart)
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=5) as c:
            for i, key in enumerate(self.keys):
                pos = POS_A if i % 2 else POS_B
                while not self.stop.is_set():
                    try:
                        r = c.post(f"{self.base[0]}/api/cases", headers={
                            "X-API-Key": self.api_key, "Idempotency-Key": key}, json={
                            "category_code": "E0101", "lon": pos[0], "lat": pos[1],
                            "description": key})
                    except httpx.HTTPError:
                        time.sleep(0.05)  # dead or restarting: send the same report again
                        continue
                    if r.status_code in (200, 201):
                        ident = r.json()["id"]
                        got = self.acked.setdefault(key, ident)
                        assert got == ident, "a retry got another case"
                        break
                    time.sleep(0.05)  # 503 while starting: again


def test_sigkill_during_reports_loses_and_doubles_nothing(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    seed_store(make_sessionmaker(engine, TEST_AUDIT))
    engine.dispose()
    key, uid = machine_key(settings)
    proc, url = start(settings)
    base = [url]
    clients = [Client(f"c{i}", 40, key, base) for i in range(3)]
    for c in clients:
        c.start()
    kills = 0
    try:
        for _ in range(3):  # kill -9 in the middle of the load, three times, restarting each
            deadline = time.monotonic() + 20
            before = sum(len(c.acked) for c in clients)
            while sum(len(c.acked) for c in clients) < before + 10 and time.monotonic() < deadline:
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            proc, base[0] = start(settings)
        for c in clients:
            c.join(120)
        assert not any(c.is_alive() for c in clients), "the clients did not finish"
    finally:
        for c in clients:
            c.stop.set()
        proc.kill()
        proc.wait()
    assert kills == 3
    acked = {k: v for c in clients for k, v in c.acked.items()}
    assert len(acked) == 120  # every report was acknowledged in the end
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        rows = s.execute(select(Case.idempotency_key, Case.id).where(
            Case.idempotency_key.like(f"u{uid}:%"))).all()
    engine.dispose()
    stored: dict[str, list[int]] = {}
    for scoped, ident in rows:
        stored.setdefault(scoped.split(":", 1)[1], []).append(ident)
    assert {k: v for k, v in stored.items() if len(v) != 1} == {}  # none twice
    assert {k: [v] for k, v in acked.items()} == stored  # each acknowledged one, as answered


# --- idempotency keys are the reporter's own -----------------------------------------------------

def test_two_machine_users_sharing_35_leading_characters_and_a_key_get_their_own_cases(
        client: TestClient, settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    seed_store(make_sessionmaker(engine, TEST_AUDIT))
    engine.dispose()
    stem = "city-platform-integration-client-00"  # 35 characters
    assert len(stem) == 35
    first = machine_key(settings, stem + "-north" + "x" * 34)
    second = machine_key(settings, stem + "-south" + "x" * 34)
    answers = []
    for key, pos in ((first[0], POS_A), (second[0], POS_B)):
        r = client.post("/api/cases", headers={"X-API-Key": key, "Idempotency-Key": "k-0001-same"},
                        json={"category_code": "E0101", "lon": pos[0], "lat": pos[1],
                              "description": f"from {key[:10]}"})
        assert r.status_code == 201, r.text  # created, not "the first one's, again"
        answers.append(r.json())
    assert answers[0]["id"] != answers[1]["id"]
    assert answers[0]["token"] != answers[1]["token"]
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 2
    engine.dispose()
    # and each user's retry finds its own case
    retry = client.post("/api/cases", headers={"X-API-Key": second[0],
                                               "Idempotency-Key": "k-0001-same"},
                        json={"category_code": "E0101", "lon": POS_B[0], "lat": POS_B[1]})
    assert retry.status_code == 200 and retry.json()["id"] == answers[1]["id"]


# --- a crash between the commit and the move ----------------------------------------------------

CRASH_LOAD = """
import os, sys, json
import pandas as pd
from citygrowth import durable, storage
from citygrowth.auth.actor import system_actor
from citygrowth.ingest.service import load_observations
from citygrowth.logging_setup import setup_logging
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings

settings = Settings(**json.loads(os.environ["CRASH_SETTINGS"]))
runtime = build_runtime(settings)
real = durable.replace

def crash(src, dst):
    if "batches" in str(dst):  # the commit is done; the move into batches/ is next
        os._exit(137)          # as a kill -9 would end the process
    real(src, dst)

durable.replace = crash
frame = pd.DataFrame([{"indicator": "GOV_CASES_DUE", "area_code": "370203001001",
                       "period": "2025-06", "value": 42.0}])
with runtime.session() as s:
    load_observations(s, runtime, system_actor("t"), frame, source="t", dataset="urban")
sys.exit(3)  # not reached
"""


def _district(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    seed_store(make_sessionmaker(engine, TEST_AUDIT))
    engine.dispose()


def _value(settings: Settings) -> list[float]:
    df = ObservationStore(settings).query(indicators=["GOV_CASES_DUE"],
                                          area_codes=[STREET_A + "001"])
    return [float(v) for v in df["value"]]


def test_a_crash_between_commit_and_move_leaves_no_load_invisible_after_restart(
        settings: Settings) -> None:
    _district(settings)
    proc = subprocess.run([sys.executable, "-c", CRASH_LOAD], cwd=ROOT, capture_output=True,
                          env={**os.environ, "CRASH_SETTINGS": settings.model_dump_json()})
    assert proc.returncode == 137, proc.stderr.decode()
    runtime = build_runtime(settings)
    with runtime.session() as s:  # committed, but its data is not where queries look
        load = s.scalar(select(ObservationLoad))
        assert load is not None and load.status == "accepted"
        invisible = batches.invisible_loads(s, settings)
    assert [(x["load_id"], x["state"]) for x in invisible] == [(load.load_id, "pending")]
    assert _value(settings) == []
    with TestClient(create_app(runtime=runtime)) as c:  # the restart
        health = c.get("/api/data/health", headers={"X-API-Key": _admin_key(settings)}).json()
    assert health["invisible_loads"] == []
    assert _value(settings) == [42.0]
    assert not list(batches.pending_dir(settings).iterdir())


def _admin_key(settings: Settings) -> str:
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        user = s.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        key = new_api_key(s, user, "health")
        s.commit()
    engine.dispose()
    return key


def test_a_move_that_fails_is_not_answered_200_and_is_repaired(
        client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(settings.resolved_database_url)
    keys = seed_store(make_sessionmaker(engine, TEST_AUDIT))
    engine.dispose()
    real = durable.replace

    def full(src: Path, dst: Path) -> None:
        if dst.parent.name == "batches":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(durable, "replace", full)
    rows = [{"indicator": "GOV_CASES_DUE", "area_code": STREET_A + "001", "period": "2025-06",
             "value": 5}]
    r = client.post("/api/ingest/urban", json=rows, headers={"X-API-Key": keys["urban"],
                                                             "Accept-Language": "en"})
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["code"] == "load_not_visible" and "Do not send it again" in body["error"]
    assert int(r.headers["Retry-After"]) > 0
    health = client.get("/api/data/health", headers={"X-API-Key": keys["admin"]}).json()
    assert [x["state"] for x in health["invisible_loads"]] == ["pending"]
    page = client.get("/data/health", headers={"X-API-Key": keys["admin"],
                                               "Accept-Language": "en"})
    assert "Accepted loads not yet visible" in page.text
    monkeypatch.setattr(durable, "replace", real)  # the disk has room again
    done = batches.repair_job(client.app.state.runtime)  # type: ignore[attr-defined]
    assert done["promoted"] == 1
    health = client.get("/api/data/health", headers={"X-API-Key": keys["admin"]}).json()
    assert health["invisible_loads"] == []
    assert _value(settings) == [5.0]


# --- crash leftovers ------------------------------------------------------------------------

def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_crash_leftovers_are_cleaned_at_start_up(settings: Settings) -> None:
    settings.ensure_dirs()
    scratch = durable.scratch_dir(settings)
    dead = scratch / f"upload-{_dead_pid()}-abc"
    dead.mkdir()
    (dead / "big.xlsx").write_bytes(b"x" * 1000)
    alive = scratch / f"upload-{os.getpid()}-def"
    alive.mkdir()
    pending = batches.pending_dir(settings)
    stale = [pending / "L1-old.parquet", pending / "L2-old.tmp"]
    fresh = pending / "L3-in-flight.tmp"
    for f in (*stale, fresh):
        f.write_bytes(b"partial")
    old = time.time() - batches.STALE_PENDING_SECONDS - 60
    for f in stale:
        os.utime(f, (old, old))
    with TestClient(create_app(settings)):
        pass
    assert not dead.exists() and alive.exists()
    assert not any(f.exists() for f in stale) and fresh.exists()


def test_uploads_are_copied_under_the_data_folder(settings: Settings,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = tempfile.TemporaryDirectory

    def spy(*args: Any, **kw: Any) -> tempfile.TemporaryDirectory[str]:
        made.append(str(kw.get("dir")))
        return real(*args, **kw)

    monkeypatch.setattr(tempfile, "TemporaryDirectory", spy)
    with durable.scratch(settings) as folder:
        assert Path(folder).parent == settings.data_dir / "tmp"
        assert Path(folder).name.startswith(f"upload-{os.getpid()}-")
    assert made == [str(settings.data_dir / "tmp")]


# --- storage failures -----------------------------------------------------------------------

def _store_fails(client: TestClient, kind: str) -> None:
    """The app's store refuses every write from now on: read-only (SQLite's own
    ``query_only``, on every new connection), or full (SQLite's "database or disk is full"
    on every write, as a full disk gives it)."""
    engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
    if kind == "read_only":
        event.listen(engine, "connect",
                     lambda dbapi_conn, _record: dbapi_conn.execute("PRAGMA query_only=ON"))
        engine.dispose()  # the pool's connections are made anew, with it
        return

    def full(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(engine, "before_cursor_execute", full)


@pytest.mark.parametrize("kind", ["read_only", "full"])
def test_a_failing_store_answers_503_in_the_callers_language_logged_once(
        client: TestClient, settings: Settings, kind: str,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "_throttle", storage._Throttle())  # no earlier test's minute
    engine = make_engine(settings.resolved_database_url)
    keys = seed_store(make_sessionmaker(engine, TEST_AUDIT))
    engine.dispose()
    _store_fails(client, kind)
    setup_logging("INFO")  # the log lines to this test's captured stderr
    capsys.readouterr()
    answers = {}
    for lang in ("en", "zh-CN", "en"):
        r = client.post("/api/help/tasks", headers={"X-API-Key": keys["admin"],
                                                   "Accept-Language": lang},
                        json={"title": "sweep the lane", "area_code": STREET_A + "001001"})
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "storage_unavailable"
        assert int(r.headers["Retry-After"]) > 0
        answers[lang] = r.json()["error"]
    assert "nothing was saved" in answers["en"]
    assert answers["zh-CN"] != answers["en"] and "未保存" in answers["zh-CN"]
    logged = capsys.readouterr().err
    assert logged.count("storage_unavailable") == 1, logged  # three failures, one line
    assert "Traceback" not in logged
    health = client.get("/healthz")
    if kind == "read_only":
        assert health.status_code == 503
        assert [p["field"] for p in health.json()["errors"]] == ["store"]


def test_healthz_reports_a_data_folder_that_cannot_be_written(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    ok = client.get("/healthz")
    assert ok.status_code == 200
    assert ok.json()["store"]["writable"] and ok.json()["data_dir"]["writable"]

    def read_only(*args: Any, **kw: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", read_only)
    bad = client.get("/healthz", headers={"Accept-Language": "en"})
    assert bad.status_code == 503 and bad.headers["Retry-After"]
    assert bad.json()["errors"] == [{"field": "data_dir",
                                     "message": "The data folder cannot be written to."}]


def test_synchronous_full_on_sqlite(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    with engine.connect() as c:
        assert c.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_batches_are_synced_to_the_disk(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                        sqlite_session: Session) -> None:
    synced: list[str] = []
    real_file, real_dir = durable.fsync_file, durable.fsync_dir
    monkeypatch.setattr(durable, "fsync_file", lambda p: (synced.append(f"file {p.name}"),
                                                          real_file(p))[1])
    monkeypatch.setattr(durable, "fsync_dir", lambda p: (synced.append(f"dir {p.name}"),
                                                         real_dir(p))[1])
    make_areas(sqlite_session)
    sqlite_session.commit()
    runtime = build_runtime(settings)
    frame = pd.DataFrame([{"indicator": "GOV_CASES_DUE", "area_code": STREET_A + "001",
                           "period": "2025-06", "value": 1.0}])
    with runtime.session() as s:
        res = load_observations(s, runtime, system_actor("t"), frame, source="t")
    name = f"{res.load_id}.parquet"
    # DuckDB's file → pending (bytes, then the folder), then pending → batches (both folders)
    assert synced == [f"file {res.load_id}.tmp", "dir pending", f"file {name}", "dir batches",
                      "dir pending"]
