"""Serve the app for a test in a child process: ``with serve_app(settings) as url: ...``.

A live server for browser and client-library tests runs as its own Python process, not as a
thread of the test process. Python's ``warnings.catch_warnings`` swaps one process-wide filter
list: FastAPI wraps its lazy route building in one (to silence a pydantic warning it expects)
while pytest wraps every test in another, and a server thread interleaving with the test
thread lost FastAPI's filter — the expected warning became an error and a request failed. A
child process has its own filters, its own GIL, and is what production runs.

The parent binds the loopback socket and hands its descriptor to the child, so the port is
never free for another process to take between choosing it and serving on it. The child is
``python -m tests.serve FD LIFESPAN LOG_LEVEL`` with the settings as JSON in an environment
variable; every other ``CITYGROWTH_*`` variable of the test process reaches it too.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from citygrowth.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_VAR = "CITYGROWTH_TEST_SERVE_SETTINGS"
#: the child process serving each base URL (tests that watch its memory read it here)
SERVERS: dict[str, subprocess.Popen[bytes]] = {}


@contextmanager
def serve_app(settings: Settings, *, lifespan: str = "on", log_level: str = "warning",
              start_timeout: float = 60.0) -> Iterator[str]:
    """Serve ``create_app(settings)`` in a child process; yield its base URL; stop it after."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, SETTINGS_VAR: settings.model_dump_json()}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.serve", str(sock.fileno()), lifespan, log_level],
            cwd=ROOT, env=env, pass_fds=[sock.fileno()], stdout=log, stderr=subprocess.STDOUT)
        sock.close()  # the child holds the listening socket now
        try:
            _wait_ready(proc, url, log, start_timeout)
            SERVERS[url] = proc
            yield url
        finally:
            SERVERS.pop(url, None)
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.seek(0)
            # what the server printed (errors and warnings) shows in the test's report
            sys.stderr.write(log.read().decode("utf-8", "replace"))


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: IO[bytes],
                timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            log.seek(0)
            out = log.read().decode("utf-8", "replace")
            raise RuntimeError(f"the test server exited with {proc.returncode}:\n{out}")
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the test server at {url} did not answer in {timeout:.0f} s")
        time.sleep(0.1)


def _main(argv: list[str]) -> None:
    import uvicorn

    from citygrowth.app import create_app

    fd, lifespan, log_level = int(argv[0]), argv[1], argv[2]
    settings = Settings(**json.loads(os.environ[SETTINGS_VAR]))
    sock = socket.socket(fileno=fd)
    # a browser's open event stream would hold a graceful shutdown until the parent kills us
    config = uvicorn.Config(create_app(settings), lifespan=lifespan,  # type: ignore[arg-type]
                            log_level=log_level, timeout_graceful_shutdown=2)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    _main(sys.argv[1:])
