"""Anomaly-check benchmark: the load-time plausibility checks against DuckDB reading the rows.

    python -m bench.anomaly [--rows N] [--history MONTHS] [--repeat K] [--quick]

Builds the synthetic district of ``bench.ingest`` (12 streets, 120 communities, 12 000 grid
cells) in a fresh store, loads ``--history`` months (default 24) of its nine monthly
grid-level indicators as history (smooth series with noise: rates in %, hours, small counts),
then writes the next N rows (default 200 000: the following months, (indicator, grid) in the
order ``bench.ingest`` uses) to Parquet with a few planted anomalies, and, each in a child
process of its own:

* ``duckdb``: ``SELECT * FROM read_parquet(...)`` into pandas — the baseline, the cost of
  merely reading the rows that are checked;
* ``citygrowth``: ``analysis.service.check_load_frame`` on those rows, as the ingest path calls
  it (history and siblings from the store, catalog, areas), ``--repeat`` times.

It prints rows, seconds and rows/s of each (for the checks: the first run and the spread of
all runs), their ratio, the number of warnings and each child's peak resident memory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.child import measure
from bench.ingest import INDICATORS, grid_codes, make_database

LAST_HISTORY = (2026, 9)  # history ends 2026-09; the batch starts 2026-10
# (base level, noise, rounding) per indicator: rates in %, hours, counts
SHAPE = {
    "GOV_CASE_CLOSURE_RATE": (92.0, 0.01, 2), "GOV_CASE_REWORK_RATE": (6.0, 0.03, 2),
    "GOV_CASE_HANDLING_HOURS": (30.0, 0.02, 2), "GOV_CASE_SATISFACTION": (88.0, 0.01, 2),
    "SOC_HELPER_HOURS": (120.0, 0.03, 1), "SOC_HELP_TASKS_DONE": (40.0, 0.0, 0),
    "GOV_CASES_DUE": (60.0, 0.0, 0), "GOV_CASES_CLOSED_ONTIME": (55.0, 0.0, 0),
    "GOV_CASE_ONTIME_RATE": (90.0, 0.01, 2),
}


def month_labels(first: int, n: int) -> list[str]:
    y, m = LAST_HISTORY
    out = []
    for k in range(first, first + n):
        idx = y * 12 + m - 1 - (HISTORY_MONTHS[0] - 1) + k
        out.append(f"{idx // 12:04d}-{idx % 12 + 1:02d}")
    return out


HISTORY_MONTHS = [24]


def make_values(months: int, first: int, rows: int | None, seed: int = 1) -> pd.DataFrame:
    """Rows of months ``first`` … ``first + months − 1`` of every (indicator, grid) series
    (row r: indicator r % 9, grid (r // 9) % 12 000, month r // 108 000), cut at ``rows``."""
    grids = np.array(grid_codes(), dtype=object)
    n_ind, n_grid = len(INDICATORS), grids.size
    total = n_ind * n_grid * months if rows is None else rows
    r = np.arange(total, dtype=np.int64)
    ind, grid, month = r % n_ind, (r // n_ind) % n_grid, first + r // (n_ind * n_grid)
    series = np.random.default_rng(7).lognormal(0, 0.3, size=(n_ind, n_grid))
    rng = np.random.default_rng(seed + first)
    base = np.array([SHAPE[i][0] for i in INDICATORS])[ind] * series[ind, grid]
    level = base * (1 + 0.002 * month) * (1 + 0.05 * np.sin(2 * np.pi * month / 12))
    noise = np.array([SHAPE[i][1] for i in INDICATORS])[ind]
    counts = noise == 0
    value = np.where(counts, rng.poisson(np.maximum(level, 1.0)).astype(float),
                     level * np.exp(rng.normal(0, 1, total) * noise))
    rate = np.array(["RATE" in i or "SATISFACTION" in i for i in INDICATORS])[ind]
    value = np.where(rate, np.minimum(value, 100.0), value)
    digits = np.array([SHAPE[i][2] for i in INDICATORS])[ind]
    value = np.round(value * 10.0**digits) / 10.0**digits
    labels = np.array(month_labels(0, first + int(month.max()) + 1), dtype=object)
    return pd.DataFrame({"indicator": np.array(INDICATORS, dtype=object)[ind],
                         "area_code": grids[grid], "period": labels[month], "value": value})


def plant(batch: pd.DataFrame) -> None:
    """A ×10,000 slip, a negative count, a rate over 100 % and a spike."""
    batch.loc[11, "value"] *= 10000
    batch.loc[12, "value"] = -3.0
    batch.loc[30, "value"] = 130.0
    batch.loc[50, "value"] *= 3


def _duckdb_variant(parquet: str, repeat: int) -> dict[str, Any]:
    import duckdb

    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        con = duckdb.connect()
        df = con.execute(f"SELECT * FROM read_parquet('{parquet}')").df()
        con.close()
        times.append(time.perf_counter() - t)
    return {"seconds": times, "rows": len(df)}


def _citygrowth_variant(parquet: str, data_dir: str, url: str, repeat: int) -> dict[str, Any]:
    from citygrowth.analysis.service import check_load_frame
    from citygrowth.runtime import build_runtime
    from citygrowth.settings import Settings

    runtime = build_runtime(Settings(data_dir=Path(data_dir), database_url=url, env="test"))
    frame = pd.read_parquet(parquet)
    times, warnings = [], []
    for _ in range(repeat):
        with runtime.session() as session:
            t = time.perf_counter()
            warnings = check_load_frame(session, runtime, frame)
            times.append(time.perf_counter() - t)
    return {"seconds": times, "rows": len(frame), "warnings": len(warnings),
            "kinds": sorted({w.kind for w in warnings})}


def run(rows: int, history: int, work: Path, repeat: int = 3) -> dict[str, Any]:
    from citygrowth.auth.actor import system_actor
    from citygrowth.ingest.service import load_file
    from citygrowth.runtime import build_runtime
    from citygrowth.settings import Settings

    HISTORY_MONTHS[0] = history
    url = f"sqlite:///{work / 'bench.db'}"
    data_dir = work / "var"
    t = time.perf_counter()
    make_database(url)
    runtime = build_runtime(Settings(data_dir=data_dir, database_url=url, env="test"))
    hist_rows = 0
    if history:
        csv = work / "history.csv"
        make_values(history, 0, None).to_csv(csv, index=False)
        with runtime.session() as session:
            hist_rows = load_file(session, runtime, system_actor("bench"), csv,
                                  source="bench", illustrative=True).rows
    batch = make_values(0, history, rows)
    plant(batch)
    parquet = work / "batch.parquet"
    batch.assign(load_id="bench-batch").to_parquet(parquet, index=False)
    setup = time.perf_counter() - t
    duck = measure(_duckdb_variant, str(parquet), repeat)
    ours = measure(_citygrowth_variant, str(parquet), str(data_dir), url, repeat)
    return {"setup": {"seconds": setup, "history_rows": hist_rows},
            "duckdb": duck, "citygrowth": ours,
            "ratio": {"time": min(ours["seconds"]) / min(duck["seconds"])}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.anomaly", description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--history", type=int, default=24, help="months of history")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20 000 rows, 13 months history")
    args = parser.parse_args(argv)
    rows, history = (20_000, 13) if args.quick else (args.rows, args.history)
    with tempfile.TemporaryDirectory(prefix="cg-bench-") as tmp:
        r = run(rows, history, Path(tmp), args.repeat)
    s = r["setup"]
    print(f"rows: {rows:,}  history: {s['history_rows']:,} rows ({history} months)  "
          f"(setup {s['seconds']:.1f} s)")
    for name in ("duckdb", "citygrowth"):
        v = r[name]
        ts = v["seconds"]
        print(f"{name:>11}: first {ts[0]:6.3f} s  best {min(ts):6.3f} s  "
              f"median {statistics.median(ts):6.3f} s  max {max(ts):6.3f} s  "
              f"{rows / min(ts) / 1e3:8.0f} k rows/s  peak {v['peak_mib']:6.0f} MiB")
    ours = r["citygrowth"]
    print(f"warnings: {ours['warnings']} ({', '.join(ours['kinds'])})")
    print(f"time ratio checks/duckdb-read (best runs): {r['ratio']['time']:.1f}; "
          f"goal: checks of 200 000 rows <= 1.5 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
