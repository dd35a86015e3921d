"""Screens benchmark: p50/p95 latency of each page's data API over real HTTP.

A uvicorn server in its own process serves a district of 22 streets with three years of data
and a computed index (the browser tests' world); this process calls each data API after a
warm-up and prints its p50/p95 next to ``/healthz`` measured the same way (the baseline: what
any request costs through the same stack). Goal: p95 ≤ 50 ms for every data API.

    python -m bench.screens [--calls 50] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.live import percentile, wait_ready


def build(root: Path) -> tuple[str, str]:
    """Migrate, load the world and return (street code, API key of the district admin)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sqlalchemy import select
    from tests.screens.browser_world import build_world

    from citygrowth.auth.identity import new_api_key
    from citygrowth.auth.models import User
    from citygrowth.db import make_engine, make_sessionmaker, upgrade
    from citygrowth.settings import Settings

    settings = Settings(data_dir=root / "var", database_url=f"sqlite:///{root / 'cg.db'}",
                        env="test", secret_key="bench", scheduler_enabled=False)
    settings.ensure_dirs()
    upgrade(settings.resolved_database_url)
    streets, _key = build_world(settings)
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine)() as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        key = new_api_key(s, admin, "bench")
        s.commit()
    engine.dispose()
    return streets[0]["code"], key


def demo_key(data: Path) -> tuple[str, str]:
    """A street of the demo district and a fresh API key of its administrator."""
    from sqlalchemy import select

    from citygrowth.areas.models import Area
    from citygrowth.auth.identity import new_api_key
    from citygrowth.auth.models import User
    from citygrowth.db import make_engine, make_sessionmaker

    engine = make_engine(f"sqlite:///{data / 'citygrowth.db'}")
    with make_sessionmaker(engine)() as s:
        street = s.scalar(select(Area.code).where(Area.level == "street").order_by(Area.code))
        admin = s.scalar(select(User).where(User.username == "admin"))
        assert street and admin, "run `citygrowth demo` on that folder first"
        key = new_api_key(s, admin, "bench")
        s.commit()
    engine.dispose()
    return street, key



def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="10 calls per endpoint")
    ap.add_argument("--demo", type=Path, default=None,
                    help="a data folder where `citygrowth demo` ran (uses its admin's new key)")
    args = ap.parse_args(argv)
    calls = 10 if args.quick else args.calls
    root = Path(tempfile.mkdtemp(prefix="cg-bench-screens-"))
    if args.demo:
        street, key, data, db = *demo_key(args.demo), args.demo, args.demo / "citygrowth.db"
    else:
        street, key = build(root)
        data, db = root / "var", root / "cg.db"
    env = {**os.environ, "CITYGROWTH_DATA_DIR": str(data),
           "CITYGROWTH_DATABASE_URL": f"sqlite:///{db}", "CITYGROWTH_ENV": "test",
           "CITYGROWTH_SECRET_KEY": "bench", "CITYGROWTH_SCHEDULER_ENABLED": "false",
           "CITYGROWTH_LOG_LEVEL": "WARNING"}
    port = 8765
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "citygrowth.app:create_app",
                               "--factory", "--host", "127.0.0.1", "--port", str(port),
                               "--log-level", "warning"], env=env)
    endpoints = {
        "/healthz (baseline)": "/healthz",
        "/api/screen/summary": "/api/screen/summary",
        "/api/explore/series": f"/api/explore/series?indicator=ECO_FIN_INSTITUTIONS&areas={street}",
        "/api/explore/map": "/api/explore/map?indicator=ECO_FIN_INSTITUTIONS",
        f"/api/profile/{street}": f"/api/profile/{street}",
        "/api/data/health": "/api/data/health",
    }
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key},
                          timeout=60) as client:
            wait_ready(client, 30)
            base_p95 = 0.0
            for label, path in endpoints.items():
                client.get(path).raise_for_status()  # warm-up: caches and first reads
                times = []
                for _ in range(calls):
                    t = time.perf_counter()
                    client.get(path).raise_for_status()
                    times.append((time.perf_counter() - t) * 1000)
                p95 = percentile(times, 0.95)
                base_p95 = base_p95 or p95
                verdict = "" if label.endswith("(baseline)") else (
                    "  ok" if p95 <= 50 else "  over 50 ms")
                print(f"{label:32s} p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms"
                      f"  ({p95 / base_p95:4.1f}× baseline){verdict}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
