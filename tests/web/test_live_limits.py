"""Written as the attacks, against a live server in a child process (``tests/serve.py``):

* an anonymous 300 MB POST to a write route (declared length, then chunked) is refused without
  being read — the server's memory stays within 100 MB of idle and ``/healthz`` keeps answering
  within 200 ms meanwhile;
* a 1.1 MB workbook with 300 MB of sheet XML (a zip bomb) is refused with a clear error, and a
  real load runs off the event loop, both while ``/healthz`` answers within 200 ms.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select as sql_select

from citygrowth.auth.identity import new_api_key
from citygrowth.auth.models import User
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.settings import Settings
from tests.browser import serve_demo
from tests.factories import TEST_AUDIT
from tests.ingest.bombs import sheet_bomb
from tests.serve import SERVERS

MB = 2**20
BODY = 300 * 10**6


@dataclass
class Live:
    url: str
    key: str
    tmp: Path

    @property
    def pid(self) -> int:
        return SERVERS[self.url].pid


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    keys: list[str] = []

    def officer_key(settings: Settings) -> None:
        engine = make_engine(settings.resolved_database_url)
        with make_sessionmaker(engine, TEST_AUDIT)() as s:
            stats = s.scalar(sql_select(User).where(User.username == "stats"))
            assert stats is not None
            keys.append(new_api_key(s, stats, "live test"))
            s.commit()
        engine.dispose()

    root = tmp_path_factory.mktemp("live-limits")
    with serve_demo(root, "live-limits", officer_key) as server:
        yield Live(server.url, keys[0], root)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@dataclass
class Watch:
    """``/healthz`` latencies and the server's memory, sampled while an attack runs."""

    latencies: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)


def while_responsive(live: Live, attack: Callable[[], object]) -> tuple[object, Watch]:
    """Run ``attack`` while watching; ``/healthz`` must answer every time within 200 ms. On a
    shared CI machine another process may take the cores for a moment: a second run is
    allowed. A server that blocks its event loop fails both (its slowest answer is the whole
    attack's length)."""
    for attempt in (1, 2):
        result, watch = while_running(live, attack)
        if max(watch.latencies) < 0.2 or attempt == 2:
            return result, watch
    raise AssertionError("unreachable")


def while_running(live: Live, attack: Callable[[], object]) -> tuple[object, Watch]:
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(attack()))
    watch = Watch()
    with httpx.Client(base_url=live.url, timeout=10) as client:
        worker.start()
        while worker.is_alive() or len(watch.latencies) < 3:
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            watch.latencies.append(time.perf_counter() - started)
            watch.rss.append(rss_mb(live.pid))
            time.sleep(0.05)
    worker.join()
    return result[0], watch


def raw_post(url: str, path: str, headers: dict[str, str],
             chunks: Iterator[bytes]) -> tuple[int, int, bytes]:
    """POST over a bare socket, sending ``chunks`` until the server answers; returns
    (status, bytes of body sent, answer)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}\r\n".encode())
    sent = 0
    answer = b""
    try:
        for chunk in chunks:
            # give the server a moment to answer early, as it should for a declared length
            if select.select([sock], [], [], 0.5 if sent == 0 else 0)[0]:
                break  # the server answered: stop sending
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    sock.settimeout(10)
    try:  # the whole answer: the server closes the connection after a 413
        while data := sock.recv(65536):
            answer += data
    except (ConnectionResetError, TimeoutError):
        pass
    finally:
        sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, sent, answer


def megabytes(total: int, chunked: bool = False) -> Iterator[bytes]:
    block = b"[" + b"0," * (MB // 2 - 1) + b"0]"
    for _ in range(total // len(block)):
        yield b"%x\r\n%s\r\n" % (len(block), block) if chunked else block


def test_an_anonymous_300_mb_body_is_refused_unread(live: Live) -> None:
    httpx.get(live.url + "/healthz")
    idle = rss_mb(live.pid)
    declared = {"Content-Type": "application/json", "Content-Length": str(BODY)}
    (status, sent, answer), watch = while_responsive(live, lambda: raw_post(
        live.url, "/api/accountability/targets", declared, megabytes(BODY)))
    assert status == 413 and b'"code":"too_large"' in answer
    assert sent < 64 * MB  # refused on its headers: what got out sat in socket buffers
    chunked = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    (status2, sent2, answer2), watch2 = while_responsive(live, lambda: raw_post(
        live.url, "/api/accountability/targets", chunked, megabytes(BODY, chunked=True)))
    assert status2 == 413 and b"connection: close" in answer2.lower()
    assert sent2 < 64 * MB
    assert max(watch.rss + watch2.rss) - idle < 100, (idle, max(watch.rss + watch2.rss))
    assert max(watch.latencies + watch2.latencies) < 0.2, watch.latencies + watch2.latencies


def test_a_zip_bomb_is_refused_and_a_load_runs_off_the_event_loop(live: Live) -> None:
    bomb = sheet_bomb(live.tmp / "data.xlsx").read_bytes()
    assert len(bomb) < 1.3e6
    h = {"X-API-Key": live.key, "Accept-Language": "en"}

    def upload_bomb() -> httpx.Response:
        return httpx.post(live.url + "/api/ingest/stats", headers=h, timeout=60,
                          files={"file": ("data.xlsx", bomb)})

    answer, watch = while_responsive(live, upload_bomb)
    assert isinstance(answer, httpx.Response) and answer.status_code == 413
    assert answer.json()["error"].startswith("The file data.xlsx unpacks to more than 200 MiB")
    assert max(watch.latencies) < 0.2, watch.latencies
    rows = "".join(f"ECO_GDP,370203{s:03d},{y}-Q{q},{s * 10 + q}.5\n"
                   for y in range(1990, 2024) for q in range(1, 5) for s in range(1, 23))
    csv = ("indicator,area_code,period,value\n" + rows * 40).encode()  # 120k rows, duplicates

    def upload_csv() -> httpx.Response:
        return httpx.post(live.url + "/api/ingest/stats", headers=h, timeout=120,
                          files={"file": ("big.csv", csv)})

    answer, watch = while_responsive(live, upload_csv)
    assert isinstance(answer, httpx.Response) and answer.status_code == 422
    assert answer.json()["code"] == "load_rejected" and len(answer.json()["errors"]) == 201
    assert max(watch.latencies) < 0.2, watch.latencies
