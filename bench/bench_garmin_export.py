"""Garmin export import speed and memory, against fitparse's parse alone, in one run.

Generates a Garmin "Export your data" zip (summaries JSON; nested UploadedFiles zips holding
N activity FIT files and N non-activity FIT files — monitoring, settings, device, totals),
imports it into a fresh database in a child process (so its peak RSS is its own), and times
fitparse parsing the same N activity files from memory. Target: the whole import takes less
time than fitparse's parse alone; memory stays flat (peak RSS at N/3 and at N about equal).

    python -m bench.bench_garmin_export [--activities 3000] [--records 900] [--keep DIR]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tracekit.exports import import_export_archive
from tracekit.exports.writers import ExportActivity, write_garmin_export
from tracekit.files.fit import fit_file_type
from tracekit.paths import archive_dir_for, sqlite_url
from tracekit.store.engine import Database

START = datetime(2021, 3, 1, 6, 0, tzinfo=UTC)
SPORTS = ("cycling", "running", "walking", "cycling", "running")


def activities(count: int, records: int) -> list[ExportActivity]:
    return [
        ExportActivity(
            activity_id=7_000_000_000 + i,
            start_utc=START + timedelta(hours=11 * i),
            sport=SPORTS[i % len(SPORTS)],
            elapsed_s=records * 4.0,
            distance_m=5_000.0 + 37 * (i % 500),
            name=f"Activity {i}",
            lat=41.98 + (i % 50) * 0.01,
            lon=2.82 + (i % 40) * 0.01,
            points=records,
        )
        for i in range(count)
    ]


def generate(folder: Path, count: int, records: int) -> Path:
    target = folder / f"garmin-export-{count}x{records}.zip"
    if not target.exists():
        started = time.perf_counter()
        write_garmin_export(target, activities(count, records), non_activity=count, per_part=2000)
        print(f"generated {target.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return target


def import_once(export: Path) -> dict[str, float]:
    """Run in a child process: the import alone, with its own peak memory."""
    with tempfile.TemporaryDirectory() as scratch:
        url = sqlite_url(Path(scratch) / "bench.sqlite3")
        db = Database(url)  # migrations are start-up work, not import work
        started = time.perf_counter()
        report = import_export_archive(db, archive_dir_for(url), export)
        elapsed = time.perf_counter() - started
        db.dispose()
    assert report is not None
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": elapsed,
        "records": report.records_created,
        "imported": len(report.files.imported),
        "skipped": report.skipped_count,
        "failed": len(report.files.failed) + len(report.failed),
        "linked": report.files_linked,
        "rss_mb": own,
    }


def import_in_child(export: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_garmin_export", "--import-only", str(export)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def fitparse_seconds(export: Path) -> tuple[float, int]:
    import fitparse  # the baseline; a dev dependency only

    blobs = []
    with zipfile.ZipFile(export) as outer:
        for name in outer.namelist():
            if not name.endswith(".zip"):
                continue
            with zipfile.ZipFile(outer.open(name)) as inner:
                for member in inner.namelist():
                    data = inner.read(member)
                    if fit_file_type(data[:512]) == "activity":
                        blobs.append(data)
    started = time.perf_counter()
    for data in blobs:
        for message in fitparse.FitFile(data).get_messages():
            message.get_values()
    return time.perf_counter() - started, len(blobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=3000)
    parser.add_argument("--records", type=int, default=900, help="records per activity file")
    parser.add_argument("--keep", type=Path, help="keep generated exports in this folder")
    parser.add_argument("--import-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.import_only:
        print(json.dumps(import_once(args.import_only)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        small = generate(folder, args.activities // 3, args.records)
        full = generate(folder, args.activities, args.records)
        size_mb = full.stat().st_size / 1e6
        third = import_in_child(small)
        ours = import_in_child(full)
        baseline, parsed = fitparse_seconds(full)
    n = args.activities
    print(
        f"export: {n} activities x {args.records} records + {n} non-activity FIT files, "
        f"{size_mb:.0f} MB zip"
    )
    print(f"fitparse, parse only ({parsed} activity files): {baseline:8.2f} s")
    print(
        f"tracekit, whole import:                 {ours['seconds']:8.2f} s  "
        f"({ours['records']:.0f} Garmin records, {ours['imported']:.0f} files imported, "
        f"{ours['linked']:.0f} linked, {ours['skipped']:.0f} skipped, {ours['failed']:.0f} failed)"
    )
    print(
        f"ratio tracekit / fitparse:               {ours['seconds'] / baseline:8.3f}  (target < 1)"
    )
    print(
        f"peak RSS, importing process: {third['rss_mb']:.0f} MB at {n // 3} activities, "
        f"{ours['rss_mb']:.0f} MB at {n} (decoding workers stream each file through a bounded "
        "buffer)"
    )


if __name__ == "__main__":
    main()
