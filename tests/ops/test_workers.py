"""``citygrowth serve --workers 2`` as a district deploys it: one data load gives exactly one
index run (one scheduler leads, whichever worker took the load), both workers' event streams
see the load and the run (the outbox relays events between processes), and SIGTERM with two
event streams open stops the server within 5 seconds."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from citygrowth.auth.identity import new_api_key
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.index.models import IndexRun
from citygrowth.ops.models import SchedulerRun
from tests.factories import DISTRICT, TEST_AUDIT, make_areas, make_user
from tests.screens.conftest import INDICATORS, YEARS

SERIES: dict[str, dict[str, list[float]]] = INDICATORS  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[2]
FINANCE = ("ECO_FIN_INSTITUTIONS", "IND_LISTED_COMPANIES")
JOBS_OFF = ("accountability.publish-measures", "accountability.reminders", "cases.escalate",
            "cases.evaluate", "analysis.monthly-briefings", "analysis.warm-forecasts",
            "ops.prune")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stream:
    """An open /api/events stream read in a thread."""

    url: str
    key: str
    topics: list[str] = field(default_factory=list)
    connected: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers={"X-API-Key": self.key},
                              timeout=httpx.Timeout(5, read=120)) as r:
                for line in r.iter_lines():
                    if line.startswith(": connected"):
                        self.connected.set()
                    if line.startswith("event: "):
                        self.topics.append(line[len("event: "):])
        except httpx.HTTPError:
            pass  # the server went away: that is the end of the test


@dataclass
class Served:
    url: str
    key: str
    proc: subprocess.Popen[bytes]
    database_url: str


@pytest.fixture
def two_workers(tmp_path: Path, sqlite_template: Path) -> Iterator[Served]:
    shutil.copy(sqlite_template, tmp_path / "cg.db")
    database_url = f"sqlite:///{tmp_path / 'cg.db'}"
    engine = make_engine(database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        make_areas(s)
        user, _ = make_user(s, "leader", ("district_admin", DISTRICT))
        key = new_api_key(s, user, "test")
        s.commit()
    engine.dispose()
    port = free_port()
    schedules = {"index.recompute": "every 1s", **{j: "off" for j in JOBS_OFF}}
    env = {**os.environ, "CITYGROWTH_DATA_DIR": str(tmp_path / "var"),
           "CITYGROWTH_DATABASE_URL": database_url, "CITYGROWTH_ENV": "test",
           "CITYGROWTH_SECRET_KEY": "workers-test", "CITYGROWTH_SCHEDULER_ENABLED": "true",
           "CITYGROWTH_SCHEDULER_SCHEDULES": json.dumps(schedules),
           "CITYGROWTH_LOG_LEVEL": "WARNING"}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "citygrowth.cli", "serve", "--workers", "2", "--port",
         str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        yield Served(url, key, proc, database_url)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        sys.stderr.write((tmp_path / "serve.log").read_text(errors="replace")[-4000:])


def _count(database_url: str, model: type) -> int:
    engine = make_engine(database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        n = int(s.scalar(select(func.count()).select_from(model)) or 0)
    engine.dispose()
    return n


def test_one_load_one_index_run_events_everywhere_and_a_quick_stop(
        two_workers: Served) -> None:
    served = two_workers
    # two open event streams; with two workers each may be held by either
    streams = [Stream(f"{served.url}/api/events", served.key) for _ in range(2)]
    threads = [threading.Thread(target=s.run, daemon=True) for s in streams]
    for th in threads:
        th.start()
    for s in streams:
        assert s.connected.wait(30)
    # the finance bureau's data (two of the screens' test indicators are in its dataset)
    rows = [{"indicator": code, "area_code": street, "period": year, "value": v}
            for code, by_street in SERIES.items() if code in FINANCE
            for street, values in by_street.items()
            for year, v in zip(YEARS, values, strict=True)]
    r = httpx.post(f"{served.url}/api/ingest/finance", json=rows,
                   headers={"X-API-Key": served.key}, timeout=60)
    assert r.status_code == 200, r.text

    deadline = time.monotonic() + 90
    while not all("index.computed" in s.topics for s in streams):
        assert time.monotonic() < deadline, [s.topics for s in streams]
        time.sleep(0.2)
    assert all("observations.loaded" in s.topics for s in streams)
    time.sleep(4)  # four more ticks of index.recompute in the leading worker
    assert _count(served.database_url, IndexRun) == 1
    engine = make_engine(served.database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        hosts = set(s.scalars(select(SchedulerRun.host).where(
            SchedulerRun.job == "index.recompute")))
    engine.dispose()
    assert len(hosts) == 1, hosts  # one worker leads

    started = time.monotonic()
    served.proc.send_signal(signal.SIGTERM)
    served.proc.wait(timeout=30)
    took = time.monotonic() - started
    assert took <= 5.0, f"SIGTERM took {took:.1f} s with two event streams open"
    for th in threads:
        th.join(5)
