"""Account exports: a Strava bulk export or a Garmin "Export your data" archive, imported whole.

`import_export_archive(db, archive_dir, path, progress, cancelled)` returns an `ExportReport`,
or None when `path` is not such an export (import it as plain files then).
"""

from tracekit.exports.archive import ExportReport, import_export_archive, is_export
from tracekit.exports.detect import ExportKind, detect_export

__all__ = ["ExportKind", "ExportReport", "detect_export", "import_export_archive", "is_export"]
