"""Intake benchmark: durable case reports through our real endpoint against a bare Starlette +
SQLite insert of the same payload, both served by uvicorn on loopback, in the same run.

    python -m bench.intake [--seconds S] [--concurrency C] [--rounds R] [--quick]

For each server (a child process running uvicorn with one worker on 127.0.0.1):

* ``citygrowth``: ``POST /api/cases`` of the full app as deployed (``CITYGROWTH_ENV=production``;
  API-key actor, validation, position → grid cell, idempotency key, case + first event, commit
  before the answer) on SQLite (WAL), loaded once it has finished starting up;
* ``bare``: a Starlette route that parses the same JSON and INSERTs it into one SQLite (WAL)
  table, committing before it answers.

The load comes from ``wrk`` (C, one thread, so that the client takes as little as possible of
the machine's CPU from the server; Debian package ``wrk``): C concurrent keep-alive connections
(default 64) send reports for S seconds (default 20), each with its own ``Idempotency-Key``; a
Lua script counts the answers by status. Each round runs both servers on fresh stores, one after
the other. It prints reports/s, the latency p50/p99 and the server's CPU time per report (less
sensitive than reports/s to other load on the machine) of each, the ratio (goals: ≥ 0.5 of bare,
≥ 5 000/s, p99 ≤ 50 ms) and the rows counted afterwards: every acknowledged (201) report must be
stored, exactly once (distinct keys stored ≥ reports acknowledged, rows = distinct keys; a
report still in flight when the load stops may be stored without being acknowledged).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
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
    from citygrowth.runtime import build_runtime
    from citygrowth.settings import Settings

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
        ensure_taxonomy(s, build_runtime(Settings(data_dir=data_dir, database_url=url)))
        user = User(username="bench", display_name="bench")
        user.grants.append(RoleGrant(role="machine", area_code="370203"))
        s.add(user)
        s.flush()
        key = new_api_key(s, user, "bench")
        s.commit()
    engine.dispose()
    return key


def serve(kind: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CITYGROWTH_DATA_DIR": str(data_dir), "CITYGROWTH_ENV": "production",
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


# --- the load: wrk with a Lua script that gives every request its own key -------------------

LUA = r"""
-- one report per request, each with its own Idempotency-Key; answers counted by status
created, replayed, refused = 0, 0, 0
threads, next_id = {}, 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
function init(args)
  prefix, api_key, n = args[1] .. "-" .. tid .. "-", args[2], 0
end
function request()
  n = n + 1
  local body = '{"category_code":"E0101","lat":%LAT%,"lon":%LON%,' ..
               '"description":"bench report ' .. n .. '","source":"api"}'
  return wrk.format("POST", "/api/cases", {["Content-Type"] = "application/json",
                    ["Idempotency-Key"] = prefix .. n, ["X-API-Key"] = api_key}, body)
end
function response(status, headers, body)
  if status == 201 then created = created + 1
  elseif status == 200 then replayed = replayed + 1
  else refused = refused + 1 end
end
function done(summary, latency, requests)
  local c, r, f = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); r = r + t:get("replayed"); f = f + t:get("refused")
  end
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d\n", c, r, f, summary.duration,
           latency:percentile(50), latency:percentile(99),
           e.connect + e.read + e.write + e.timeout, summary.requests))
end
""".replace("%LAT%", repr(LAT)).replace("%LON%", repr(LON))


def find_wrk() -> str:
    """The wrk binary, or a clear failure: the benchmark does not fall back to a slower client
    whose own CPU use would blur the comparison."""
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("bench.intake needs the load generator wrk, which is not installed "
                         "(Debian: apt-get install -y wrk).")
    return path


def prime(port: int, api_key: str) -> int:
    """One report before the load (both servers alike): the first request of a process pays
    for imports and caches. Counted with the load's reports."""
    body = json.dumps({"category_code": "E0101", "lat": LAT, "lon": LON,
                       "description": "bench report 0", "source": "api"}).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/cases", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-API-Key": api_key,
                 "Idempotency-Key": f"prime-{uuid.uuid4().hex}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return int(r.status)


def load(wrk: str, script: Path, port: int, api_key: str, concurrency: int,
         seconds: float) -> dict[str, Any]:
    cmd = [wrk, "-t", "1", "-c", str(concurrency), "-d", f"{max(1, round(seconds))}s",
           "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}",
           "--", uuid.uuid4().hex[:12], api_key]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout[-500:]} "
                           f"{out.stderr[-500:]}")
    created, replayed, refused, micros, p50, p99, socket_errors, sent = \
        (int(x) for x in line.split()[1:])
    wall = micros / 1e6
    acked = created + replayed
    return {"acked": acked, "created": created, "replayed": replayed,
            "errors": refused + socket_errors, "refused": refused,
            "socket_errors": socket_errors, "sent": sent, "seconds": wall,
            "per_second": acked / wall if wall else 0.0, "p50_ms": p50 / 1000,
            "p99_ms": p99 / 1000}


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) the server process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, timeout: float = 60.0) -> None:
    """Wait until the server has finished starting up (citygrowth warms its observation store
    and settles its start-up objects in the background): under 20 ms of CPU in 0.5 s."""
    end = time.monotonic() + timeout
    before = cpu_seconds(pid)
    while time.monotonic() < end:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - before < 0.02:
            return
        before = now


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


def run_one(kind: str, data_dir: Path, api_key: str, concurrency: int, seconds: float,
            wrk: str) -> dict[str, Any]:
    script = data_dir / "intake.lua"
    script.write_text(LUA, encoding="utf-8")
    port = _free_port()
    proc = serve(kind, data_dir, port)
    try:
        wait_ready(port)
        primed = prime(port, api_key)
        wait_idle(proc.pid)
        cpu0 = cpu_seconds(proc.pid)
        result = load(wrk, script, port, api_key, concurrency, seconds)
        result["cpu_ms"] = (cpu_seconds(proc.pid) - cpu0) * 1000 / max(1, result["acked"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if primed in (200, 201):
        result["acked"] += 1
    rows, distinct = count_rows(kind, data_dir)
    # acknowledged but not stored (must be 0); stored but never acknowledged (in flight at the
    # end, at most one per connection)
    result.update(rows=rows, distinct=distinct, lost=max(0, result["acked"] - distinct),
                  unacked=distinct - result["acked"], duplicates=rows - distinct)
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="load per server (default 20)")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat bare + citygrowth this many times (fresh stores each)")
    ap.add_argument("--quick", action="store_true", help="5 s per server, one round")
    args = ap.parse_args(argv)
    wrk = find_wrk()
    seconds, rounds = (5.0, 1) if args.quick else (args.seconds, max(1, args.rounds))
    results = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="cg-bench-intake-") as tmp:
            data_dir = Path(tmp)
            api_key = prepare_citygrowth(data_dir)
            bare = run_one("bare", data_dir, api_key, args.concurrency, seconds, wrk)
            ours = run_one("citygrowth", data_dir, api_key, args.concurrency, seconds, wrk)
        report(ours, bare, args.concurrency)
        results.append({"citygrowth": ours, "bare": bare})
    if rounds > 1:
        ratios = sorted(r["citygrowth"]["per_second"] / r["bare"]["per_second"]
                        for r in results if r["bare"]["per_second"])
        print(f"{rounds} rounds: ratio min {ratios[0]:.2f}, median "
              f"{ratios[len(ratios) // 2]:.2f}, max {ratios[-1]:.2f}", flush=True)
    return {**results[-1], "rounds": results}


def report(ours: dict[str, Any], bare: dict[str, Any], concurrency: int) -> None:
    ratio = ours["per_second"] / bare["per_second"] if bare["per_second"] else 0.0
    print(f"intake, {concurrency} concurrent connections (wrk, 1 thread), uvicorn 1 worker, "
          "SQLite WAL")
    for name, r in (("bare starlette+sqlite", bare), ("citygrowth /api/cases", ours)):
        print(f"  {name:24s} {r['acked']:7d} acked in {r['seconds']:6.2f} s = "
              f"{r['per_second']:8.0f} reports/s  p50 {r['p50_ms']:6.1f} ms  "
              f"p99 {r['p99_ms']:6.1f} ms  CPU {r['cpu_ms']:.2f} ms/report  "
              f"errors {r['errors']}  rows {r['rows']}  "
              f"lost {r['lost']}  duplicates {r['duplicates']}  in flight {r['unacked']}")
    fast = "met" if ours["per_second"] >= GOALS["per_second"] else "NOT met"
    p99 = "met" if ours["p99_ms"] <= GOALS["p99_ms"] else "NOT met"
    half = "met" if ratio >= GOALS["ratio"] else "NOT met"
    print(f"  ratio citygrowth/bare = {ratio:.2f} (goal >= {GOALS['ratio']}: {half}); "
          f"{GOALS['per_second']:.0f}/s goal: {fast}; p99 <= {GOALS['p99_ms']:.0f} ms: {p99}",
          flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
