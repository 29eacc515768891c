"""User settings, stored as key → JSON rows in the database so the CLI and the window agree."""

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tracekit.providers.names import ProviderName
from tracekit.store.models import Setting
from tracekit.units import UnitSystem

# Which provider's value wins, first to last. A value the user typed in their own log comes
# first; Strava is last and write-only by default (its API terms forbid using its data as a
# source for other services).
DEFAULT_PRIORITY = (
    ProviderName.SPREADSHEET,
    ProviderName.RIDEWITHGPS,
    ProviderName.INTERVALSICU,
    ProviderName.GARMIN,
    ProviderName.FILE,
    ProviderName.STRAVA,
)


@dataclass(frozen=True, slots=True)
class Settings:
    provider_priority: tuple[ProviderName, ...] = DEFAULT_PRIORITY
    write_only: frozenset[ProviderName] = frozenset({ProviderName.STRAVA})
    units: UnitSystem = UnitSystem.METRIC
    home_timezone: str | None = None  # for date-only records (a spreadsheet's dates)
    sync_interval_minutes: int = 60
    auto_approve: frozenset[str] = field(default_factory=frozenset)  # change kinds; off by default

    def rank(self, provider: ProviderName) -> int:
        """Position in the priority order (lower wins); unknown providers come last."""
        try:
            return self.provider_priority.index(provider)
        except ValueError:
            return len(self.provider_priority)

    def is_source(self, provider: ProviderName) -> bool:
        return provider not in self.write_only


def load_settings(session: Session) -> Settings:
    stored = {row.key: row.value for row in session.query(Setting).all()}
    defaults = Settings()
    return Settings(
        provider_priority=tuple(
            ProviderName(p) for p in stored.get("provider_priority", defaults.provider_priority)
        ),
        write_only=frozenset(
            ProviderName(p) for p in stored.get("write_only", defaults.write_only)
        ),
        units=UnitSystem(stored.get("units", defaults.units)),
        home_timezone=stored.get("home_timezone", defaults.home_timezone),
        sync_interval_minutes=int(
            stored.get("sync_interval_minutes", defaults.sync_interval_minutes)
        ),
        auto_approve=frozenset(stored.get("auto_approve", defaults.auto_approve)),
    )


def save_settings(session: Session, settings: Settings) -> None:
    for key, value in asdict(settings).items():
        session.merge(Setting(key=key, value=_jsonable(value)))


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(str(v) for v in value)
    if isinstance(value, tuple):
        return [str(v) for v in value]
    return value
