"""Importing a Strava or Garmin account export: provider records, gear, and original files.

1. The index files (activities.csv and the gear lists; the summaries JSON) become Strava or
   Garmin provider records under their real ids, so a later API sync updates them instead of
   adding copies. A record an API sync stored first is only filled in, never overwritten.
2. The export's activity files go through the file import (`FileImporter`: checksums,
   duplicates, hostile-input rules, worker processes): the export is walked with the same
   `SourceWalker` (nested zips included), non-activity FIT files are skipped by their
   file_id type from their first bytes, and the rest is staged in batches and imported.
3. Each imported (or already known) file's checksum becomes the evidence "sha256:<checksum>"
   of the provider record it belongs to, so the matcher links the two for certain.

Resumable: records are upserts and files are deduplicated by checksum, so a second run after
an interruption stores what the first did not and links what is left; nothing twice.
The caller links what arrived to what was there (`tracekit.linking.rematch_around` over
`ExportReport.starts`), as `tracekit.ingest` does for files.
"""

import contextlib
import gzip
import itertools
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import select

from tracekit.exports import garmin, strava
from tracekit.exports.detect import ExportError, ExportKind, ExportSource, detect_export
from tracekit.exports.records import (
    Incoming,
    Upserted,
    add_evidence,
    existing_records,
    upsert_gear,
    upsert_record,
)
from tracekit.files.decode import is_gzip
from tracekit.files.fit import fit_file_type
from tracekit.files.importer import (
    CancelCheck,
    FailedItem,
    FileImporter,
    ImportedItem,
    ImportReport,
    ProgressCallback,
)
from tracekit.files.sources import (
    DEFAULT_BUDGET,
    Budget,
    BudgetExceeded,
    Rejected,
    Source,
    SourceWalker,
    copy_limited,
    too_large_message,
)
from tracekit.providers.names import ProviderName
from tracekit.store.engine import Database
from tracekit.store.models import ProviderRecord

BATCH_FILES = 1000  # files staged and imported per FileImporter run
RECORDS_PER_TRANSACTION = 1000
SNIFF_BYTES = 512
# Nested upload archives are far larger than any activity file; their members still get the
# normal per-file limit when they are staged and imported.
NESTED_ARCHIVE_BYTES = 16 * 1024**3


class _Index(Protocol):
    activities: list[Incoming]
    failed: list[FailedItem]

    def owner_of(self, name: str, start_utc: datetime | None) -> str | None: ...


@dataclass
class ExportReport:
    kind: ExportKind
    records_created: int = 0
    records_updated: int = 0
    records_unchanged: int = 0
    gear_created: int = 0
    files: ImportReport = field(default_factory=ImportReport)
    skipped: Counter[str] = field(default_factory=Counter)  # non-activity FIT files by type
    files_linked: int = 0  # files tied to their activity by evidence
    unmatched_files: list[str] = field(default_factory=list)
    failed: list[FailedItem] = field(default_factory=list)  # index rows/files not read
    cancelled: bool = False
    starts: list[datetime] = field(default_factory=list)  # new or changed, for rematching

    @property
    def provider(self) -> ProviderName:
        return self.kind.provider

    @property
    def skipped_count(self) -> int:
        return sum(self.skipped.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "provider": self.provider.value,
            "records": {
                "created": self.records_created,
                "updated": self.records_updated,
                "unchanged": self.records_unchanged,
            },
            "gear_created": self.gear_created,
            "files": self.files.as_json(),
            "skipped_non_activity": dict(self.skipped),
            "files_linked": self.files_linked,
            "unmatched_files": self.unmatched_files,
            "failed": [item.as_json() for item in self.failed],
            "cancelled": self.cancelled,
        }


def is_export(path: Path) -> bool:
    return detect_export(path) is not None


def import_export_archive(
    db: Database,
    archive_dir: Path,
    path: Path,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
    workers: int | None = None,
    budget: Budget = DEFAULT_BUDGET,
) -> ExportReport | None:
    """Import a Strava or Garmin account export (zip or unpacked folder); None when `path` is
    not one (import it as plain files then)."""
    found = detect_export(path)
    if found is None:
        return None
    kind, root = found
    report = ExportReport(kind)
    with ExportSource(path, kind, root, budget) as export:
        index = _read_index(export, report)
        _store_index(db, kind, index, report)
        _import_files(db, archive_dir, export, index, report, progress, cancelled, workers)
    return report


# ------------------------------------------------------------------------------ index files


def _read_index(export: ExportSource, report: ExportReport) -> _Index:
    names = export.names()
    if export.kind is ExportKind.STRAVA:
        index = strava.StravaExport()
        _read(export, "activities.csv", report, index, "csv")
        for gear_file, gear_kind in (("bikes.csv", "bike"), ("shoes.csv", "shoes")):
            if gear_file in names:
                _read(export, gear_file, report, index, gear_kind)
        report.failed.extend(index.failed)
        return index
    garmin_index = garmin.GarminExport()
    summary_files = [n for n in names if garmin.is_summaries_file(n)]
    if not summary_files:
        report.failed.append(
            FailedItem(
                export.display(garmin.SUMMARIES_FOLDER),
                "no activity summaries (…summarizedActivities.json) in this export; "
                "its files import without Garmin ids",
            )
        )
    for name in summary_files:
        _read(export, name, report, garmin_index, "json")
    garmin_index.index()
    report.failed.extend(garmin_index.failed)
    return garmin_index


def _read(export: ExportSource, name: str, report: ExportReport, index: Any, what: str) -> None:
    display = export.display(name)
    try:
        with export.open(name) as stream:
            if what == "csv":
                strava.read_activities(stream, index, display)
            elif what == "json":
                garmin.read_summaries(stream, index, display)
            else:
                strava.read_gear(stream, what, index)
    except ExportError as exc:
        report.failed.append(FailedItem(display, str(exc).removeprefix(display + ": ")))


def _store_index(db: Database, kind: ExportKind, index: _Index, report: ExportReport) -> None:
    provider = kind.provider
    now = datetime.now(UTC)
    activities = index.activities
    if isinstance(index, strava.StravaExport):
        activities = _store_gear(db, provider, index, activities, report)
    for start in range(0, len(activities), RECORDS_PER_TRANSACTION):
        batch = activities[start : start + RECORDS_PER_TRANSACTION]
        with db.session() as session:
            known = existing_records(session, provider, (i.activity.provider_id for i in batch))
            for item in batch:
                existing = known.get(item.activity.provider_id)
                fill_only = existing is not None and _source_of(existing) != _source_of_item(item)
                record, outcome = upsert_record(
                    session, provider, item, now, existing, fill_only=fill_only
                )
                known[record.provider_id] = record
                if outcome is Upserted.CREATED:
                    report.records_created += 1
                elif outcome is Upserted.UPDATED:
                    report.records_updated += 1
                else:
                    report.records_unchanged += 1
                    continue
                if record.start_utc is not None:
                    report.starts.append(record.start_utc)


def _source_of(record: ProviderRecord) -> str | None:
    payload = record.payload or {}
    source = payload.get("source")
    return str(source) if source else None


def _source_of_item(item: Incoming) -> str | None:
    source = item.activity.payload.get("source")
    return str(source) if source else None


def _store_gear(
    db: Database,
    provider: ProviderName,
    index: strava.StravaExport,
    activities: list[Incoming],
    report: ExportReport,
) -> list[Incoming]:
    """Store the gear lists; activities then name gear by the id it is stored under (the
    provider's real id when an API sync already brought that gear)."""
    stored_as: dict[str, str] = {}
    with db.session() as session:
        for gear in strava.gear_named_in(activities, index.gear):
            stored, outcome = upsert_gear(session, provider, gear, {"source": strava.SOURCE})
            stored_as[gear.provider_gear_id] = stored.provider_gear_id
            if outcome is Upserted.CREATED:
                report.gear_created += 1
    return [
        replace(item, activity=replace(item.activity, gear_id=stored_as[item.activity.gear_id]))
        if item.activity.gear_id in stored_as
        else item
        for item in activities
    ]


# ------------------------------------------------------------------------------------ files


@dataclass(frozen=True, slots=True)
class _Staged:
    source: Source
    path: Path


class _Members:
    """Opens sources, keeping each zip open: reopening a zip of thousands of members for each
    one would re-read its directory every time."""

    def __init__(self) -> None:
        self._zips: dict[str, zipfile.ZipFile] = {}

    def close(self) -> None:
        for archive in self._zips.values():
            archive.close()
        self._zips.clear()

    @contextlib.contextmanager
    def raw(self, source: Source) -> Iterator[IO[bytes]]:
        if source.member is None:
            with Path(source.path).open("rb") as handle:
                yield handle
            return
        archive = self._zips.get(source.path)
        if archive is None:
            archive = self._zips[source.path] = zipfile.ZipFile(source.path)
        with archive.open(source.member) as member:
            yield member

    def fit_type(self, source: Source) -> str | None:
        """The FIT file type from the first bytes (gunzipped if need be); None: not FIT."""
        with self.raw(source) as raw:
            head = raw.read(SNIFF_BYTES)
        if is_gzip(head):
            with self.raw(source) as raw, gzip.GzipFile(fileobj=raw) as unzipped:
                head = unzipped.read(SNIFF_BYTES)
        return fit_file_type(head)


def _import_files(
    db: Database,
    archive_dir: Path,
    export: ExportSource,
    index: _Index,
    report: ExportReport,
    progress: ProgressCallback | None,
    cancelled: CancelCheck | None,
    workers: int | None,
) -> None:
    incoming = archive_dir / ".incoming"
    walk_budget = replace(
        export.budget, max_file_bytes=max(export.budget.max_file_bytes, NESTED_ARCHIVE_BYTES)
    )
    members = _Members()
    with SourceWalker(incoming, walk_budget) as walker:
        sources: list[Source] = []
        for found in walker.walk([export.path]):
            if isinstance(found, Rejected):
                report.files.failed.append(FailedItem(found.display, found.error))
            else:
                sources.append(found)
        total = len(sources)
        done = 0
        staging = Path(tempfile.mkdtemp(prefix="export-", dir=incoming))
        try:
            numbered = enumerate(sources)
            for batch in itertools.batched(numbered, BATCH_FILES):
                if cancelled and cancelled():
                    report.cancelled = True
                    break
                staged: list[_Staged] = []
                for slot, source in batch:
                    outcome = _sniff_and_stage(
                        members, source, staging / str(slot), export.budget, report
                    )
                    if outcome is None:
                        done += 1
                        if progress:
                            progress(done, total, source.display)
                    else:
                        staged.append(outcome)
                if staged:
                    done = _import_batch(
                        db,
                        archive_dir,
                        export,
                        index,
                        staged,
                        report,
                        done,
                        total,
                        progress,
                        cancelled,
                        workers,
                    )
                if report.cancelled:
                    break
        finally:
            members.close()
            shutil.rmtree(staging, ignore_errors=True)


def _sniff_and_stage(
    members: _Members, source: Source, folder: Path, budget: Budget, report: ExportReport
) -> _Staged | None:
    """Skip a non-activity FIT file (counted by type); copy anything else, as it is, into the
    staging folder. None when nothing is left to import."""
    try:
        kind = members.fit_type(source)
        if kind is not None and kind != "activity":
            report.skipped[kind] += 1
            return None
        name = (source.member or source.path).replace("\\", "/").rsplit("/", 1)[-1]
        folder.mkdir()
        target = folder / name
        with members.raw(source) as raw, target.open("wb") as out:
            copy_limited(raw, out, budget.max_file_bytes)
        return _Staged(source, target)
    except BudgetExceeded:
        report.files.failed.append(
            FailedItem(source.display, too_large_message(budget.max_file_bytes))
        )
    except (zipfile.BadZipFile, OSError, EOFError, gzip.BadGzipFile) as exc:
        report.files.failed.append(FailedItem(source.display, f"damaged archive entry ({exc})"))
    return None


def _import_batch(
    db: Database,
    archive_dir: Path,
    export: ExportSource,
    index: _Index,
    staged: list[_Staged],
    report: ExportReport,
    done: int,
    total: int,
    progress: ProgressCallback | None,
    cancelled: CancelCheck | None,
    workers: int | None,
) -> int:
    by_path = {str(s.path): s.source for s in staged}

    def show(count: int, _total: int, name: str) -> None:
        if progress:
            source = by_path.get(name)
            progress(done + count, total, source.display if source else name)

    result = FileImporter(db, archive_dir).run([s.path for s in staged], show, cancelled, workers)
    for staged_file in staged:
        staged_file.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            staged_file.path.parent.rmdir()
    imported = [_renamed(item, by_path) for item in result.imported]
    duplicates = [_renamed(item, by_path) for item in result.duplicates]
    report.files.imported.extend(imported)
    report.files.duplicates.extend(duplicates)
    report.files.failed.extend(
        replace(f, file=by_path[f.file].display if f.file in by_path else f.file)
        for f in result.failed
    )
    report.starts.extend(item.start_utc for item in imported)
    _link(db, export, index, imported + duplicates, report)
    if result.cancelled:
        report.cancelled = True
    return done + len(result.imported) + len(result.duplicates) + len(result.failed)


def _renamed(item: ImportedItem, by_path: dict[str, Source]) -> ImportedItem:
    source = by_path.get(item.file)
    return replace(item, file=source.display) if source else item


def _link(
    db: Database,
    export: ExportSource,
    index: _Index,
    items: Iterable[ImportedItem],
    report: ExportReport,
) -> None:
    """Give each file's provider record the file's checksum as evidence."""
    first: dict[str, ImportedItem] = {}
    for item in items:  # a multisport file has a record per leg: its first leg is the file
        if item.file not in first or item.start_utc < first[item.file].start_utc:
            first[item.file] = item
    if not first:
        return
    provider = export.kind.provider
    with db.session() as session:
        rows = session.execute(
            select(ProviderRecord.id, ProviderRecord.checksum).where(
                ProviderRecord.id.in_([i.record_id for i in first.values()])
            )
        )
        checksums = {record_id: checksum for record_id, checksum in rows}
        owners: dict[str, str] = {}
        for display, item in first.items():
            owner = index.owner_of(export.relative(display), item.start_utc)
            checksum = checksums.get(item.record_id)
            if owner is None or checksum is None:
                report.unmatched_files.append(display)
                continue
            owners[owner] = checksum
        records = existing_records(session, provider, owners)
        for owner, checksum in owners.items():
            record = records.get(owner)
            if record is None:
                continue
            report.files_linked += 1
            if add_evidence(record, f"sha256:{checksum}") and record.start_utc is not None:
                report.starts.append(record.start_utc)
