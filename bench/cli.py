"""CLI benchmark: wall time of ``citygrowth --help`` and of ``citygrowth <group> --help``.

Each is run as a fresh process (as a person types it) several times; the median is printed next
to the baseline measured the same way in the same run: ``python -c "import click"`` (an
interpreter that loads the one library the help needs). Goal: ``citygrowth --help`` under 1 s
on the 2-core CI machine, i.e. within a few tenths of a second of the baseline.

    python -m bench.cli [--runs 7] [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

#: (label, arguments, whether the 1 s goal applies: a group's help imports its domain)
CASES = (("citygrowth --help", ["--help"], True),
         ("citygrowth --lang en --help", ["--lang", "en", "--help"], True),
         ("citygrowth calendar --help", ["calendar", "--help"], False))


def _time(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else args.runs
    exe = shutil.which("citygrowth") or sys.exit("citygrowth is not on PATH")
    base = _time([sys.executable, "-c", "import click"], runs)
    print(f"baseline  python -c 'import click'  {base * 1000:7.0f} ms")
    for label, extra, goal in CASES:
        t = _time([exe, *extra], runs)
        verdict = ("under 1 s" if t < 1 else "OVER 1 s") if goal else "imports its domain"
        print(f"{label:<28} {t * 1000:7.0f} ms  ({t / base:4.1f}× baseline, {verdict})")


if __name__ == "__main__":
    main()
