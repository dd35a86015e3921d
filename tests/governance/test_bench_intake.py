"""The intake benchmark runs end to end at a small size and loses no acknowledged report."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import needs


@pytest.mark.slow
def test_bench_intake_small_loses_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    needs("wrk", shutil.which("wrk") is not None, "the intake benchmark's load generator "
          "(apt-get install wrk)")
    from bench.intake import main

    out = main(["--seconds", "2", "--concurrency", "8"])
    for name in ("citygrowth", "bare"):
        r = out[name]
        assert r["acked"] > 20 and r["errors"] == 0 and r["replayed"] == 0
        assert r["lost"] == 0 and r["duplicates"] == 0 and r["rows"] == r["distinct"]
        assert r["distinct"] >= r["acked"] and 0 <= r["unacked"] <= 8  # in flight at the end
        assert 0 < r["p50_ms"] <= r["p99_ms"]
    printed = capsys.readouterr().out
    assert "reports/s" in printed and "ratio citygrowth/bare" in printed


def test_bench_intake_fails_clearly_without_wrk(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.intake import main

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SystemExit, match="wrk, which is not installed"):
        main(["--quick"])
