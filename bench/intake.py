"""Intake benchmark: durable case reports through our real endpoint against a bare Starlette +
SQLite insert of the same payload, both served by uvicorn on loopback, in the same run.

    python -m bench.intake [--requests N] [--concurrency C] [--seconds S] [--quick]

For each server (a child process running uvicorn with one worker on 127.0.0.1):

* ``citygrowth``: ``POST /api/cases`` of the full app (API-key actor, validation, position →
  grid cell, idempotency key, case + first event, commit before the answer) on SQLite (WAL);
* ``bare``: a Starlette route that parses the same JSON and INSERTs it into one SQLite (WAL)
  table, committing before it answers.

C concurrent keep-alive connections (default 64) send N reports (default 20 000, at most S
seconds, default 60), each with its own ``Idempotency-Key``. It prints reports/s and the
latency p50/p99 of each, the ratio (goals: ≥ 0.5 of bare, ≥ 5 000/s, p99 ≤ 50 ms) and the rows
counted afterwards, to show that every acknowledged report was stored exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

GOALS = {"ratio": 0.5, "per_second": 5000.0, "p99_ms": 50.0}
LON, LAT = 120.305, 36.055  # inside the benchmark's grid cell


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the two servers ---------------------------------------------------------------------------

def bare_app(db: str) -> Any:
    """The baseline: parse the JSON, insert, commit, answer."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    con = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE IF NOT EXISTS reports (id INTEGER PRIMARY KEY, key TEXT UNIQUE, "
                "category_code TEXT, lat REAL, lon REAL, description TEXT)")

    async def report(request: Request) -> JSONResponse:
        body = await request.json()
        cur = con.execute(
            "INSERT INTO reports (key, category_code, lat, lon, description) "
            "VALUES (?, ?, ?, ?, ?)",
            (request.headers.get("idempotency-key"), body["category_code"], body["lat"],
             body["lon"], body.get("description", "")))
        return JSONResponse({"ok": True, "id": cur.lastrowid}, status_code=201)

    return Starlette(routes=[Route("/api/cases", report, methods=["POST"])])


def prepare_citygrowth(data_dir: Path) -> str:
    """A migrated SQLite store with one grid cell, the taxonomy and a machine API key."""
    import json as _json

    from citygrowth.areas.models import Area
    from citygrowth.auth.identity import new_api_key
    from citygrowth.auth.models import Department, RoleGrant, User
    from citygrowth.db import make_engine, make_sessionmaker, upgrade
    from citygrowth.governance.taxonomy import ensure_taxonomy

    url = f"sqlite:///{data_dir / 'citygrowth.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        for code, level, parent, size in (("370203", "district", None, 0.08),
                                          ("370203001", "street", "370203", 0.04),
                                          ("370203001001", "community", "370203001", 0.02),
                                          ("370203001001001", "grid", "370203001001", 0.01)):
            ring = [[120.30, 36.05], [120.30 + size, 36.05], [120.30 + size, 36.05 + size],
                    [120.30, 36.05 + size], [120.30, 36.05]]
            s.add(Area(code=code, level=level, parent_code=parent, name_zh=code, name_en=code,
                       geometry=_json.dumps({"type": "Polygon", "coordinates": [ring]}),
                       illustrative=True, source="bench"))
            s.flush()
        s.add(Department(code="urban", name_zh="城管局", name_en="Urban"))
        ensure_taxonomy(s)
        user = User(username="bench", display_name="bench")
        user.grants.append(RoleGrant(role="machine", area_code="370203"))
        s.add(user)
        s.flush()
        key = new_api_key(s, user, "bench")
        s.commit()
    engine.dispose()
    return key


def serve(kind: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CITYGROWTH_DATA_DIR": str(data_dir), "CITYGROWTH_ENV": "test",
           "CITYGROWTH_SECRET_KEY": "bench", "CITYGROWTH_SCHEDULER_ENABLED": "false",
           "CITYGROWTH_LOG_LEVEL": "WARNING"}
    code = ("import sys, uvicorn\n"
            "from bench.intake import bare_app\n"
            "from citygrowth.app import create_app\n"
            f"app = bare_app({str(data_dir / 'bare.db')!r}) if {kind!r} == 'bare' else "
            "create_app()\n"
            f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning', "
            "access_log=False)\n")
    root = Path(__file__).resolve().parent.parent
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=root)


def wait_ready(port: int, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


# --- the load: raw keep-alive HTTP/1.1 over asyncio streams (a light client) -------------------

def _request(port: int, key: str, api_key: str, n: int) -> bytes:
    body = json.dumps({"category_code": "E0101", "lat": LAT, "lon": LON,
                       "description": f"bench report {n}", "source": "api"}).encode()
    head = (f"POST /api/cases HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Idempotency-Key: {key}\r\nX-API-Key: {api_key}\r\n\r\n")
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def _worker(port: int, api_key: str, counter: list[int], total: int, deadline: float,
                  lat: list[float], acked: list[str], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while counter[0] < total and time.monotonic() < deadline:
            counter[0] += 1
            key = uuid.uuid4().hex
            t = time.perf_counter()
            writer.write(_request(port, key, api_key, counter[0]))
            status = await _read_response(reader)
            lat.append(time.perf_counter() - t)
            if status in (200, 201):
                acked.append(key)
            else:
                errors.append(status)
    finally:
        writer.close()


async def load(port: int, api_key: str, total: int, concurrency: int,
               seconds: float) -> dict[str, Any]:
    counter, lat, acked, errors = [0], [], [], []  # type: ignore[var-annotated]
    start = time.perf_counter()
    deadline = time.monotonic() + seconds
    await asyncio.gather(*[_worker(port, api_key, counter, total, deadline, lat, acked, errors)
                           for _ in range(concurrency)])
    wall = time.perf_counter() - start
    lat.sort()
    pick = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else \
        (lambda q: float("nan"))
    return {"acked": len(acked), "errors": len(errors), "seconds": wall,
            "per_second": len(acked) / wall if wall else 0.0, "p50_ms": pick(0.50),
            "p99_ms": pick(0.99), "keys": acked}


def count_rows(kind: str, data_dir: Path) -> tuple[int, int]:
    """(rows stored, distinct idempotency keys stored)."""
    if kind == "bare":
        con = sqlite3.connect(data_dir / "bare.db")
        row = con.execute("SELECT count(*), count(DISTINCT key) FROM reports").fetchone()
    else:
        con = sqlite3.connect(data_dir / "citygrowth.db")
        row = con.execute("SELECT count(*), count(DISTINCT idempotency_key) FROM cases").fetchone()
    con.close()
    return int(row[0]), int(row[1])


def run_one(kind: str, data_dir: Path, api_key: str, total: int, concurrency: int,
            seconds: float) -> dict[str, Any]:
    port = _free_port()
    proc = serve(kind, data_dir, port)
    try:
        wait_ready(port)
        result = asyncio.run(load(port, api_key, total, concurrency, seconds))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    rows, distinct = count_rows(kind, data_dir)
    result.update(rows=rows, distinct=distinct, lost=result["acked"] - distinct)
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true", help="2 000 reports, 30 s at most")
    args = ap.parse_args(argv)
    total, seconds = (2000, 30.0) if args.quick else (args.requests, args.seconds)
    with tempfile.TemporaryDirectory(prefix="cg-bench-intake-") as tmp:
        data_dir = Path(tmp)
        api_key = prepare_citygrowth(data_dir)
        bare = run_one("bare", data_dir, api_key, total, args.concurrency, seconds)
        ours = run_one("citygrowth", data_dir, api_key, total, args.concurrency, seconds)
    report(ours, bare, args.concurrency)
    return {"citygrowth": ours, "bare": bare}


def report(ours: dict[str, Any], bare: dict[str, Any], concurrency: int) -> None:
    ratio = ours["per_second"] / bare["per_second"] if bare["per_second"] else 0.0
    print(f"intake, {concurrency} concurrent connections, uvicorn 1 worker, SQLite WAL")
    for name, r in (("bare starlette+sqlite", bare), ("citygrowth /api/cases", ours)):
        print(f"  {name:24s} {r['acked']:7d} acked in {r['seconds']:6.2f} s = "
              f"{r['per_second']:8.0f} reports/s  p50 {r['p50_ms']:6.1f} ms  "
              f"p99 {r['p99_ms']:6.1f} ms  errors {r['errors']}  rows {r['rows']}  "
              f"lost {r['lost']}")
    fast = "met" if ours["per_second"] >= GOALS["per_second"] else "NOT met"
    p99 = "met" if ours["p99_ms"] <= GOALS["p99_ms"] else "NOT met"
    half = "met" if ratio >= GOALS["ratio"] else "NOT met"
    print(f"  ratio citygrowth/bare = {ratio:.2f} (goal >= {GOALS['ratio']}: {half}); "
          f"{GOALS['per_second']:.0f}/s goal: {fast}; p99 <= {GOALS['p99_ms']:.0f} ms: {p99}",
          flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
