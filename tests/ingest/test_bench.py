from __future__ import annotations

from pathlib import Path

import duckdb
from bench.ingest import run


def test_ingest_benchmark_runs_both_variants_on_a_small_file(tmp_path: Path) -> None:
    result = run(20_000, tmp_path, repeat=2)
    assert result["citygrowth"]["rows"] == 20_000
    for name in ("duckdb", "citygrowth"):
        assert result[name]["seconds"] == min(result[name]["all_seconds"]) > 0
        assert len(result[name]["all_seconds"]) == 2 and result[name]["peak_mib"] > 10
    assert result["ratio"]["throughput"] > 0 and len(result["ratio"]["each"]) == 2
    for k in range(2):  # each run loaded into a store of its own
        batches = list((tmp_path / f"run{k}" / "var" / "observations" / "batches")
                       .glob("*.parquet"))
        assert len(batches) == 1
        n = duckdb.connect().execute("SELECT count(*) FROM read_parquet(?)",
                                     [str(batches[0])]).fetchall()[0][0]
        assert n == 20_000
