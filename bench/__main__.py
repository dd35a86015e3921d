"""Run every benchmark: ``python -m bench`` (or ``make bench``).

Each benchmark prints its own figures as ratios against a baseline measured in the same run;
pass ``--quick`` for small sizes. ``bench.refresh`` prints the latency from an accepted load to
the big screen showing it (goal ≤ 2 s); ``bench.city`` builds a city of ten districts (10M
cases, 36M observations, 5,000 grid cells; ``--quick``: two districts, 200,000 cases) and prints
the p95 of every screen API, the command-center queues and the Open311 list against
``/healthz`` on SQLite and PostgreSQL, and the index recompute on DuckDB and Spark side by
side. ``python -m bench --only bench.city`` runs one of them.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("bench.ingest", "bench.index", "bench.intake", "bench.screens", "bench.anomaly",
              "bench.cli", "bench.refresh", "bench.city")


def main() -> int:
    quick = "--quick" in sys.argv
    only = sys.argv[sys.argv.index("--only") + 1:][:1] if "--only" in sys.argv else []
    for name in only or BENCHMARKS:
        module = importlib.import_module(name)
        print(f"== {name}", flush=True)
        module.main(["--quick"] if quick else [])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
