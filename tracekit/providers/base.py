"""The one interface every provider sits behind, with the capabilities it declares.

Reading is free; every write method is called only by `tracekit.apply`, after the user approved
that exact change. A provider raises `ProviderError` (or a subclass) with a message naming the
provider and what went wrong; it never sleeps to wait out a rate limit.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from tracekit.providers.names import ProviderName
from tracekit.sports import Sport


class Capability(StrEnum):
    READ = "read"
    RENAME = "rename"
    SET_DESCRIPTION = "set_description"
    SET_GEAR = "set_gear"
    UPLOAD = "upload"
    ADD_ENTRY = "add_entry"  # a provider of values, not files (a training log): add a row
    DOWNLOAD_ORIGINAL = "download_original"


@dataclass(frozen=True, slots=True)
class RemoteActivity:
    """One activity as a provider returns it, already in SI units and UTC."""

    provider_id: str
    start_utc: datetime | None
    sport: Sport
    raw_type: str | None = None
    start_local: datetime | None = None
    timezone: str | None = None
    date_only: bool = False
    elapsed_s: float | None = None
    moving_s: float | None = None
    distance_m: float | None = None
    name: str | None = None
    description: str | None = None
    gear_id: str | None = None
    device: str | None = None
    avg_hr: float | None = None
    max_hr: float | None = None
    ascent_m: float | None = None
    calories: float | None = None
    start_lat: float | None = None
    start_lon: float | None = None
    external_id: str | None = None
    evidence: frozenset[str] = frozenset()
    payload: dict[str, Any] = field(default_factory=dict)
    # Fields this answer did not carry (a list view without descriptions, say): what is stored
    # for them stays, so a sync never erases a value and brings the same proposal back.
    unknown: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RemoteGear:
    provider_gear_id: str
    name: str
    kind: str | None = None
    retired: bool = False


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A session to add to a provider that keeps entries, not files (a training log).

    `evidence` holds other providers' ids of the session ("strava:123"), which the provider
    stores where it can so the new entry links to them on the next pull.
    """

    sport: Sport
    start_utc: datetime | None = None
    start_local: datetime | None = None
    timezone: str | None = None
    date_only: bool = False
    elapsed_s: float | None = None
    distance_m: float | None = None
    name: str | None = None
    description: str | None = None
    gear_name: str | None = None
    evidence: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class UploadResult:
    """Where an uploaded file ended up: a new activity, or one the provider already had."""

    provider_id: str
    duplicate: bool = False


class ProviderError(Exception):
    """A provider failed; the message is shown to the user as it is."""

    def __init__(self, provider: ProviderName, message: str) -> None:
        super().__init__(f"{provider.label}: {message}")
        self.provider = provider


class RateLimited(ProviderError):
    def __init__(self, provider: ProviderName, until: datetime, message: str = "") -> None:
        super().__init__(provider, message or f"rate limited until {until:%H:%M} UTC")
        self.until = until


class ReconnectNeeded(ProviderError):
    pass


class Provider(ABC):
    name: ProviderName
    capabilities: frozenset[Capability]
    # Read whole on every sync: a source with no "changed since" (a training log is small, and an
    # edit to last year's row must be seen).
    pulls_whole: bool = False

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @abstractmethod
    def pull(self, since: datetime | None, until: datetime | None) -> Iterator[RemoteActivity]:
        """Activities starting in [since, until), newest first or oldest first."""

    def gear(self) -> list[RemoteGear]:
        return []

    @abstractmethod
    def fetch(self, provider_id: str) -> RemoteActivity:
        """One activity, read back fresh (after a write)."""

    def rename(self, provider_id: str, name: str) -> None:
        raise self._unsupported(Capability.RENAME)

    def set_description(self, provider_id: str, description: str) -> None:
        raise self._unsupported(Capability.SET_DESCRIPTION)

    def set_gear(self, provider_id: str, gear_id: str | None) -> None:
        raise self._unsupported(Capability.SET_GEAR)

    def upload(self, path: Path, name: str | None, external_id: str) -> UploadResult:
        raise self._unsupported(Capability.UPLOAD)

    def add_entry(self, entry: NewEntry) -> UploadResult:
        raise self._unsupported(Capability.ADD_ENTRY)

    def download_original(self, provider_id: str, folder: Path) -> Path:
        raise self._unsupported(Capability.DOWNLOAD_ORIGINAL)

    def _unsupported(self, capability: Capability) -> ProviderError:
        return ProviderError(self.name, f"cannot {capability.value.replace('_', ' ')}")
