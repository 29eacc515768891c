"""What the user reviews: each session's records side by side, and the changes proposed for it.

One read model for `tracekit review` and the window's diff dialog, so both show the same thing.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracekit.changes import ProposedChange
from tracekit.proposals import propose_all
from tracekit.providers.base import Capability
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings
from tracekit.store.models import Activity, ProviderRecord, ReviewFlag


@dataclass(frozen=True, slots=True)
class RecordView:
    record_id: int
    provider: ProviderName
    provider_id: str
    name: str | None
    start_local: datetime | None
    start_utc: datetime | None
    date_only: bool
    distance_m: float | None
    elapsed_s: float | None
    gear: str | None
    link: str | None  # why the matcher (or the user) put this record here

    def as_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "provider": self.provider.value,
            "provider_id": self.provider_id,
            "name": self.name,
            "start_local": self.start_local.isoformat() if self.start_local else None,
            "start_utc": self.start_utc.isoformat() if self.start_utc else None,
            "date_only": self.date_only,
            "distance_m": self.distance_m,
            "elapsed_s": self.elapsed_s,
            "gear": self.gear,
            "link": self.link,
        }


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    activity_id: int
    local_date: date
    name: str | None
    sport: str
    records: tuple[RecordView, ...]
    changes: tuple[ProposedChange, ...]
    flags: tuple[str, ...]
    dismissed: tuple[ProposedChange, ...]  # would be proposed, but the user dismissed them

    def as_json(self) -> dict[str, Any]:
        return {
            "activity_id": self.activity_id,
            "date": self.local_date.isoformat(),
            "name": self.name,
            "sport": self.sport,
            "records": [r.as_json() for r in self.records],
            "changes": [change_json(c) for c in self.changes],
            "flags": list(self.flags),
            "dismissed": [change_json(c) for c in self.dismissed],
        }


def change_json(change: ProposedChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "kind": change.kind.value,
        "provider": change.provider.value,
        "record_id": change.record_id,
        "field": change.field.value if change.field else None,
        "old_value": change.old_value,
        "new_value": change.new_value,
        "source": change.source,
        "reason": change.reason,
    }


def build_review(
    session: Session,
    start: date,
    end: date,
    settings: Settings,
    capabilities: Mapping[ProviderName, frozenset[Capability]],
) -> list[ReviewEntry]:
    activities = list(
        session.scalars(
            select(Activity)
            .where(Activity.local_date.between(start, end))
            .options(selectinload(Activity.records))
            .order_by(Activity.local_date, Activity.start_utc, Activity.id)
        )
    )
    found = propose_all(session, [a.id for a in activities], settings, capabilities)
    changes: dict[int, list[ProposedChange]] = {}
    for change in found.proposed:
        changes.setdefault(change.activity_id, []).append(change)
    dismissed: dict[int, list[ProposedChange]] = {}
    for change in found.dismissed:
        dismissed.setdefault(change.activity_id, []).append(change)
    flags = _flags_by_record(session, activities)
    return [
        ReviewEntry(
            activity_id=activity.id,
            local_date=activity.local_date,
            name=activity.name,
            sport=activity.sport.value,
            records=tuple(_view(r) for r in sorted(activity.records, key=_record_order)),
            changes=tuple(changes.get(activity.id, ())),
            flags=tuple(sorted({m for r in activity.records for m in flags.get(r.id, ())})),
            dismissed=tuple(dismissed.get(activity.id, ())),
        )
        for activity in activities
    ]


def _record_order(record: ProviderRecord) -> tuple[str, str]:
    return (record.provider.value, record.provider_id)


def _view(record: ProviderRecord) -> RecordView:
    explanation = record.link_explanation or {}
    return RecordView(
        record_id=record.id,
        provider=record.provider,
        provider_id=record.provider_id,
        name=record.name,
        start_local=record.start_local,
        start_utc=record.start_utc,
        date_only=bool(record.date_only),
        distance_m=record.distance_m,
        elapsed_s=record.elapsed_s,
        gear=record.gear_name,
        link=explanation.get("summary"),
    )


def _flags_by_record(session: Session, activities: list[Activity]) -> dict[int, list[str]]:
    ids = {r.id for a in activities for r in a.records}
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    for flag in session.scalars(select(ReviewFlag)):
        for record_id in flag.record_ids:
            if record_id in ids:
                found.setdefault(record_id, []).append(flag.message)
    return found
