"""A simulated provider for the demo database, so a new user can try review → apply → undo
without any account.

Its "remote side" is the demo's own stored records: a rename changes the record as the real
provider's read-back would. It is only ever connected in the demo database (`tracekit demo`
marks the demo's providers), and the window labels those providers as simulated.
"""

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tracekit.providers.base import Capability, Provider, ProviderError, RemoteActivity
from tracekit.providers.names import ProviderName
from tracekit.store.models import ProviderGear, ProviderRecord

DEMO_CAPABILITIES = frozenset(
    {Capability.READ, Capability.RENAME, Capability.SET_DESCRIPTION, Capability.SET_GEAR}
)


class DemoProvider(Provider):
    capabilities = DEMO_CAPABILITIES

    def __init__(self, name: ProviderName, engine: Engine) -> None:
        self.name = name
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def pull(self, since: datetime | None, until: datetime | None) -> Iterator[RemoteActivity]:
        return iter(())  # the demo's history is already all there

    def fetch(self, provider_id: str) -> RemoteActivity:
        with self._sessions.begin() as session:
            record = self._record(session, provider_id)
            return RemoteActivity(
                provider_id=record.provider_id,
                start_utc=record.start_utc,
                sport=record.sport,
                raw_type=record.raw_type,
                start_local=record.start_local,
                timezone=record.timezone,
                date_only=bool(record.date_only),
                elapsed_s=record.elapsed_s,
                moving_s=record.moving_s,
                distance_m=record.distance_m,
                name=record.name,
                description=record.description,
                gear_id=record.gear_id,
                device=record.device,
                avg_hr=record.avg_hr,
                max_hr=record.max_hr,
                ascent_m=record.ascent_m,
                calories=record.calories,
                start_lat=record.start_lat,
                start_lon=record.start_lon,
                external_id=record.external_id,
                evidence=frozenset(record.evidence or ()),
                payload=dict(record.payload or {}),
            )

    def rename(self, provider_id: str, name: str) -> None:
        with self._sessions.begin() as session:
            self._record(session, provider_id).name = name

    def set_description(self, provider_id: str, description: str) -> None:
        with self._sessions.begin() as session:
            self._record(session, provider_id).description = description

    def set_gear(self, provider_id: str, gear_id: str | None) -> None:
        with self._sessions.begin() as session:
            record = self._record(session, provider_id)
            gear = session.scalars(
                select(ProviderGear).where(
                    ProviderGear.provider == self.name, ProviderGear.provider_gear_id == gear_id
                )
            ).one_or_none()
            if gear_id is not None and gear is None:
                raise ProviderError(self.name, f"no gear with id {gear_id}")
            record.gear_id = gear_id
            record.gear_name = gear.name if gear else None

    def _record(self, session: Session, provider_id: str) -> ProviderRecord:
        record = session.scalars(
            select(ProviderRecord).where(
                ProviderRecord.provider == self.name, ProviderRecord.provider_id == provider_id
            )
        ).one_or_none()
        if record is None:
            raise ProviderError(self.name, f"activity {provider_id} not found")
        return record
