"""Run every benchmark: ``python -m bench`` (or ``make bench``).

Each benchmark prints its own figures as ratios against a baseline measured in the same run;
pass ``--quick`` for small sizes.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("bench.ingest", "bench.index", "bench.intake", "bench.screens", "bench.anomaly",
              "bench.cli")


def main() -> int:
    quick = "--quick" in sys.argv
    for name in BENCHMARKS:
        module = importlib.import_module(name)
        print(f"== {name}", flush=True)
        module.main(["--quick"] if quick else [])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
