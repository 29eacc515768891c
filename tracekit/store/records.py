"""Turning what a provider returned into a stored record: one mapping for sync and apply."""

from datetime import datetime
from typing import Any

from tracekit.providers.base import RemoteActivity
from tracekit.store.models import ProviderRecord


def clip(value: str | None, length: int) -> str | None:
    """Fit a provider's text into its column (a 300-character title must not fail a write)."""
    return value[:length] if value is not None else None


def remote_values(remote: RemoteActivity, gear_name: str | None) -> dict[str, Any]:
    """The record columns a RemoteActivity fills (gear by id, with its name when known)."""
    return {
        "start_utc": remote.start_utc,
        "timezone": clip(remote.timezone, 64),
        "start_local": remote.start_local,
        "date_only": remote.date_only,
        "elapsed_s": remote.elapsed_s,
        "moving_s": remote.moving_s,
        "distance_m": remote.distance_m,
        "sport": remote.sport,
        "raw_type": clip(remote.raw_type, 64),
        "name": clip(remote.name, 255),
        "description": remote.description,
        "gear_id": clip(remote.gear_id, 128),
        "gear_name": clip(gear_name, 255),
        "device": clip(remote.device, 128),
        "avg_hr": remote.avg_hr,
        "max_hr": remote.max_hr,
        "ascent_m": remote.ascent_m,
        "calories": remote.calories,
        "start_lat": remote.start_lat,
        "start_lon": remote.start_lon,
        "external_id": clip(remote.external_id, 255),
        "evidence": sorted(remote.evidence) or None,
        "payload": remote.payload or None,
    }


def update_from_remote(
    record: ProviderRecord, remote: RemoteActivity, gear_name: str | None, now: datetime
) -> bool:
    """Make the record what the provider returned; `changed_at` moves only if anything did."""
    record.fetched_at = now
    values = remote_values(remote, gear_name)
    for unknown in remote.unknown:
        values.pop(unknown, None)
        if unknown == "gear_id":
            values.pop("gear_name", None)
    # Evidence only grows: a link an export or a file import attached must survive a re-sync.
    values["evidence"] = sorted(set(record.evidence or ()) | set(remote.evidence)) or None
    changes = {key: value for key, value in values.items() if getattr(record, key) != value}
    for key, value in changes.items():
        setattr(record, key, value)
    if changes:
        record.changed_at = now
    return bool(changes)
