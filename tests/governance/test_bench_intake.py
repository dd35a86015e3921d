"""The intake benchmark runs end to end at a small size and loses no acknowledged report."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_bench_intake_small_loses_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.intake import main

    out = main(["--requests", "100", "--concurrency", "8", "--seconds", "60"])
    for name in ("citygrowth", "bare"):
        r = out[name]
        assert r["acked"] == 100 and r["errors"] == 0
        assert r["rows"] == 100 and r["distinct"] == 100 and r["lost"] == 0
    printed = capsys.readouterr().out
    assert "reports/s" in printed and "ratio citygrowth/bare" in printed
