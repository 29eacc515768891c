"""Importing activity files into the store: the `file` provider's way in.

Work is split so the slow part runs on every core: worker processes copy, checksum and decode;
this process owns the database and the archive folder, so every file is stored in its own short
transaction and an interrupted import leaves only whole files behind.
"""

import multiprocessing
import os
import re
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracekit.files.prepare import (
    AlreadyKnown,
    Outcome,
    Prepared,
    Unreadable,
    init_worker,
    prepare,
    prepare_in_worker,
)
from tracekit.files.sources import DEFAULT_BUDGET, Budget, Rejected, Source, SourceWalker
from tracekit.files.summary import ActivitySummary
from tracekit.providers.names import ProviderName
from tracekit.store.canonical import refresh_activity
from tracekit.store.engine import Database
from tracekit.store.models import Activity, ProviderRecord

PARALLEL_THRESHOLD = 8  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True, slots=True)
class ImportedItem:
    file: str
    activity_id: int
    record_id: int
    start_utc: datetime
    sport: str
    distance_m: float | None
    elapsed_s: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "activity_id": self.activity_id,
            "record_id": self.record_id,
            "start_utc": self.start_utc.isoformat(),
            "sport": self.sport,
            "distance_m": self.distance_m,
            "elapsed_s": self.elapsed_s,
        }


@dataclass(frozen=True, slots=True)
class FailedItem:
    file: str
    error: str

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "error": self.error}


@dataclass
class ImportReport:
    imported: list[ImportedItem] = field(default_factory=list)
    duplicates: list[ImportedItem] = field(default_factory=list)
    failed: list[FailedItem] = field(default_factory=list)
    cancelled: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "imported": [item.as_json() for item in self.imported],
            "duplicates": [item.as_json() for item in self.duplicates],
            "failed": [item.as_json() for item in self.failed],
        }


ProgressCallback = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]


class FileImporter:
    def __init__(self, db: Database, archive_dir: Path, budget: Budget = DEFAULT_BUDGET) -> None:
        self.db = db
        self.archive_dir = archive_dir
        self.incoming = archive_dir / ".incoming"
        self.budget = budget

    def run(
        self,
        paths: Iterable[Path],
        progress: ProgressCallback | None = None,
        cancelled: CancelCheck | None = None,
        workers: int | None = None,
    ) -> ImportReport:
        report = ImportReport()
        self.incoming.mkdir(parents=True, exist_ok=True)
        with SourceWalker(self.incoming, self.budget) as walker:
            sources: list[Source] = []
            for found in walker.walk(list(paths)):
                if isinstance(found, Rejected):
                    report.failed.append(FailedItem(found.display, found.error))
                else:
                    sources.append(found)
            known = self._known_checksums()
            total = len(sources)
            outcomes = self._outcomes(sources, walker.scratch, known, workers, cancelled)
            for done, outcome in enumerate(outcomes, 1):
                self._store(outcome, report)
                if progress:
                    progress(done, total, outcome.source.display)
            report.cancelled = bool(cancelled and cancelled())
        return report

    def _known_checksums(self) -> frozenset[str]:
        with self.db.session() as session:
            rows = session.scalars(
                select(ProviderRecord.checksum).where(
                    ProviderRecord.provider == ProviderName.FILE,
                    ProviderRecord.checksum.is_not(None),
                )
            )
            return frozenset(c for c in rows if c)

    def _outcomes(
        self,
        sources: list[Source],
        scratch: Path,
        known: frozenset[str],
        workers: int | None,
        cancelled: CancelCheck | None,
    ) -> Iterable[Outcome]:
        workers = workers or os.cpu_count() or 1
        if workers < 2 or len(sources) < PARALLEL_THRESHOLD:
            for source in sources:
                if cancelled and cancelled():
                    return
                yield prepare(source, scratch, self.budget, known)
            return
        with _pool(workers, known) as pool:
            futures: list[Future[Outcome]] = [
                pool.submit(prepare_in_worker, source, str(scratch), self.budget)
                for source in sources
            ]
            try:
                for future in as_completed(futures):
                    if cancelled and cancelled():
                        break
                    yield future.result()
            finally:
                # Copies of files decoded but never stored stay in the run's scratch folder,
                # which the walker removes.
                pool.shutdown(wait=True, cancel_futures=True)

    def _store(self, outcome: Outcome, report: ImportReport) -> None:
        display = outcome.source.display
        if isinstance(outcome, Unreadable):
            report.failed.append(FailedItem(display, outcome.error))
            return
        target: Path | None = None
        try:
            with self.db.session() as session:
                existing = _records_with_checksum(session, outcome.checksum)
                if existing:
                    report.duplicates.extend(_item(display, r) for r in existing)
                    return
                if isinstance(outcome, AlreadyKnown):  # known when the batch began, gone since
                    report.failed.append(FailedItem(display, "deleted during the import; retry"))
                    return
                target = self._archive_path(outcome)
                records = _store_records(session, outcome, target)
                session.flush()
                shutil.move(outcome.temp_path, target)
        except BaseException:
            if target is not None:
                target.unlink(missing_ok=True)
            raise
        finally:
            if isinstance(outcome, Prepared):
                Path(outcome.temp_path).unlink(missing_ok=True)
        report.imported.extend(_item(display, r) for r in records)

    def _archive_path(self, prepared: Prepared) -> Path:
        """Where the original bytes go: by month, under their own name, never over another file."""
        first = prepared.summaries[0]
        folder = self.archive_dir / f"{first.start_utc:%Y}" / f"{first.start_utc:%m}"
        folder.mkdir(parents=True, exist_ok=True)
        name = _safe_name(prepared.source.display, first)
        target = folder / name
        if target.exists():
            stem, dot, suffix = name.partition(".")
            target = folder / f"{stem}-{prepared.checksum[:10]}{dot}{suffix}"
        return target


def _pool(workers: int, known: frozenset[str]) -> Executor:
    methods = multiprocessing.get_all_start_methods()
    # forkserver forks from a clean process (no threads, no Qt) and is cheap; spawn elsewhere.
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        context.set_forkserver_preload(["tracekit.files.prepare"])
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=init_worker, initargs=(known,)
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def _safe_name(display: str, summary: ActivitySummary) -> str:
    base = display.replace("\\", "/").rsplit("/", 1)[-1]
    if base.lower().endswith(".gz"):
        base = base[:-3]
    base = _UNSAFE.sub("_", base).strip(" .")[:120]
    if not base or "." not in base:
        base = f"{summary.start_utc:%Y-%m-%dT%H%M%S}.{summary.format.value}"
    return base


def _records_with_checksum(session: Session, checksum: str) -> list[ProviderRecord]:
    return list(
        session.scalars(
            select(ProviderRecord)
            .where(ProviderRecord.provider == ProviderName.FILE)
            .where(ProviderRecord.checksum == checksum)
            .order_by(ProviderRecord.id)
        )
    )


def _store_records(session: Session, prepared: Prepared, target: Path) -> list[ProviderRecord]:
    now = datetime.now(UTC)
    records = []
    for index, summary in enumerate(prepared.summaries):
        provider_id = prepared.checksum if index == 0 else f"{prepared.checksum}:{index}"
        record = record_from_summary(summary, provider_id, now)
        record.checksum = prepared.checksum
        record.file_path = str(target)
        activity = Activity(created_at=now)
        record.activity = activity
        refresh_activity(activity, [record], now)
        session.add_all([activity, record])
        records.append(record)
    return records


def record_from_summary(
    summary: ActivitySummary, provider_id: str, now: datetime
) -> ProviderRecord:
    return ProviderRecord(
        provider=ProviderName.FILE,
        provider_id=provider_id,
        start_utc=summary.start_utc,
        timezone=summary.timezone,
        start_local=summary.start_local,
        date_only=False,
        elapsed_s=summary.elapsed_s,
        moving_s=summary.moving_s,
        distance_m=summary.distance_m,
        sport=summary.sport,
        raw_type=summary.raw_type,
        name=summary.name,
        device=summary.device,
        avg_hr=summary.avg_hr,
        max_hr=summary.max_hr,
        ascent_m=summary.ascent_m,
        calories=summary.calories,
        start_lat=summary.start_lat,
        start_lon=summary.start_lon,
        track=[list(p) for p in summary.track] or None,
        payload={
            "format": summary.format.value,
            "legs": [
                {
                    "sport": leg.sport.value,
                    "raw_type": leg.raw_type,
                    "start_utc": leg.start_utc.isoformat(),
                    "elapsed_s": leg.elapsed_s,
                    "distance_m": leg.distance_m,
                }
                for leg in summary.legs
            ],
        },
        fetched_at=now,
        changed_at=now,
    )


def _item(display: str, record: ProviderRecord) -> ImportedItem:
    assert record.activity_id is not None and record.start_utc is not None
    return ImportedItem(
        file=display,
        activity_id=record.activity_id,
        record_id=record.id,
        start_utc=record.start_utc,
        sport=record.sport.value,
        distance_m=record.distance_m,
        elapsed_s=record.elapsed_s,
    )
