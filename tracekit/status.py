"""What is in the store and how each provider is doing: for `tracekit status` and the window."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from tracekit.providers.names import ProviderName
from tracekit.store.engine import Database
from tracekit.store.migrate import current_revision
from tracekit.store.models import Activity, ProviderRecord, ProviderStatus, SyncState


@dataclass(frozen=True, slots=True)
class ProviderSummary:
    provider: ProviderName
    records: int
    last_sync_at: datetime | None
    state: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class StoreStatus:
    database: str
    schema_revision: str | None
    activities: int
    providers: tuple[ProviderSummary, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "schema_revision": self.schema_revision,
            "activities": self.activities,
            "providers": {
                p.provider.value: {
                    "records": p.records,
                    "last_sync_at": p.last_sync_at.isoformat() if p.last_sync_at else None,
                    "state": p.state,
                    "error": p.error,
                }
                for p in self.providers
            },
        }


def store_status(db: Database) -> StoreStatus:
    with db.session() as session:
        counts: dict[ProviderName, int] = {
            provider: count
            for provider, count in session.execute(
                select(ProviderRecord.provider, func.count()).group_by(ProviderRecord.provider)
            ).all()
        }
        syncs = {s.provider: s for s in session.scalars(select(SyncState))}
        statuses = {s.provider: s for s in session.scalars(select(ProviderStatus))}
        activities = session.scalar(select(func.count()).select_from(Activity)) or 0
    providers = tuple(
        ProviderSummary(
            provider=name,
            records=counts.get(name, 0),
            last_sync_at=syncs[name].last_sync_at if name in syncs else None,
            state=statuses[name].state.value if name in statuses else None,
            error=statuses[name].error if name in statuses else None,
        )
        for name in ProviderName
        if name in counts or name in syncs or name in statuses
    )
    return StoreStatus(
        database=_describe(db.url),
        schema_revision=current_revision(db.engine),
        activities=activities,
        providers=providers,
    )


def _describe(url: str) -> str:
    """The database location without any password that a URL may carry."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
