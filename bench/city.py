"""City-scale benchmark: every screen API, the command-center queues and the Open311 list at
p95 against ``/healthz`` in the same run, on SQLite and PostgreSQL; the index recomputed on
DuckDB and on Spark, both times printed.

The city comes from :mod:`bench.citygen` (ten districts, 5,000 grid cells; by default 10M
cases and 36M observations, ``--cases``/``--observations`` for another size, ``--quick`` for a
small city of two districts). A uvicorn server in its own process serves it per store;
this process calls each API after a warm-up, ``--calls`` times, and prints p50/p95 with the
ratio to ``/healthz`` (what any request costs through the same stack). Goal: p95 ≤ 50 ms.
The index is recomputed in a child process per engine (``index_engine=ibis``) with
``query_backend`` duckdb and pyspark (Spark local mode, all cores).

    python -m bench.city [--cases N] [--observations N] [--quick] [--city DIR] [--calls 50]
                         [--postgres URL] [--no-spark]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import citygen
from bench.child import measure
from bench.live import percentile, wait_ready

PORT = 8769
PG = "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"


def endpoints(street: str) -> dict[str, tuple[str, str]]:
    """label → (user, path): the district administrator for the screens, the city user
    (every district) for the command center and Open311."""
    return {
        "/healthz (baseline)": ("admin", "/healthz"),
        "/api/screen/summary": ("admin", "/api/screen/summary"),
        "/api/explore/series": ("admin", f"/api/explore/series?indicator=ECO_GDP&areas={street}"),
        "/api/explore/map (grid)": ("admin", "/api/explore/map?indicator="
                                             "GOV_CASE_CLOSURE_RATE&level=grid"),
        f"/api/profile/{street}": ("admin", f"/api/profile/{street}"),
        "/api/data/health": ("admin", "/api/data/health"),
        "/api/workbench": ("admin", "/api/workbench"),
        "/api/cases/queues (district)": ("admin", "/api/cases/queues"),
        "/api/cases/queues (city)": ("city", "/api/cases/queues"),
        "/api/cases?queue=open (city)": ("city", "/api/cases?queue=open&limit=50"),
        "/api/cases?queue=overdue (city)": ("city", "/api/cases?queue=overdue&limit=50"),
        "/api/cases (city, newest)": ("city", "/api/cases?limit=50"),
        "/open311/v2/requests.json": ("", "/open311/v2/requests.json"),
    }



def serve(settings_env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env, "CITYGROWTH_ENV": "test",
           "CITYGROWTH_SECRET_KEY": "bench", "CITYGROWTH_SCHEDULER_ENABLED": "false",
           "CITYGROWTH_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "citygrowth.app:create_app",
                             "--factory", "--host", "127.0.0.1", "--port", str(PORT),
                             "--log-level", "warning"], env=env)


def latencies(env: dict[str, str], keys: dict[str, str], street: str, calls: int,
              label: str, budget: float = 30.0) -> list[tuple[str, float, float]]:
    """p50/p95 per endpoint from up to ``calls`` calls; an endpoint still sampling after
    ``budget`` seconds stops there (at least 5 calls): one far over the goal needs no more."""
    server = serve(env)
    out: list[tuple[str, float, float]] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=300) as client:
            wait_ready(client, 300, 0.5)
            print(f"-- {label}: p50 / p95 of up to {calls} calls after a warm-up (at least 5, "
                  f"at most {budget:.0f} s per endpoint)", flush=True)
            base = 0.0
            for name, (user, path) in endpoints(street).items():
                headers = {"X-API-Key": keys[user]} if user else {}
                t = time.perf_counter()
                first = client.get(path, headers=headers)
                cold = (time.perf_counter() - t) * 1000
                if first.status_code != 200:
                    print(f"{name:34s} HTTP {first.status_code}: {first.text[:200]}")
                    continue
                times: list[float] = []
                started = time.perf_counter()
                while len(times) < calls and (len(times) < 5
                                              or time.perf_counter() - started < budget):
                    t = time.perf_counter()
                    client.get(path, headers=headers).raise_for_status()
                    times.append((time.perf_counter() - t) * 1000)
                p95 = percentile(times, 0.95)
                base = base or p95
                verdict = "" if "baseline" in name else ("  ok" if p95 <= 50 else
                                                         "  over 50 ms")
                print(f"{name:34s} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms"
                      f"  ({p95 / base:6.1f}× baseline, first call {cold:6.0f} ms, "
                      f"{len(times)} calls){verdict}",
                      flush=True)
                out.append((name, statistics.median(times), p95))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def recompute(root: str, database_url: str, backend: str, runs: int = 2) -> dict[str, Any]:
    """Compute the index ``runs`` times in this (fresh) process: the first run includes
    loading the store (DuckDB's in-memory view, or Spark's start-up), the second is the
    steady state."""
    from citygrowth.auth.actor import system_actor  # lazy: runs in the child process
    from citygrowth.index.service import compute_index  # lazy: runs in the child process
    from citygrowth.runtime import build_runtime  # lazy: runs in the child process
    from citygrowth.settings import Settings  # lazy: runs in the child process

    settings = Settings(data_dir=Path(root) / "var", database_url=database_url, env="test",
                        secret_key="bench", scheduler_enabled=False, query_backend=backend,
                        spark_master=f"local[{os.cpu_count() or 2}]", log_level="WARNING",
                        district_code=citygen.HOME)
    runtime = build_runtime(settings)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        with runtime.session() as s:
            run = compute_index(s, runtime, system_actor("bench"))
            s.rollback()  # leave the store as it was
        times.append(time.perf_counter() - t)
    info = json.loads((Path(run.results_path) / "run.json").read_text("utf-8"))
    return {"first": times[0], "second": times[-1] if runs > 1 else None, "rows": run.rows,
            "levels": info.get("levels_detail", {})}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    citygen.size_arguments(ap)
    ap.add_argument("--city", type=Path, default=None,
                    help="a folder where `python -m bench.citygen` built the city (reused)")
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--budget", type=float, default=30.0,
                    help="seconds of sampling per endpoint before it stops (at least 5 calls)")
    ap.add_argument("--postgres", default=PG, help="PostgreSQL server ('' to skip)")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--spark-runs", type=int, default=2, choices=(1, 2),
                    help="1: only Spark's first run (its start-up included), where time is short")
    args = ap.parse_args(argv)
    calls = 20 if args.quick else args.calls
    tmp: Path | None = None
    root = args.city
    if root is None:
        tmp = root = Path(tempfile.mkdtemp(prefix="cg-bench-city-"))
        scale = citygen.scale_of(args)
        print(f"building the city ({scale.cases:,} cases, {scale.observations:,} "
              f"observations, {scale.cells:,} grid cells) …", flush=True)
        gen = ["--quick"] if args.quick else []
        if args.districts is not None:
            gen += ["--districts", str(args.districts)]
        if args.cases is not None:
            gen += ["--cases", str(args.cases)]
        if args.observations is not None:
            gen += ["--observations", str(args.observations)]
        if args.postgres:
            gen += ["--postgres", args.postgres]
        t = time.perf_counter()
        citygen.main([str(root), *gen])
        print(f"city built in {time.perf_counter() - t:.0f} s", flush=True)
    keys = json.loads((root / "keys.json").read_text("utf-8"))
    street = f"{citygen.HOME}001"
    stores = {"SQLite": ("", keys["sqlite"])}
    if (root / "postgres.url").exists() and "postgres" in keys:
        stores["PostgreSQL"] = ((root / "postgres.url").read_text("utf-8"), keys["postgres"])
    try:
        for label, (url, k) in stores.items():
            env = {"CITYGROWTH_DATA_DIR": str(root / "var"),
                   "CITYGROWTH_DISTRICT_CODE": citygen.HOME}
            if url:
                env["CITYGROWTH_DATABASE_URL"] = url
            latencies(env, {**k, "": ""}, street, calls, label, args.budget)
        print("-- index recompute (a fresh process per engine; the first run loads the "
              "store)", flush=True)
        engines = ["duckdb"] + ([] if args.no_spark else ["pyspark"])
        done = {}
        for backend in engines:
            r = measure(recompute, str(root), "", backend,
                        args.spark_runs if backend == "pyspark" else 2)
            done[backend] = r
            levels = ", ".join(f"{lv} {d['engine']} {sum(d['seconds'].values()):.1f} s"
                               for lv, d in r["levels"].items())
            second = "     —" if r["second"] is None else f"{r['second']:7.1f}"
            print(f"{backend:8s} first {r['first']:7.1f} s  second {second} s  "
                  f"({r['rows']:,} result rows; {levels}; peak {r['peak_mib']:,.0f} MiB)",
                  flush=True)
        if len(done) == 2:
            which = "second" if done["pyspark"]["second"] is not None else "first"
            print(f"DuckDB vs Spark ({which} run): {done['duckdb'][which]:.1f} s vs "
                  f"{done['pyspark'][which]:.1f} s (Spark local[{os.cpu_count()}]; peak is "
                  "the Python process, not Spark's JVM)", flush=True)
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} "
              "cores", flush=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
