"""Garmin Connect through its unofficial API (contract: shared/reference/provider-apis.md §2).

There is no public API for individuals: `tracekit.garmin_login` signs in once with e-mail,
password and (when asked) a verification code, and keeps the library's token store in the
keyring. This provider only ever loads that token store (no request) and lets the library
refresh the access token; a refreshed token store is handed to `on_token_store` so the keyring
keeps the newest one. It never signs in by itself: Garmin throttles sign-ins per account.
Everything that touches the garminconnect library is in `garmin_client.GarminConnectClient`.

Reading: the activity list is filtered by *local* start dates (inclusive), newest first, 20 a
page (`start` += 20) until an empty page, so a UTC range is widened by the widest zone offset
and filtered here. Times are `startTimeGMT` (UTC) and `startTimeLocal` (wall clock, no zone).
The list carries no gear: when the account has any gear, each activity's gear is read with one
more request (`filterGear?activityId`); devices are read once per session and named by
`deviceId`. Each activity's evidence is `garmin:<activityId>`, the key other providers use for
sessions that came from Garmin.

Writing (only through `tracekit.apply`): rename; set gear (Garmin links gear per activity:
the new gear is linked first, then whatever else was linked is unlinked, because Tracekit shows
one gear per activity); upload (409 = Garmin already has that file: the existing activity);
download of the original file, a zip holding one activity file, unpacked within the import
budgets.

Errors: 401 after the library's own refresh-and-retry → `ReconnectNeeded`; 429 → `RateLimited`
until Retry-After, else `API_BACKOFF` (Garmin lifts a block after about an hour and retrying
earlier re-arms it); 5xx and timeouts → a bounded number of retries, then a `ProviderError`
naming Garmin Connect. Nothing here sleeps for a rate limit.
"""

import gzip
import json
import logging
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from tracekit.credentials import Credentials, CredentialStoreUnavailable
from tracekit.files.decode import is_gzip, sniff
from tracekit.files.sources import (
    ACTIVITY_SUFFIXES,
    DEFAULT_BUDGET,
    ZIP_MAGIC,
    Budget,
    BudgetExceeded,
    copy_limited,
    member_problem,
)
from tracekit.files.summary import FileFormat
from tracekit.providers.base import (
    Capability,
    ProviderError,
    RateLimited,
    ReconnectNeeded,
    RemoteActivity,
    RemoteGear,
    UploadResult,
)
from tracekit.providers.garmin_client import (
    Answer,
    GarminClientError,
    GarminConnectClient,
    GarminFactory,
    NotSignedIn,
    TimedOut,
    TooLarge,
    Unreachable,
)
from tracekit.providers.http import MeteredProvider
from tracekit.providers.json_values import iana_zone, number, text, wall_clock
from tracekit.providers.names import ProviderName
from tracekit.providers.originals import free_path
from tracekit.ratelimit import Clock, RateBudget, RetryPolicy, parse_retry_after, utc_now
from tracekit.sports import Sport, from_label
from tracekit.timezones import as_utc

DEFAULT_PAGE_SIZE = 20  # what Garmin's own web app asks for
DEFAULT_TIMEOUT_S = 30.0
ZONE_SPREAD = timedelta(hours=14)  # wall clocks run from UTC−12 to UTC+14
HISTORY_START = date(1970, 1, 1)
MAX_PAGES = 2000  # a server that never sends the empty last page must not loop us forever
# A 429 without Retry-After: Garmin lifts its blocks after about an hour, and asking again
# earlier starts the wait over (provider-apis.md §2.3; peers.md on Garmin throttling).
API_BACKOFF = timedelta(hours=1)
TOKEN_KEY = "oauth"  # keyring entry "garmin:oauth": the library's token store (DI OAuth2)
RECONNECT = "connect again with `tracekit connect garmin`"

log = logging.getLogger(__name__)

_GEAR_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SUFFIX = {FileFormat.FIT: ".fit", FileFormat.GPX: ".gpx", FileFormat.TCX: ".tcx"}


class GarminProvider(MeteredProvider):
    name = ProviderName.GARMIN
    capabilities = frozenset(
        {
            Capability.READ,
            Capability.RENAME,
            Capability.SET_GEAR,
            Capability.UPLOAD,
            Capability.DOWNLOAD_ORIGINAL,
        }
    )

    def __init__(
        self,
        *,
        token_store: str,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        page_size: int = DEFAULT_PAGE_SIZE,
        retry: RetryPolicy | None = None,
        clock: Clock = utc_now,
        on_token_store: Callable[[str], None] | None = None,
        budget: Budget = DEFAULT_BUDGET,
        factory: GarminFactory | None = None,
    ) -> None:
        self._token_store = token_store
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout
        self.page_size = page_size
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._on_token_store = on_token_store
        self._budget = budget
        self._factory = factory
        self._api: GarminConnectClient | None = None
        self.budget = RateBudget(clock=clock, default_backoff=API_BACKOFF)
        self.requests_made = 0
        self._profile_number: str | None = None
        self._gear_items: list[dict[str, Any]] | None = None
        self._devices: dict[str, str] | None = None

    def __repr__(self) -> str:
        where = self.base_url or "connectapi.garmin.com"
        return f"GarminProvider(api={where!r})"

    def close(self) -> None:
        if self._api is not None:
            self._api.close()

    # -- HTTP ---------------------------------------------------------------------------------

    def _client(self) -> GarminConnectClient:
        """The library session, built on first use (importing the library is slow)."""
        if self._api is None:
            try:
                self._api = GarminConnectClient.from_token_store(
                    self._token_store, api_base_url=self.base_url, factory=self._factory
                )
            except NotSignedIn:
                raise ReconnectNeeded(
                    self.name, f"the saved sign-in cannot be read; {RECONNECT}"
                ) from None
            except (GarminClientError, ValueError) as error:
                raise ProviderError(self.name, str(error)) from None
        return self._api

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        sink: IO[bytes] | None = None,
    ) -> Answer:
        wait = self.budget.wait_until(read=method == "GET")
        if wait is not None:
            raise RateLimited(
                self.name, wait, f"requests are paused until {wait:%H:%M} UTC (rate limit)"
            )
        client = self._client()
        attempts = self._retry.start()
        while True:
            attempts.begin()
            self.requests_made += 1
            self.budget.spend()
            try:
                if sink is not None:
                    sink.seek(0)
                    sink.truncate()
                    answer = client.download(
                        path,
                        sink,
                        timeout=self.timeout,
                        max_bytes=self._budget.max_file_bytes,
                    )
                else:
                    answer = client.request(
                        method,
                        path,
                        timeout=self.timeout,
                        params=params,
                        json=json_body,
                        files=files,
                    )
            except TimedOut:
                log.info("%s %s timed out (attempt %d)", method, path, attempts.made)
                if attempts.retry():
                    continue
                raise ProviderError(
                    self.name,
                    f"no answer within {self.timeout:g} s after {attempts.made} attempts; "
                    "try again later",
                ) from None
            except Unreachable as error:
                log.info("%s %s failed: %s (attempt %d)", method, path, error, attempts.made)
                if attempts.retry():
                    continue
                raise ProviderError(
                    self.name,
                    f"could not reach the server ({error}) after {attempts.made} attempts; "
                    "check your connection",
                ) from None
            except NotSignedIn:
                raise ReconnectNeeded(self.name, f"not signed in; {RECONNECT}") from None
            except TooLarge as error:
                raise ProviderError(self.name, f"refused a download {error}") from None
            finally:
                self._keep_refreshed_tokens()
            status = answer.status
            log.debug("%s %s -> %d", method, path, status)
            self.budget.observe(answer.headers)
            if status in (427, 429):
                until = self.budget.rejected(answer.headers)
                raise RateLimited(
                    self.name,
                    until,
                    f"Garmin is limiting requests ({status}); try again after {until:%H:%M} UTC",
                )
            if status >= 500:
                hint = parse_retry_after(answer.headers.get("retry-after"), self._clock())
                hint_s = (hint - self._clock()).total_seconds() if hint else None
                if attempts.retry(hint_s):
                    continue
                raise ProviderError(
                    self.name,
                    f"server error {status} after {attempts.made} attempts; try again later",
                )
            if status == 401:
                raise ReconnectNeeded(
                    self.name, f"the saved sign-in was refused even after a refresh; {RECONNECT}"
                )
            return answer

    def _keep_refreshed_tokens(self) -> None:
        """Hand a token store the library refreshed to `on_token_store` (the keyring), which
        raises a `ProviderError` when it cannot keep it."""
        if self._api is None:
            return
        refreshed = self._api.take_refreshed_token_store()
        if refreshed is None:
            return
        self._token_store = refreshed
        if self._on_token_store is not None:
            self._on_token_store(refreshed)

    def _error(self, answer: Answer, subject: str | None = None) -> ProviderError:
        status = answer.status
        if status == 404 and subject is not None:
            return ProviderError(self.name, f"{subject} not found")
        if status == 403:
            return ProviderError(
                self.name,
                "access denied (403); Garmin may be blocking this network for a while, "
                f"or the sign-in lost its rights ({RECONNECT} if it persists)",
            )
        detail = _error_text(answer)
        return ProviderError(
            self.name, f"request refused ({status})" + (f": {detail}" if detail else "")
        )

    def _json(self, answer: Answer) -> Any:
        try:
            return answer.json()
        except ValueError:
            raise ProviderError(
                self.name, f"unexpected answer (HTTP {answer.status}, not JSON)"
            ) from None

    def _get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        answer = self._send("GET", path, params=params)
        if answer.status != 200:
            raise self._error(answer)
        return self._json(answer)

    # -- reading ------------------------------------------------------------------------------

    def _list(self, first: date, last: date, start: int) -> list[dict[str, Any]]:
        data = self._get_json(
            "/activitylist-service/activities/search/activities",
            {
                "startDate": first.isoformat(),
                "endDate": last.isoformat(),
                "start": start,
                "limit": self.page_size,
            },
        )
        if not isinstance(data, list):
            raise ProviderError(self.name, "unexpected answer to the activity list (not a list)")
        return [i for i in data if isinstance(i, dict) and i.get("activityId") is not None]

    def pull(self, since: datetime | None, until: datetime | None) -> Iterator[RemoteActivity]:
        """Activities starting in [since, until), newest first (by local start)."""
        since = as_utc(since) if since is not None else None
        end = as_utc(until) if until is not None else self._clock()
        first = (since - ZONE_SPREAD).date() if since is not None else HISTORY_START
        last = (end + ZONE_SPREAD).date()
        seen: set[str] = set()
        start = 0
        for _ in range(MAX_PAGES):
            page = self._list(first, last, start)
            if not page:
                return
            fresh = 0
            for item in page:
                provider_id = str(item["activityId"])
                if provider_id in seen:
                    continue
                seen.add(provider_id)
                fresh += 1
                remote = to_remote(item)
                if remote is None:
                    log.warning(
                        "Garmin Connect activity %s has no start time; skipped", provider_id
                    )
                    continue
                moment = remote.start_utc
                if moment is not None and ((since is not None and moment < since) or moment >= end):
                    continue
                yield self._complete(remote, item)
            if not fresh:
                return  # a server ignoring `start`: never loop on the same page
            start += self.page_size
        raise ProviderError(self.name, f"the activity list did not end after {MAX_PAGES} pages")

    def _complete(self, remote: RemoteActivity, item: Mapping[str, Any]) -> RemoteActivity:
        """Add what the activity itself does not carry: its device's name and its gear."""
        device = self._device_name(_list_shape(item).get("deviceId"))
        linked = self._linked_gear(remote.provider_id)
        return replace(remote, device=device, gear_id=linked[0] if linked else None)

    def _device_name(self, device_id: Any) -> str | None:
        if device_id is None or isinstance(device_id, bool):
            return None
        if self._devices is None:
            answer = self._send("GET", "/device-service/deviceregistration/devices")
            devices: dict[str, str] = {}
            data = self._json(answer) if answer.status == 200 else None
            if not isinstance(data, list):
                log.info("Garmin Connect device list unavailable (HTTP %d)", answer.status)
                data = []
            for device in data:
                if not isinstance(device, dict) or device.get("deviceId") is None:
                    continue
                label = device.get("productDisplayName") or device.get("displayName")
                if isinstance(label, str) and label:
                    devices[str(device["deviceId"])] = label
            self._devices = devices
        return self._devices.get(str(device_id))

    def _profile(self) -> str:
        """The account's profile number, which the gear list is asked by."""
        if self._profile_number is None:
            data = self._get_json("/device-service/deviceservice/mylastused")
            number = data.get("userProfileNumber") if isinstance(data, dict) else None
            if number is None:
                profile = self._get_json("/userprofile-service/socialProfile")
                number = profile.get("profileId") if isinstance(profile, dict) else None
            if number is None or isinstance(number, bool):
                raise ProviderError(self.name, "could not find the account's profile number")
            self._profile_number = str(number)
        return self._profile_number

    def _all_gear(self) -> list[dict[str, Any]]:
        data = self._get_json("/gear-service/gear/filterGear", {"userProfilePk": self._profile()})
        if not isinstance(data, list):
            raise ProviderError(self.name, "unexpected answer to the gear list (not a list)")
        self._gear_items = [g for g in data if isinstance(g, dict) and g.get("uuid")]
        return self._gear_items

    def _linked_gear(self, provider_id: str) -> list[str]:
        """The gear linked to an activity (no request when the account has no gear at all)."""
        if self._gear_items is None:
            self._all_gear()
        if not self._gear_items:
            return []
        return self._activity_gear(_activity_id(provider_id))

    def _activity_gear(self, activity_id: str) -> list[str]:
        data = self._get_json("/gear-service/gear/filterGear", {"activityId": activity_id})
        items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        return [str(g["uuid"]) for g in items if isinstance(g, dict) and g.get("uuid")]

    def gear(self) -> list[RemoteGear]:
        gear: list[RemoteGear] = []
        for item in self._all_gear():
            status = str(item.get("gearStatusName") or "").lower()
            kind = item.get("gearTypeName")
            gear.append(
                RemoteGear(
                    provider_gear_id=str(item["uuid"]),
                    name=_gear_name(item),
                    kind=str(kind) if kind else None,
                    retired=status == "retired",
                )
            )
        return gear

    def fetch(self, provider_id: str) -> RemoteActivity:
        answer = self._send("GET", f"/activity-service/activity/{_activity_id(provider_id)}")
        if answer.status != 200:
            raise self._error(answer, f"activity {provider_id}")
        item = self._json(answer)
        if not isinstance(item, dict) or item.get("activityId") is None:
            raise ProviderError(self.name, f"unexpected answer for activity {provider_id}")
        remote = to_remote(item)
        if remote is None:
            raise ProviderError(self.name, f"activity {provider_id} has no start time")
        return self._complete(remote, item)

    # -- writing (called only by tracekit.apply, after the user approved the change) ----------

    def rename(self, provider_id: str, name: str) -> None:
        activity_id = _activity_id(provider_id)
        answer = self._send(
            "PUT",
            f"/activity-service/activity/{activity_id}",
            json_body={"activityId": int(activity_id), "activityName": name},
        )
        if answer.status not in (200, 204):
            raise self._error(answer, f"activity {provider_id}")

    def set_gear(self, provider_id: str, gear_id: str | None) -> None:
        """Make `gear_id` the activity's gear (None: no gear). The new gear is linked before
        the old is unlinked, so a refused link leaves the activity as it was."""
        activity_id = _activity_id(provider_id)
        if gear_id is not None and not _GEAR_ID.fullmatch(gear_id):
            raise ProviderError(self.name, f"{gear_id!r} is not a Garmin Connect gear id")
        linked = self._activity_gear(activity_id)
        if gear_id is not None and gear_id not in linked:
            answer = self._send("PUT", f"/gear-service/gear/link/{gear_id}/activity/{activity_id}")
            if answer.status == 404:
                raise ProviderError(
                    self.name,
                    f"gear {self._gear_label(gear_id)} is retired or no longer on Garmin "
                    f"Connect, or activity {provider_id} is gone",
                )
            if answer.status != 200:
                raise self._error(answer)
        for other in linked:
            if other == gear_id:
                continue
            answer = self._send("PUT", f"/gear-service/gear/unlink/{other}/activity/{activity_id}")
            if answer.status not in (200, 404):  # 404: that gear is gone already
                raise self._error(answer)

    def _gear_label(self, gear_id: str) -> str:
        for item in self._gear_items or []:
            if str(item.get("uuid")) == gear_id:
                return f"“{_gear_name(item)}”"
        return gear_id

    def upload(self, path: Path, name: str | None, external_id: str) -> UploadResult:
        """Upload an activity file; the file is named after `external_id` (Garmin keeps the
        name as the upload's external id). A new activity gets `name`; a duplicate keeps its."""
        data = _read_upload(path, self._budget.max_file_bytes)
        found = sniff(data[:4096])
        suffix = _SUFFIX.get(found) if found else None
        if suffix is None:
            lower = path.name.lower().removesuffix(".gz")
            suffix = next((s for s in ACTIVITY_SUFFIXES if lower.endswith(s)), None)
        if suffix is None:
            raise ProviderError(self.name, f"{path.name} is not a FIT, GPX or TCX file")
        stem = _UNSAFE.sub("_", external_id).strip("._") or "tracekit"
        answer = self._send(
            "POST",
            "/upload-service/upload",
            files={"file": (f"{stem}{suffix}", data, "application/octet-stream")},
        )
        result = _import_result(answer)
        if answer.status == 409:
            existing = _first_id(result.get("failures"))
            if existing is None:
                raise ProviderError(
                    self.name,
                    "already has this activity but did not say which one; "
                    "the next sync will bring it in",
                )
            return UploadResult(provider_id=existing, duplicate=True)
        if answer.status not in (200, 201, 202):
            failure = _failure_text(result)
            if failure:
                raise ProviderError(self.name, f"refused the file ({answer.status}): {failure}")
            raise self._error(answer)
        activity_id = _first_id(result.get("successes"))
        if activity_id is None:
            failure = _failure_text(result)
            if failure:
                raise ProviderError(self.name, f"refused the file: {failure}")
            raise ProviderError(
                self.name,
                "accepted the file but has not finished processing it; "
                "the next sync will bring the activity in",
            )
        if name:
            try:
                self.rename(activity_id, name)
            except ProviderError as error:
                log.warning("uploaded activity %s keeps Garmin's name: %s", activity_id, error)
        return UploadResult(provider_id=activity_id)

    def download_original(self, provider_id: str, folder: Path) -> Path:
        """The activity's original file, unpacked from Garmin's zip into `folder`."""
        activity_id = _activity_id(provider_id)
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder) as download:
            answer = self._send(
                "GET", f"/download-service/files/activity/{activity_id}", sink=download
            )
            if answer.status == 404:
                raise ProviderError(self.name, f"activity {provider_id} has no original file")
            if answer.status != 200:
                raise self._error(answer, f"the original file of activity {provider_id}")
            download.seek(0)
            head = download.read(4096)
            download.seek(0)
            if head[: len(ZIP_MAGIC)] == ZIP_MAGIC:
                return self._unzip(download, provider_id, folder)
            found = sniff(head)
            if found is None:
                raise ProviderError(
                    self.name,
                    f"the original file of activity {provider_id} is not a FIT, "
                    "GPX or TCX file, nor a zip holding one",
                )
            target = free_path(folder / f"garmin-{activity_id}{_SUFFIX[found]}", self.name)
            _write_limited(download, target, self._budget.max_file_bytes)
            return target

    def _unzip(self, archive_file: IO[bytes], provider_id: str, folder: Path) -> Path:
        try:
            archive = zipfile.ZipFile(archive_file)
        except zipfile.BadZipFile:
            raise ProviderError(
                self.name, f"the original file of activity {provider_id} is a damaged zip"
            ) from None
        with archive:
            infos = archive.infolist()
            if len(infos) > self._budget.max_members:
                raise ProviderError(self.name, f"refused a zip with {len(infos)} entries")
            members = [
                i
                for i in infos
                if not i.is_dir() and i.filename.lower().endswith(ACTIVITY_SUFFIXES)
            ]
            if not members:
                raise ProviderError(
                    self.name,
                    f"the zip of activity {provider_id} holds no FIT, GPX or TCX file",
                )
            problems = [p for p in (member_problem(i, self._budget) for i in members) if p]
            usable = [i for i in members if member_problem(i, self._budget) is None]
            if not usable:
                raise ProviderError(
                    self.name, f"the zip of activity {provider_id} was refused: {problems[0]}"
                )
            if len(usable) > 1:
                log.info("zip of Garmin activity %s holds %d files", provider_id, len(usable))
            member = usable[0]
            suffix = next(s for s in ACTIVITY_SUFFIXES if member.filename.lower().endswith(s))
            # The member's own name never becomes a path: the file is named here.
            target = free_path(folder / f"garmin-{_activity_id(provider_id)}{suffix}", self.name)
            try:
                with archive.open(member) as source:
                    _write_limited(source, target, self._budget.max_file_bytes)
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                raise ProviderError(
                    self.name, f"the zip of activity {provider_id} is damaged ({error})"
                ) from None
        return target


def build_garmin(
    settings: Mapping[str, Any], credentials: Credentials, *, base_url: str | None = None
) -> GarminProvider | None:
    """The provider for a stored connection (None when its token store left the keyring).
    Refreshed tokens are written back to the keyring as one entry."""
    blob = credentials.load_json(ProviderName.GARMIN, TOKEN_KEY)
    if blob is None or not blob.get("di_token"):
        return None

    def keep(token_store: str) -> None:
        """Garmin may rotate the refresh token: the new store replaces the old one at once."""
        try:
            credentials.save_json(ProviderName.GARMIN, TOKEN_KEY, json.loads(token_store))
        except CredentialStoreUnavailable as error:
            raise ProviderError(
                ProviderName.GARMIN, f"the refreshed sign-in could not be kept. {error}"
            ) from None

    return GarminProvider(token_store=json.dumps(blob), base_url=base_url, on_token_store=keep)


# -- conversion -----------------------------------------------------------------------------


def _activity_id(provider_id: str) -> str:
    value = provider_id.strip()
    if not value.isdigit() or not value.isascii():
        raise ProviderError(ProviderName.GARMIN, f"{provider_id!r} is not a Garmin activity id")
    return value


_SUMMARY_FIELDS = (
    "startTimeLocal",
    "startTimeGMT",
    "distance",
    "duration",
    "movingDuration",
    "elapsedDuration",
    "elevationGain",
    "averageHR",
    "maxHR",
    "calories",
    "startLatitude",
    "startLongitude",
)


def _list_shape(item: Mapping[str, Any]) -> dict[str, Any]:
    """An activity in the list's flat shape, whether it came from the list or from the detail
    endpoint (which nests the same values under `activityTypeDTO`, `summaryDTO` and
    `metadataDTO`). Only what the list also has is taken, so a read-back after a write stores
    the same values a sync does."""
    summary = item.get("summaryDTO")
    if not isinstance(summary, dict):
        return dict(item)
    flat: dict[str, Any] = {k: summary[k] for k in _SUMMARY_FIELDS if k in summary}
    for key in ("activityId", "activityName", "description"):
        flat[key] = item.get(key)
    flat["activityType"] = item.get("activityTypeDTO") or item.get("activityType")
    metadata = item.get("metadataDTO")
    device = metadata.get("deviceMetaDataDTO") if isinstance(metadata, dict) else None
    if isinstance(device, dict):
        flat["deviceId"] = device.get("deviceId")
    return flat


def _zone(item: Mapping[str, Any]) -> str | None:
    """An IANA zone, only when the activity names one (the list, as read so far, does not)."""
    for value in (item.get("timeZone"), item.get("timeZoneName")):
        if isinstance(value, str) and "/" in value and (zone := iana_zone(value)):
            return zone
    return None


def garmin_sport(type_key: str | None) -> Sport:
    """A Garmin `activityType.typeKey` in Tracekit's vocabulary."""
    if not type_key:
        return Sport.OTHER
    return from_label(type_key)


def to_remote(item: Mapping[str, Any]) -> RemoteActivity | None:
    """One Garmin activity (list item or detail) as a `RemoteActivity`; None without a start.

    Device and gear are not part of an activity's answer: `GarminProvider` adds them."""
    flat = _list_shape(item)
    if flat.get("activityId") is None:
        return None
    gmt = wall_clock(flat.get("startTimeGMT"))
    start_utc = as_utc(gmt) if gmt is not None else None
    start_local = wall_clock(flat.get("startTimeLocal"))
    if start_utc is None and start_local is None:
        return None
    activity_type = flat.get("activityType")
    type_key = activity_type.get("typeKey") if isinstance(activity_type, dict) else None
    type_key = type_key if isinstance(type_key, str) and type_key else None
    elapsed = number(flat.get("elapsedDuration"))
    if elapsed is None:
        elapsed = number(flat.get("duration"))
    provider_id = str(flat["activityId"])
    return RemoteActivity(
        provider_id=provider_id,
        start_utc=start_utc,
        sport=garmin_sport(type_key),
        raw_type=type_key,
        start_local=start_local,
        timezone=_zone(flat),
        elapsed_s=elapsed,
        moving_s=number(flat.get("movingDuration")),
        distance_m=number(flat.get("distance")),
        name=text(flat.get("activityName")),
        description=text(flat.get("description")),
        avg_hr=number(flat.get("averageHR")),
        max_hr=number(flat.get("maxHR")),
        ascent_m=number(flat.get("elevationGain")),
        calories=number(flat.get("calories")),
        start_lat=number(flat.get("startLatitude")),
        start_lon=number(flat.get("startLongitude")),
        evidence=frozenset({f"garmin:{provider_id}"}),
        payload=dict(item),
    )


def _gear_name(item: Mapping[str, Any]) -> str:
    for key in ("displayName", "customMakeModel"):
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    parts = [item.get("gearMakeName"), item.get("gearModelName")]
    joined = " ".join(p for p in parts if isinstance(p, str) and p and p.lower() != "other")
    return joined or str(item["uuid"])


def _import_result(answer: Answer) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        return {}
    result = data.get("detailedImportResult") if isinstance(data, dict) else None
    return result if isinstance(result, dict) else {}


def _first_id(entries: Any) -> str | None:
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if isinstance(entry, dict) and entry.get("internalId") is not None:
            return str(entry["internalId"])
    return None


def _failure_text(result: Mapping[str, Any]) -> str:
    failures = result.get("failures")
    if not isinstance(failures, list):
        return ""
    for failure in failures:
        messages = failure.get("messages") if isinstance(failure, dict) else None
        for message in messages if isinstance(messages, list) else []:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str) and content:
                return content[:200]
    return ""


def _error_text(answer: Answer) -> str:
    try:
        data = answer.json()
    except ValueError:
        return ""  # Cloudflare's HTML page or similar: the status says enough
    if not isinstance(data, dict):
        return ""
    for key in ("message", "error", "content"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value[:200]
    result = data.get("detailedImportResult")
    return _failure_text(result) if isinstance(result, dict) else ""


def _read_upload(path: Path, limit: int) -> bytes:
    """The file's bytes (gunzipped when it is gzip data), at most `limit` of them."""
    try:
        with path.open("rb") as handle:
            head = handle.read(2)
            handle.seek(0)
            if is_gzip(head):
                with gzip.GzipFile(fileobj=handle) as unzipped:
                    data = unzipped.read(limit + 1)
            else:
                data = handle.read(limit + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise ProviderError(ProviderName.GARMIN, f"cannot read {path.name} ({error})") from None
    if len(data) > limit:
        raise ProviderError(ProviderName.GARMIN, f"{path.name} is larger than {limit // 2**20} MiB")
    if not data:
        raise ProviderError(ProviderName.GARMIN, f"{path.name} is empty")
    return data


def _write_limited(source: IO[bytes], target: Path, limit: int) -> None:
    """Copy at most `limit` bytes to `target` through a `.part` file; nothing is left behind
    when it fails."""
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as out:
            copy_limited(source, out, limit)
        partial.replace(target)
    except BudgetExceeded:
        raise ProviderError(
            ProviderName.GARMIN, f"refused a file larger than {limit // 2**20} MiB unpacked"
        ) from None
    finally:
        partial.unlink(missing_ok=True)
