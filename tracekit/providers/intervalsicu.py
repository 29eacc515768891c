"""intervals.icu over its REST API (contract: shared/reference/provider-apis.md §4).

Auth is a personal API key (HTTP Basic, user name `API_KEY`) or an OAuth bearer token. The
activity list is filtered by *local* start dates (`oldest`/`newest`, no zone), newest first, with
no paging beyond `limit`; so a UTC range is widened by the widest zone offset, paged by moving
`newest` back to the oldest start seen (inclusive, duplicates dropped), and filtered to the UTC
range here. Strava-sourced activities come back as empty stubs (intervals.icu hides them under
Strava's terms) and are skipped. Units are already SI (metres, seconds).

Errors: 401/403 → `ReconnectNeeded` (after one token refresh when a refresher is given), 429 →
`RateLimited` with the reset time, 5xx and timeouts → a bounded number of retries and then a
`ProviderError` naming intervals.icu and the status. Nothing here sleeps for a rate limit.
"""

import base64
import logging
import re
import zlib
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from tracekit import __version__
from tracekit.providers.base import (
    Capability,
    ProviderError,
    RemoteActivity,
    RemoteGear,
    UploadResult,
)
from tracekit.providers.http import HttpxProvider
from tracekit.providers.json_values import iana_zone, instant, number, wall_clock
from tracekit.providers.names import ProviderName
from tracekit.providers.originals import keep_original
from tracekit.ratelimit import Clock, RetryPolicy, utc_now
from tracekit.sports import from_label
from tracekit.timezones import as_utc, local_wall_clock

DEFAULT_BASE_URL = "https://intervals.icu"
DEFAULT_PAGE_SIZE = 200
DEFAULT_TIMEOUT_S = 30.0
# Wall clocks run from UTC−12 to UTC+14, so a local-date filter must be this much wider.
ZONE_SPREAD = timedelta(hours=14)
HISTORY_START = datetime(1970, 1, 1)
SETTINGS_URL = "https://intervals.icu/settings"

log = logging.getLogger(__name__)


class _Auth(httpx.Auth):
    """Adds the credential to each request; holds it privately and never prints it."""

    def __init__(self, api_key: str | None, token: str | None) -> None:
        self._api_key = api_key
        self.token = token

    def __repr__(self) -> str:
        return "_Auth(api key)" if self._api_key else "_Auth(bearer token)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._api_key is not None:
            pair = base64.b64encode(f"API_KEY:{self._api_key}".encode()).decode("ascii")
            request.headers["Authorization"] = f"Basic {pair}"
        elif self.token is not None:
            request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class IntervalsIcuProvider(HttpxProvider):
    name = ProviderName.INTERVALSICU
    capabilities = frozenset(
        {
            Capability.READ,
            Capability.RENAME,
            Capability.SET_DESCRIPTION,
            Capability.SET_GEAR,
            Capability.UPLOAD,
            Capability.DOWNLOAD_ORIGINAL,
        }
    )

    def __init__(
        self,
        *,
        api_key: str | None = None,
        access_token: str | None = None,
        athlete_id: str = "0",
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT_S,
        page_size: int = DEFAULT_PAGE_SIZE,
        retry: RetryPolicy | None = None,
        clock: Clock = utc_now,
        refresh_access_token: Callable[[], str | None] | None = None,
    ) -> None:
        if (api_key is None) == (access_token is None):
            raise ValueError("give either an API key or an access token")
        self.athlete_id = athlete_id.strip() or "0"
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.uses_oauth = access_token is not None
        self._refresh = refresh_access_token
        self._auth = _Auth(api_key, access_token)
        client = httpx.Client(
            base_url=f"{self.base_url}/api/v1",
            auth=self._auth,
            timeout=timeout,
            headers={"User-Agent": f"Tracekit/{__version__}", "Accept": "application/json"},
        )
        self._init_http(client, timeout, retry, clock)

    def __repr__(self) -> str:
        auth = "oauth" if self.uses_oauth else "api key"
        return (
            f"IntervalsIcuProvider(athlete_id={self.athlete_id!r}, base_url={self.base_url!r}, "
            f"auth={auth!r})"
        )

    # -- HTTP ---------------------------------------------------------------------------------

    def _refresh_auth(self) -> bool:
        if not self.uses_oauth or self._refresh is None:
            return False
        token = self._refresh()
        if token:
            self._auth.token = token
        return bool(token)

    def _refused_message(self, status: int) -> str:
        if status == 403:
            return (
                f"access denied (403) for athlete {self.athlete_id!r}; check the athlete id "
                "and connect again"
            )
        if self.uses_oauth:
            return "the authorisation was revoked or has expired (401); connect again"
        return f"the API key was refused (401); connect again with the key from {SETTINGS_URL}"

    # -- reading ------------------------------------------------------------------------------

    def _athlete_path(self, suffix: str) -> str:
        return f"/athlete/{quote(self.athlete_id, safe='')}/{suffix}"

    def _list(self, oldest: datetime, newest: datetime, limit: int) -> list[dict[str, Any]]:
        response = self._send(
            "GET",
            self._athlete_path("activities"),
            params={
                "oldest": oldest.isoformat(timespec="seconds"),
                "newest": newest.isoformat(timespec="seconds"),
                "limit": limit,
            },
        )
        if response.status_code != 200:
            raise self._error(response)
        data = self._json(response)
        if not isinstance(data, list):
            raise ProviderError(self.name, "unexpected answer to the activity list (not a list)")
        return [item for item in data if isinstance(item, dict) and item.get("id") is not None]

    def check(self) -> str | None:
        """Prove the credentials work with one cheap request; the athlete id when it shows."""
        today = self._clock().date()
        start = datetime.combine(today - timedelta(days=1), datetime.min.time())
        items = self._list(start, start + timedelta(days=2), 1)
        athlete = items[0].get("icu_athlete_id") if items else None
        return str(athlete) if athlete else None

    def pull(self, since: datetime | None, until: datetime | None) -> Iterator[RemoteActivity]:
        """Activities starting in [since, until), newest first (by local start)."""
        since = as_utc(since) if since is not None else None
        end = as_utc(until) if until is not None else self._clock()
        oldest = (since - ZONE_SPREAD).replace(tzinfo=None) if since is not None else HISTORY_START
        newest = (end + ZONE_SPREAD).replace(tzinfo=None)
        seen: set[str] = set()
        while True:
            page = self._list(oldest, newest, self.page_size)
            fresh = 0
            for item in page:
                provider_id = str(item["id"])
                if provider_id in seen:
                    continue
                seen.add(provider_id)
                fresh += 1
                if _is_hidden(item):
                    continue
                remote = to_remote(item)
                if remote is None:
                    log.warning("intervals.icu activity %s has no start time; skipped", provider_id)
                    continue
                start = remote.start_utc
                if start is not None and ((since is not None and start < since) or start >= end):
                    continue
                yield remote
            if len(page) < self.page_size or not fresh:
                return  # the last page (or a server ignoring `newest`: never loop on it)
            starts = [s for s in (_parse_local(i.get("start_date_local")) for i in page) if s]
            last = min(starts) if starts else None
            if last is None:
                return
            newest = last if last < newest else newest - timedelta(seconds=1)
            if newest < oldest:
                return

    def gear(self) -> list[RemoteGear]:
        response = self._send("GET", self._athlete_path("gear"))
        if response.status_code != 200:
            raise self._error(response)
        data = self._json(response)
        if not isinstance(data, list):
            raise ProviderError(self.name, "unexpected answer to the gear list (not a list)")
        gear: list[RemoteGear] = []
        for item in data:
            if not isinstance(item, dict) or item.get("id") is None or item.get("component"):
                continue  # components (chains, tyres) are parts of gear, not gear of an activity
            gear.append(
                RemoteGear(
                    provider_gear_id=str(item["id"]),
                    name=str(item.get("name") or item["id"]),
                    kind=str(item["type"]) if item.get("type") else None,
                    retired=bool(item.get("retired")),
                )
            )
        return gear

    def fetch(self, provider_id: str) -> RemoteActivity:
        response = self._send("GET", f"/activity/{quote(provider_id, safe='')}")
        if response.status_code != 200:
            raise self._error(response, f"activity {provider_id}")
        item = self._json(response)
        if not isinstance(item, dict) or item.get("id") is None:
            raise ProviderError(self.name, f"unexpected answer for activity {provider_id}")
        if _is_hidden(item):
            raise ProviderError(
                self.name, f"activity {provider_id} came from Strava; intervals.icu hides it"
            )
        remote = to_remote(item)
        if remote is None:
            raise ProviderError(self.name, f"activity {provider_id} has no start time")
        return remote

    # -- writing (called only by tracekit.apply, after the user approved the change) ----------

    def _update(self, provider_id: str, body: dict[str, Any]) -> None:
        response = self._send("PUT", f"/activity/{quote(provider_id, safe='')}", json=body)
        if response.status_code != 200:
            raise self._error(response, f"activity {provider_id}")

    def rename(self, provider_id: str, name: str) -> None:
        self._update(provider_id, {"name": name})

    def set_description(self, provider_id: str, description: str) -> None:
        self._update(provider_id, {"description": description})

    def set_gear(self, provider_id: str, gear_id: str | None) -> None:
        if gear_id is None:
            raise ProviderError(
                self.name, "its API has no documented way to clear an activity's gear"
            )
        self._update(provider_id, {"gear": {"id": gear_id}})

    def upload(self, path: Path, name: str | None, external_id: str) -> UploadResult:
        params: dict[str, str | int] = {"external_id": external_id}
        if name:
            params["name"] = name
        response = self._send(
            "POST",
            self._athlete_path("activities"),
            params=params,
            files={"file": (path.name, path.read_bytes())},
        )
        if response.status_code not in (200, 201):
            raise self._error(response)
        data = self._json(response)
        activity_id = _upload_id(data)
        if activity_id is None:
            raise ProviderError(self.name, "the upload was accepted but no activity id came back")
        return UploadResult(provider_id=activity_id, duplicate=response.status_code == 200)

    def download_original(self, provider_id: str, folder: Path) -> Path:
        response = self._send("GET", f"/activity/{quote(provider_id, safe='')}/file")
        if response.status_code != 200:
            raise self._error(response, f"the original file of activity {provider_id}")
        data = response.content
        if not data:
            raise ProviderError(self.name, f"activity {provider_id} has an empty original file")
        name = _download_name(response.headers.get("content-disposition"), provider_id, data)
        return keep_original(folder, name, data, self.name)


# -- conversion -----------------------------------------------------------------------------


def _is_hidden(item: Mapping[str, Any]) -> bool:
    """The empty stub intervals.icu returns for an activity that came from Strava."""
    return "_note" in item or (item.get("source") == "STRAVA" and "type" not in item)


def _parse_local(value: Any) -> datetime | None:
    """`start_date_local`: a wall clock, or a bare date at midnight."""
    moment = wall_clock(value)
    if moment is not None or not isinstance(value, str):
        return moment
    try:
        return datetime.combine(date.fromisoformat(value[:10]), datetime.min.time())
    except ValueError:
        return None


_GARMIN_PUSH = re.compile(r"garmin_push_(\d+)")
_LONG_NUMBER = re.compile(r"\d{6,}")


def evidence_keys(item: Mapping[str, Any]) -> frozenset[str]:
    """Keys that name the same session on another provider, for the matcher.

    `strava_id` is Strava's activity id ("strava:123"). An `external_id` is the id a source gave
    its upload: Garmin's auto-sync ("garmin_push_<id>", or the bare id on an activity that came
    from Garmin Connect) becomes "garmin:<id>"; any other external id becomes
    "external:<value>" only when it carries a long number, so generic file names such as
    "activity.fit" never join two different sessions.
    """
    keys: set[str] = set()
    strava = item.get("strava_id")
    if strava is not None and str(strava).strip().isdigit():
        keys.add(f"strava:{str(strava).strip()}")
    external = item.get("external_id")
    if isinstance(external, str) and external.strip():
        value = external.strip()
        push = _GARMIN_PUSH.fullmatch(value)
        if push:
            keys.add(f"garmin:{push.group(1)}")
        elif item.get("source") == "GARMIN_CONNECT" and value.isdigit():
            keys.add(f"garmin:{value}")
        elif _LONG_NUMBER.search(value):
            keys.add(f"external:{value}")
    return frozenset(keys)


def to_remote(item: Mapping[str, Any]) -> RemoteActivity | None:
    """One intervals.icu `Activity` as a `RemoteActivity` (None without any start time)."""
    zone = iana_zone(item.get("timezone"))
    start_local = _parse_local(item.get("start_date_local"))
    start_utc = instant(item.get("start_date"))
    if start_utc is None and start_local is not None and zone is not None:
        start_utc = start_local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    if start_local is None and start_utc is not None and zone is not None:
        start_local = local_wall_clock(start_utc, zone)
    if start_utc is None and start_local is None:
        return None
    gear = item.get("gear")
    gear_id = str(gear["id"]) if isinstance(gear, dict) and gear.get("id") else None
    raw_type = item.get("type") if isinstance(item.get("type"), str) else None
    distance = number(item.get("distance"))
    if distance is None:
        distance = number(item.get("icu_distance"))
    external = item.get("external_id")
    return RemoteActivity(
        provider_id=str(item["id"]),
        start_utc=start_utc,
        sport=from_label(raw_type),
        raw_type=raw_type,
        start_local=start_local,
        timezone=zone,
        elapsed_s=number(item.get("elapsed_time")),
        moving_s=number(item.get("moving_time")),
        distance_m=distance,
        name=item.get("name") if isinstance(item.get("name"), str) else None,
        description=item.get("description") if isinstance(item.get("description"), str) else None,
        gear_id=gear_id,
        device=item.get("device_name") if isinstance(item.get("device_name"), str) else None,
        avg_hr=number(item.get("average_heartrate")),
        max_hr=number(item.get("max_heartrate")),
        ascent_m=number(item.get("total_elevation_gain")),
        calories=number(item.get("calories")),
        external_id=external if isinstance(external, str) and external else None,
        evidence=evidence_keys(item),
        payload=dict(item),
    )


def _upload_id(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    activities = data.get("activities")
    if isinstance(activities, list) and activities and isinstance(activities[0], dict):
        first = activities[0].get("id")
        if first is not None:
            return str(first)
    return str(data["id"]) if data.get("id") is not None else None


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _sniff_suffix(data: bytes) -> str:
    head = data[:64]
    if head[:2] == b"\x1f\x8b":
        try:
            inner = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[:4096], 64)
        except zlib.error:
            inner = b""
        return _sniff_suffix(inner) + ".gz" if inner else ".gz"
    if len(head) >= 12 and head[8:12] == b".FIT":
        return ".fit"
    text = head.lstrip().lower()
    if b"<gpx" in data[:512].lower():
        return ".gpx"
    if b"trainingcenterdatabase" in data[:1024].lower():
        return ".tcx"
    if text.startswith(b"<?xml"):
        return ".xml"
    return ".bin"


def _download_name(disposition: str | None, provider_id: str, data: bytes) -> str:
    if disposition:
        found = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', disposition)
        if found:
            name = _UNSAFE.sub("_", Path(found.group(1)).name).strip("._")
            if name:
                return name
    return f"intervalsicu-{_UNSAFE.sub('_', provider_id)}{_sniff_suffix(data)}"
