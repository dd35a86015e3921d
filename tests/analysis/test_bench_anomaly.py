"""The anomaly benchmark runs both variants on a small load and finds what it planted."""

from __future__ import annotations

from pathlib import Path

from bench.anomaly import run


def test_anomaly_benchmark_runs_and_finds_the_planted_values(tmp_path: Path) -> None:
    result = run(2_000, 3, tmp_path, repeat=1)
    assert result["setup"]["history_rows"] == 9 * 12_000 * 3
    ours, duck = result["citygrowth"], result["duckdb"]
    assert ours["rows"] == duck["rows"] == 2_000
    assert ours["warnings"] >= 2 and {"impossible", "unit_slip"} <= set(ours["kinds"])
    assert result["ratio"]["time"] > 0 and ours["peak_mib"] > 10
