"""Storing what an export says about activities and gear as provider records.

A small upsert of `RemoteActivity` → `ProviderRecord` (and `RemoteGear` → `ProviderGear`),
private to the export import until the sync engine's own upsert exists to fold it into.
Records are keyed by (provider, provider id), so an export and a later API sync of the same
account update one record instead of making two.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracekit.providers.base import RemoteActivity, RemoteGear
from tracekit.providers.names import ProviderName
from tracekit.sports import Sport
from tracekit.store.canonical import refresh_activity
from tracekit.store.models import Activity, ProviderGear, ProviderRecord

# RemoteActivity field → ProviderRecord column of the same name.
FIELDS = (
    "start_utc",
    "timezone",
    "start_local",
    "date_only",
    "elapsed_s",
    "moving_s",
    "distance_m",
    "sport",
    "raw_type",
    "name",
    "description",
    "gear_id",
    "device",
    "avg_hr",
    "max_hr",
    "ascent_m",
    "calories",
    "start_lat",
    "start_lon",
    "external_id",
)
_TIME_FIELDS = frozenset({"start_utc", "timezone", "start_local", "date_only"})


class Upserted(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One activity to store, with what RemoteActivity cannot carry."""

    activity: RemoteActivity
    gear_name: str | None = None


def existing_records(
    session: Session, provider: ProviderName, ids: Iterable[str]
) -> dict[str, ProviderRecord]:
    wanted = list(dict.fromkeys(ids))
    found: dict[str, ProviderRecord] = {}
    for start in range(0, len(wanted), 500):
        rows = session.scalars(
            select(ProviderRecord).where(
                ProviderRecord.provider == provider,
                ProviderRecord.provider_id.in_(wanted[start : start + 500]),
            )
        )
        found.update((r.provider_id, r) for r in rows)
    return found


def upsert_record(
    session: Session,
    provider: ProviderName,
    incoming: Incoming,
    now: datetime,
    existing: ProviderRecord | None,
    *,
    fill_only: bool = False,
) -> tuple[ProviderRecord, Upserted]:
    """Create the record, or bring it up to date.

    `fill_only`: the stored record came from a fresher source (the provider's API), so only
    its empty fields are filled and its evidence extended; nothing it has is overwritten.
    """
    remote = incoming.activity
    if existing is None:
        record = ProviderRecord(
            provider=provider,
            provider_id=remote.provider_id,
            **{name: getattr(remote, name) for name in FIELDS},
            gear_name=incoming.gear_name,
            evidence=sorted(remote.evidence) or None,
            payload=remote.payload or None,
            fetched_at=now,
            changed_at=now,
        )
        activity = Activity(created_at=now)
        record.activity = activity
        refresh_activity(activity, [record], now)
        session.add_all([activity, record])
        return record, Upserted.CREATED
    record = existing
    changed: set[str] = set()
    values: dict[str, Any] = {name: getattr(remote, name) for name in FIELDS}
    values["gear_name"] = incoming.gear_name
    for name, new in values.items():
        old = getattr(record, name)
        if fill_only and not _empty(name, old):
            continue
        if fill_only and new is None:
            continue
        if fill_only and name in _TIME_FIELDS and record.start_utc is not None:
            continue
        if old != new:
            setattr(record, name, new)
            changed.add(name)
    evidence = set(record.evidence or ()) | remote.evidence
    if evidence != set(record.evidence or ()):
        record.evidence = sorted(evidence)
        changed.add("evidence")
    if not fill_only and remote.payload:
        record.payload = remote.payload
    record.fetched_at = now
    if not changed:
        return record, Upserted.UNCHANGED
    record.changed_at = now
    if record.activity is not None:
        refresh_activity(record.activity, record.activity.records, now)
    return record, Upserted.UPDATED


def _empty(name: str, value: Any) -> bool:
    if name == "sport":
        return value is None or value is Sport.OTHER
    if name == "date_only":
        return False
    return value is None


def add_evidence(record: ProviderRecord, key: str) -> bool:
    """Give a record one more evidence key; True when it did not have it yet."""
    keys = set(record.evidence or ())
    if key in keys:
        return False
    record.evidence = sorted(keys | {key})
    return True


def gear_name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def upsert_gear(
    session: Session, provider: ProviderName, gear: RemoteGear, payload: dict[str, Any] | None
) -> tuple[ProviderGear, Upserted]:
    """By provider gear id; an export's gear without an id (a `export:` placeholder) is matched
    to the provider's gear of the same name when the API already delivered it."""
    found = session.scalar(
        select(ProviderGear).where(
            ProviderGear.provider == provider,
            ProviderGear.provider_gear_id == gear.provider_gear_id,
        )
    )
    if found is None and gear.provider_gear_id.startswith(PLACEHOLDER_PREFIX):
        wanted = gear_name_key(gear.name)
        found = next(
            (
                g
                for g in session.scalars(
                    select(ProviderGear).where(ProviderGear.provider == provider)
                )
                if gear_name_key(g.name) == wanted
            ),
            None,
        )
    if found is None:
        created = ProviderGear(
            provider=provider,
            provider_gear_id=gear.provider_gear_id,
            name=gear.name,
            kind=gear.kind,
            retired=gear.retired,
            payload=payload,
        )
        session.add(created)
        return created, Upserted.CREATED
    changed = False
    for name, value in (("kind", gear.kind), ("retired", gear.retired)):
        if value is not None and getattr(found, name) != value:
            setattr(found, name, value)
            changed = True
    return found, Upserted.UPDATED if changed else Upserted.UNCHANGED


# Gear an export names but cannot identify (Strava's export has names, no gear ids).
PLACEHOLDER_PREFIX = "export:"
