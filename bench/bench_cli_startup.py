"""`tracekit` start-up: the command line's wall time against a bare interpreter, in one run.

Baseline: `python -c pass` with the same interpreter. Measured, each a fresh process through the
installed `tracekit` script: `--version`, `--help`, `calendar --help` (one command's module and
what it imports) and `status` (a command that opens the database: a fresh one in a temp folder,
migrated by the untimed warm-up round). The programs take turns, so a slow moment of the machine
hits them all; the median of the runs is kept. Target: `--version` and `--help` < 0.3 s.

    python -m bench.bench_cli_startup [--runs 11]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRACEKIT = Path(sys.executable).with_name("tracekit")
TARGET_S = 0.3


def seconds(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11, help="runs of each (median kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tracekit-bench-cli-") as scratch:
        env = {k: v for k, v in os.environ.items() if k not in ("TRACEKIT_DB", "DATABASE_URL")}
        env["TRACEKIT_DATA_DIR"] = scratch
        db = str(Path(scratch) / "bench.sqlite3")
        programs = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "tracekit --version": [str(TRACEKIT), "--version"],
            "tracekit --help": [str(TRACEKIT), "--help"],
            "tracekit calendar --help": [str(TRACEKIT), "calendar", "--help"],
            "tracekit status": [str(TRACEKIT), "--db", db, "status"],
        }
        times: dict[str, list[float]] = {name: [] for name in programs}
        for run in range(args.runs + 1):
            for name, argv in programs.items():
                elapsed = seconds(argv, env)
                if run:  # the first round warms the file cache and migrates the database
                    times[name].append(elapsed)
    medians = {name: statistics.median(values) for name, values in times.items()}
    baseline = medians.pop("python -c pass")
    print(f"baseline, python -c pass:   {baseline:6.3f} s  (median of {args.runs})")
    for name, median in medians.items():
        target = (
            f"   (target < {TARGET_S} s)"
            if name in ("tracekit --version", "tracekit --help")
            else ""
        )
        print(f"{name + ':':27} {median:6.3f} s = {median / baseline:5.1f}x the baseline{target}")


if __name__ == "__main__":
    main()
