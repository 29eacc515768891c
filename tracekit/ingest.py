"""Bringing files in: import them, then link what arrived to what was already there.

The one function the CLI and the window call, so both import and match the same way.
"""

from collections.abc import Iterable
from pathlib import Path

from tracekit.exports import import_export_archive
from tracekit.files.importer import CancelCheck, FileImporter, ImportReport, ProgressCallback
from tracekit.linking import rematch_around
from tracekit.store.engine import Database


def ingest_files(
    db: Database,
    archive_dir: Path,
    paths: Iterable[Path],
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import files, folders and archives; provider export archives (Strava bulk export,
    Garmin "export your data") are recognised by their content and bring their provider
    records along. Then link everything that arrived, in one rematch."""
    report, plain, starts = ImportReport(), [], []
    for path in paths:
        export = import_export_archive(db, archive_dir, path, progress, cancelled, workers)
        if export is None:
            plain.append(path)
            continue
        report.imported += export.files.imported
        report.duplicates += export.files.duplicates
        report.failed += export.files.failed + export.failed
        report.cancelled |= export.cancelled
        starts += export.starts
    if plain and not report.cancelled:
        files = FileImporter(db, archive_dir).run(plain, progress, cancelled, workers)
        report.imported += files.imported
        report.duplicates += files.duplicates
        report.failed += files.failed
        report.cancelled |= files.cancelled
    rematch_around(db, [*starts, *(item.start_utc for item in report.imported)])
    return report
