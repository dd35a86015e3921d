"""Ingest benchmark: our full validate-and-store path against DuckDB's own CSV → Parquet.

    python -m bench.ingest [--rows N] [--repeat K] [--quick]

Generates a long CSV (indicator, area_code, period, value) of N rows (default 10 million) for
a synthetic district of 12 streets, 120 communities and 12 000 grid cells and nine monthly
grid-level indicators, then, each in a child process of its own:

* ``duckdb``: ``COPY (SELECT * FROM read_csv(...)) TO 'x.parquet'`` — the baseline;
* ``citygrowth``: ``ingest.service.load_file`` as the system actor (read, every validation,
  unit conversion, Parquet batch, load record, commit).

Each variant runs ``--repeat`` times (default 3), interleaved, ours on a fresh store each time.
It prints the best time of each and every run's, our throughput as a ratio of DuckDB's from
the best times (goal ≥ 0.5) and run by run, and each child's peak resident memory
(``resource.getrusage``, which counts native memory too).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.child import measure

INDICATORS = (
    "GOV_CASE_CLOSURE_RATE", "GOV_CASE_REWORK_RATE", "GOV_CASE_HANDLING_HOURS",
    "GOV_CASE_SATISFACTION", "SOC_HELPER_HOURS", "SOC_HELP_TASKS_DONE", "GOV_CASES_DUE",
    "GOV_CASES_CLOSED_ONTIME", "GOV_CASE_ONTIME_RATE",
)
STREETS, COMMUNITIES, GRIDS = 12, 10, 100  # per parent


def grid_codes() -> list[str]:
    return [f"370203{s:03d}{c:03d}{g:03d}" for s in range(1, STREETS + 1)
            for c in range(1, COMMUNITIES + 1) for g in range(1, GRIDS + 1)]


def make_database(url: str) -> None:
    """Migrate a fresh store and add the synthetic district's areas."""
    from sqlalchemy import insert

    from citygrowth.areas.models import Area
    from citygrowth.db import make_engine, upgrade

    upgrade(url)
    rows: list[dict[str, Any]] = [dict(code="370203", level="district", parent_code=None)]
    for s in range(1, STREETS + 1):
        sc = f"370203{s:03d}"
        rows.append(dict(code=sc, level="street", parent_code="370203"))
        for c in range(1, COMMUNITIES + 1):
            rows.append(dict(code=f"{sc}{c:03d}", level="community", parent_code=sc))
    rows += [dict(code=g, level="grid", parent_code=g[:12]) for g in grid_codes()]
    for r in rows:
        r.update(name_zh=r["code"], name_en=r["code"], illustrative=True, source="bench")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Area), rows)
    engine.dispose()


def make_csv(path: Path, rows: int) -> None:
    """N distinct (indicator, grid, month) rows, months counted back from 2026-09."""
    import duckdb

    n_ind, n_grid = len(INDICATORS), len(grid_codes())
    con = duckdb.connect()
    con.execute("CREATE TABLE g AS SELECT row_number() OVER () - 1 AS k, code "
                "FROM (SELECT unnest(?) AS code)", [grid_codes()])
    con.execute(f"""
        COPY (
          SELECT ?[(r % {n_ind}) + 1] AS indicator, g.code AS area_code,
                 strftime(DATE '2026-09-01' - INTERVAL (r // {n_ind * n_grid}) MONTH, '%Y-%m')
                   AS period,
                 round(((r * 7919) % 100000) / 1000.0, 2) AS value
          FROM range(?) t(r) JOIN g ON g.k = (r // {n_ind}) % {n_grid}
        ) TO '{path}' (HEADER, DELIMITER ',')
    """, [list(INDICATORS), rows])
    con.close()


def _duckdb_variant(csv: str, out: str) -> dict[str, float]:
    import duckdb

    t = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{csv}', header=true)) TO '{out}' "
                "(FORMAT parquet, COMPRESSION zstd)")
    con.close()
    return {"seconds": time.perf_counter() - t}


def _citygrowth_variant(csv: str, data_dir: str, url: str) -> dict[str, float]:
    from citygrowth.auth.actor import system_actor
    from citygrowth.ingest.service import load_file
    from citygrowth.runtime import build_runtime
    from citygrowth.settings import Settings

    runtime = build_runtime(Settings(data_dir=Path(data_dir), database_url=url, env="test"))
    t = time.perf_counter()
    with runtime.session() as session:
        result = load_file(session, runtime, system_actor("bench"), Path(csv), source="bench")
    return {"seconds": time.perf_counter() - t, "rows": result.rows}


def run(rows: int, work: Path, repeat: int = 1) -> dict[str, Any]:
    """Both variants ``repeat`` times, interleaved, ours on a fresh store each time; the
    ratio compares the best time of each (the least disturbed by the rest of the machine)."""
    csv = work / "observations.csv"
    t = time.perf_counter()
    make_csv(csv, rows)
    urls = []
    for k in range(repeat):
        (work / f"run{k}").mkdir()
        urls.append(f"sqlite:///{work / f'run{k}' / 'bench.db'}")
        make_database(urls[-1])
    setup = time.perf_counter() - t
    duck: list[dict[str, Any]] = []
    ours: list[dict[str, Any]] = []
    for k in range(repeat):
        duck.append(measure(_duckdb_variant, str(csv), str(work / "duckdb.parquet")))
        ours.append(measure(_citygrowth_variant, str(csv), str(work / f"run{k}" / "var"),
                            urls[k]))
    best = {name: min(runs, key=lambda r: r["seconds"]) | {
        "all_seconds": [r["seconds"] for r in runs]}
        for name, runs in (("duckdb", duck), ("citygrowth", ours))}
    return {"setup": {"seconds": setup, "mib": csv.stat().st_size / 2**20}, **best,
            "ratio": {"throughput": best["duckdb"]["seconds"] / best["citygrowth"]["seconds"],
                      "each": [d["seconds"] / o["seconds"] for d, o in zip(duck, ours,
                                                                         strict=True)]}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each variant, interleaved; the best of each is compared")
    parser.add_argument("--quick", action="store_true", help="200 000 rows, one run")
    args = parser.parse_args(argv)
    rows, repeat = (200_000, 1) if args.quick else (args.rows, max(1, args.repeat))
    with tempfile.TemporaryDirectory(prefix="cg-bench-") as tmp:
        r = run(rows, Path(tmp), repeat)
    setup = r["setup"]
    print(f"rows: {rows:,}  csv: {setup['mib']:.0f} MiB  (setup {setup['seconds']:.1f} s)  "
          f"best of {repeat}")
    for name in ("duckdb", "citygrowth"):
        v = r[name]
        runs = ", ".join(f"{x:.2f}" for x in v["all_seconds"])
        print(f"{name:>11}: {v['seconds']:7.2f} s  {rows / v['seconds'] / 1e6:6.2f} M rows/s  "
              f"peak {v['peak_mib']:7.0f} MiB  (runs: {runs} s)")
    each = ", ".join(f"{x:.2f}" for x in r["ratio"]["each"])
    print(f"throughput ratio citygrowth/duckdb: {r['ratio']['throughput']:.2f} (goal >= 0.5; "
          f"run by run: {each})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
