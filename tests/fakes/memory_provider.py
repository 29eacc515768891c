"""A provider service kept in memory: a fake of the external service, never of our code.

It behaves like the real services in the ways Tracekit relies on — writes change what `fetch`
reads back, an upload of a session it already has is reported as a duplicate of that activity,
an original file is a real FIT file — and it records every call so a test can assert exactly
what was sent.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from tracekit.files.decode import decode
from tracekit.files.fit_writer import write_activity
from tracekit.providers.base import (
    Capability,
    Provider,
    ProviderError,
    RemoteActivity,
    RemoteGear,
    UploadResult,
)
from tracekit.providers.names import ProviderName
from tracekit.sports import Sport

WRITE_METHODS = frozenset({"rename", "set_description", "set_gear", "upload"})
SAME_START = timedelta(
    seconds=60
)  # how close two starts are for the service to call it a duplicate

# Tracekit sport → FIT (sport, sub_sport) for generated original files.
_FIT_SPORTS: dict[Sport, tuple[str, str | None]] = {
    Sport.RIDE: ("cycling", None),
    Sport.GRAVEL_RIDE: ("cycling", "gravel_cycling"),
    Sport.MOUNTAIN_BIKE: ("cycling", "mountain"),
    Sport.VIRTUAL_RIDE: ("cycling", "virtual_activity"),
    Sport.RUN: ("running", None),
    Sport.TRAIL_RUN: ("running", "trail"),
    Sport.SWIM: ("swimming", None),
    Sport.WALK: ("walking", None),
    Sport.HIKE: ("hiking", None),
}


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    args: tuple[object, ...]


class MemoryProvider(Provider):
    def __init__(
        self,
        name: ProviderName,
        capabilities: Iterable[Capability],
        activities: dict[str, RemoteActivity] | None = None,
        gear: Iterable[RemoteGear] = (),
    ) -> None:
        self.name = name
        self.capabilities = frozenset(capabilities)
        self.activities: dict[str, RemoteActivity] = dict(activities or {})
        self.gear_list = list(gear)
        self.calls: list[Call] = []
        self.writes: list[Call] = []
        # Called with each write call before it takes effect (a test can look at the store).
        self.before_write: Callable[[Call], None] | None = None
        self._failures: dict[str, Exception] = {}
        self._uploaded = 0

    def fail_next(self, method: str, error: Exception) -> None:
        """The next call of `method` raises `error` (a ProviderError, as a service would)."""
        self._failures[method] = error

    def pull(self, since: datetime | None, until: datetime | None) -> Iterator[RemoteActivity]:
        self._called("pull", since, until)
        for activity in sorted(self.activities.values(), key=lambda a: a.provider_id):
            start = activity.start_utc
            after = since is None or (start is not None and start >= since)
            before = until is None or (start is not None and start < until)
            if after and before:
                yield activity

    def gear(self) -> list[RemoteGear]:
        self._called("gear")
        return list(self.gear_list)

    def fetch(self, provider_id: str) -> RemoteActivity:
        self._called("fetch", provider_id)
        return self._get(provider_id)

    def rename(self, provider_id: str, name: str) -> None:
        self._write(Capability.RENAME, "rename", provider_id, name)
        self.activities[provider_id] = replace(self._get(provider_id), name=name)

    def set_description(self, provider_id: str, description: str) -> None:
        self._write(Capability.SET_DESCRIPTION, "set_description", provider_id, description)
        self.activities[provider_id] = replace(
            self._get(provider_id), description=description or None
        )

    def set_gear(self, provider_id: str, gear_id: str | None) -> None:
        self._write(Capability.SET_GEAR, "set_gear", provider_id, gear_id)
        self.activities[provider_id] = replace(self._get(provider_id), gear_id=gear_id)

    def upload(self, path: Path, name: str | None, external_id: str) -> UploadResult:
        self._write(Capability.UPLOAD, "upload", path, name, external_id)
        with path.open("rb") as stream:
            summary = decode(stream, path.name)[0]
        for existing in self.activities.values():
            if existing.start_utc and abs(existing.start_utc - summary.start_utc) <= SAME_START:
                return UploadResult(provider_id=existing.provider_id, duplicate=True)
        self._uploaded += 1
        provider_id = f"{self.name.value}-upload-{self._uploaded}"
        self.activities[provider_id] = RemoteActivity(
            provider_id=provider_id,
            start_utc=summary.start_utc,
            sport=summary.sport,
            elapsed_s=summary.elapsed_s,
            distance_m=summary.distance_m,
            name=name or "Morning Activity",
            external_id=external_id,
        )
        return UploadResult(provider_id=provider_id)

    def download_original(self, provider_id: str, folder: Path) -> Path:
        self._require(Capability.DOWNLOAD_ORIGINAL)
        self._called("download_original", provider_id, folder)
        activity = self._get(provider_id)
        if activity.start_utc is None:
            raise ProviderError(self.name, f"activity {provider_id} has no original file")
        sport, sub_sport = _FIT_SPORTS.get(activity.sport, ("generic", None))
        path = folder / f"{self.name.value}_{provider_id}.fit"
        write_activity(
            path,
            start_utc=activity.start_utc,
            sport=sport,
            sub_sport=sub_sport,
            elapsed_s=activity.elapsed_s or 3600.0,
            distance_m=activity.distance_m,
        )
        return path

    def _get(self, provider_id: str) -> RemoteActivity:
        try:
            return self.activities[provider_id]
        except KeyError:
            raise ProviderError(self.name, f"no activity {provider_id}") from None

    def _require(self, capability: Capability) -> None:
        if not self.can(capability):
            raise self._unsupported(capability)

    def _write(self, capability: Capability, method: str, *args: object) -> None:
        self._require(capability)
        if self.before_write is not None:
            self.before_write(Call(method, args))
        self._called(method, *args)

    def _called(self, method: str, *args: object) -> None:
        call = Call(method, args)
        self.calls.append(call)
        if method in WRITE_METHODS:
            self.writes.append(call)
        failure = self._failures.pop(method, None)
        if failure is not None:
            raise failure
