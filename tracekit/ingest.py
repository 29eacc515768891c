"""Bringing files in: import them, then link what arrived to what was already there.

The one function the CLI and the window call, so both import and match the same way.
"""

from collections.abc import Iterable
from pathlib import Path

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
    report = FileImporter(db, archive_dir).run(paths, progress, cancelled, workers)
    rematch_around(db, (item.start_utc for item in report.imported))
    return report
