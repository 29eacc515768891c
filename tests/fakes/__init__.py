"""Fakes of external services, and a store seeded the way a provider sync leaves it."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tests.fakes.memory_provider import Call, MemoryProvider
from tracekit.files.fit_writer import write_activity
from tracekit.files.importer import FileImporter
from tracekit.providers.base import RemoteActivity
from tracekit.providers.names import ProviderName
from tracekit.sports import Sport
from tracekit.store.canonical import refresh_activity
from tracekit.store.engine import Database
from tracekit.store.models import Activity, LinkOrigin, ProviderRecord

__all__ = [
    "NOW",
    "START",
    "Call",
    "MemoryProvider",
    "add_activity",
    "import_fit",
    "record",
    "remote",
]

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
START = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def record(provider: ProviderName, provider_id: str, **fields: Any) -> ProviderRecord:
    """A provider record of a one-hour ride starting at START, unless `fields` say otherwise."""
    values: dict[str, Any] = {
        "start_utc": START,
        "timezone": "Europe/Madrid",
        "sport": Sport.RIDE,
        "elapsed_s": 3600.0,
        "distance_m": 30000.0,
        "fetched_at": NOW,
        "changed_at": NOW,
    }
    values.update(fields)
    return ProviderRecord(provider=provider, provider_id=provider_id, **values)


def add_activity(session: Session, *records: ProviderRecord) -> Activity:
    """One activity linked to `records`, stored (ids assigned)."""
    activity = Activity(created_at=NOW)
    for linked in records:
        linked.activity = activity
        linked.link_origin = LinkOrigin.MATCHER
    refresh_activity(activity, list(records), NOW)
    session.add(activity)
    session.add_all(records)
    session.flush()
    return activity


def remote(source: ProviderRecord) -> RemoteActivity:
    """What the provider's service holds for a record."""
    return RemoteActivity(
        provider_id=source.provider_id,
        start_utc=source.start_utc,
        sport=source.sport,
        elapsed_s=source.elapsed_s,
        distance_m=source.distance_m,
        name=source.name,
        description=source.description,
        gear_id=source.gear_id,
        timezone=source.timezone,
    )


def import_fit(db: Database, archive_dir: Path, folder: Path, start: datetime = START) -> int:
    """Import a generated one-hour ride FIT file into the archive; the new FILE record's id."""
    path = folder / f"ride-{start:%Y%m%d%H%M}.fit"
    folder.mkdir(parents=True, exist_ok=True)
    write_activity(path, start_utc=start, sport="cycling", elapsed_s=3600.0, distance_m=30000.0)
    report = FileImporter(db, archive_dir).run([path], workers=1)
    assert report.imported, report.failed
    return report.imported[0].record_id
