"""RideWithGPS over its HTTP API, with httpx (contract: shared/reference/provider-apis.md §3).

Why httpx and not pyrwgps: pyrwgps hands back any JSON body, error or not, without the HTTP
status, so a refused token, a missing trip, a rate limit and a server error look alike; it sets
no timeout (a silent server would hang a sync for ever); its client-side limiter sleeps inside
calls; its file download returns an error page as if it were the file. Tracekit needs each of
those told apart, so it talks HTTP itself, as the intervals.icu provider does.

Auth, either way the user connects:
* API key + auth token: the user's own API key (account settings, developers) and an auth token
  that their email and password are exchanged for once (`POST /api/v1/auth_tokens.json`); the
  password is never stored. Sent as `x-rwgps-api-key` / `x-rwgps-auth-token` headers.
* OAuth (the documented code flow, for a user with their own API client): a bearer token. No
  expiry and no refresh are documented, so a 401 means connecting again.

Reading uses the documented v1 API. Trips are listed newest *change* first
(`GET /api/v1/trips.json`, `updated_at` descending) with no date filter, so a range is read
page by page until the changes are older than the range's start (a trip is uploaded after it
was ridden, so its `updated_at` is never earlier than its start, give or take `UPDATE_SLACK`
for a device's wrong clock), and filtered to the range here. The list carries no gear (the
detail does), so gear arrives with `fetch`. `departed_at` carries its offset; `time_zone` is
IANA; distance is metres, `duration`/`moving_time` seconds.

Writing and downloading use the older API, which is undocumented but what RideWithGPS's own
clients and pyrwgps use: `PATCH /trips/{id}.json` with `{"trip": {...}}` for name, description
and gear, and `GET /trips/{id}.tcx?sub_format=history` for the trip's recorded file (the API
offers no original FIT; the TCX export carries the recorded points with time, heart rate,
cadence and power). Uploading is not offered: no contract for it could be confirmed.

Errors: 401 → `ReconnectNeeded`, 429 → `RateLimited` (Retry-After, else a minute; no limits
are documented), 5xx and timeouts → a bounded number of retries and then a `ProviderError`
naming RideWithGPS. Nothing here sleeps for a rate limit.
"""

import logging
import re
from collections.abc import Generator, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from tracekit import __version__
from tracekit.oauth import TokenSet
from tracekit.providers.base import (
    Capability,
    ProviderError,
    ReconnectNeeded,
    RemoteActivity,
    RemoteGear,
)
from tracekit.providers.http import HttpxProvider, error_text
from tracekit.providers.json_values import iana_zone, instant, number, text
from tracekit.providers.names import ProviderName
from tracekit.providers.originals import keep_original
from tracekit.ratelimit import Clock, RetryPolicy, utc_now
from tracekit.sports import Sport, from_label
from tracekit.timezones import as_utc, local_wall_clock

DEFAULT_BASE_URL = "https://ridewithgps.com"
SETTINGS_URL = "https://ridewithgps.com/settings/developers"
DEFAULT_PAGE_SIZE = 200  # the v1 maximum
GEAR_PAGE_SIZE = 100
DEFAULT_TIMEOUT_S = 30.0
UPDATE_SLACK = timedelta(days=2)
_BULKY = frozenset({"track_points", "course_points", "points_of_interest"})

log = logging.getLogger(__name__)


class _Auth(httpx.Auth):
    """Adds the credentials to each request; holds them privately and never prints them."""

    def __init__(self, api_key: str | None, auth_token: str | None, access_token: str | None):
        self._api_key = api_key
        self._auth_token = auth_token
        self._access_token = access_token

    def __repr__(self) -> str:
        return "_Auth(bearer token)" if self._access_token else "_Auth(api key)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._access_token is not None:
            request.headers["Authorization"] = f"Bearer {self._access_token}"
        else:
            request.headers["x-rwgps-api-key"] = self._api_key or ""
            request.headers["x-rwgps-auth-token"] = self._auth_token or ""
        yield request


class RideWithGpsProvider(HttpxProvider):
    name = ProviderName.RIDEWITHGPS
    reconnect_statuses = frozenset({401})  # a 403 is one trip's privacy, not the account
    capabilities = frozenset(
        {
            Capability.READ,
            Capability.RENAME,
            Capability.SET_DESCRIPTION,
            Capability.SET_GEAR,
            Capability.DOWNLOAD_ORIGINAL,
        }
    )

    def __init__(
        self,
        *,
        api_key: str | None = None,
        auth_token: str | None = None,
        access_token: str | None = None,
        user_id: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT_S,
        page_size: int = DEFAULT_PAGE_SIZE,
        retry: RetryPolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        if access_token is None and not (api_key and auth_token):
            raise ValueError("give an API key with an auth token, or an OAuth access token")
        self.uses_oauth = access_token is not None
        self.user_id = user_id or None
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        client = httpx.Client(
            base_url=self.base_url,
            auth=_Auth(api_key, auth_token, access_token),
            timeout=timeout,
            headers={"User-Agent": f"Tracekit/{__version__}", "Accept": "application/json"},
        )
        self._init_http(client, timeout, retry, clock)

    def __repr__(self) -> str:
        auth = "oauth" if self.uses_oauth else "api key"
        return (
            f"RideWithGpsProvider(user_id={self.user_id!r}, base_url={self.base_url!r}, "
            f"auth={auth!r})"
        )

    # -- HTTP ---------------------------------------------------------------------------------

    def _refused_message(self, status: int) -> str:
        return "the authorisation was refused or revoked (401); connect again"

    # -- reading ------------------------------------------------------------------------------

    def current_user(self) -> dict[str, Any]:
        response = self._send("GET", "/api/v1/users/current.json")
        if response.status_code != 200:
            raise self._error(response)
        data = self._json(response)
        user = data.get("user") if isinstance(data, dict) else None
        if not isinstance(user, dict) or user.get("id") is None:
            raise ProviderError(self.name, "unexpected answer for the current user")
        self.user_id = str(user["id"])
        return user

    def pull(self, since: datetime | None, until: datetime | None) -> Iterator[RemoteActivity]:
        """Trips starting in [since, until), in the order of their last change."""
        since = as_utc(since) if since is not None else None
        end = as_utc(until) if until is not None else self._clock()
        page = 1
        seen: set[str] = set()
        while True:
            response = self._send(
                "GET", "/api/v1/trips.json", params={"page": page, "page_size": self.page_size}
            )
            if response.status_code != 200:
                raise self._error(response)
            data = self._json(response)
            trips = data.get("trips") if isinstance(data, dict) else None
            if not isinstance(trips, list):
                raise ProviderError(self.name, "unexpected answer to the trip list")
            fresh = 0
            oldest_change: datetime | None = None
            for trip in trips:
                if not isinstance(trip, dict) or trip.get("id") is None:
                    continue
                provider_id = str(trip["id"])
                if provider_id in seen:
                    continue
                seen.add(provider_id)
                fresh += 1
                changed = instant(trip.get("updated_at"))
                if changed is not None:
                    oldest_change = (
                        changed if oldest_change is None else min(oldest_change, changed)
                    )
                remote = to_remote(trip)
                if remote is None:
                    log.warning("RideWithGPS trip %s has no start time; skipped", provider_id)
                    continue
                start = remote.start_utc
                if start is not None and ((since is not None and start < since) or start >= end):
                    continue
                yield remote
            if not fresh or not _has_next_page(data, len(trips), self.page_size):
                return
            if (
                since is not None
                and oldest_change is not None
                and oldest_change < since - UPDATE_SLACK
            ):
                return  # everything further was last changed before the range began
            page += 1

    def gear(self) -> list[RemoteGear]:
        user_id = self.user_id or str(self.current_user()["id"])
        gear: list[RemoteGear] = []
        offset = 0
        while True:
            response = self._send(
                "GET",
                f"/users/{quote(user_id, safe='')}/gear.json",
                params={"offset": offset, "limit": GEAR_PAGE_SIZE},
            )
            if response.status_code != 200:
                raise self._error(response)
            data = self._json(response)
            items = data.get("results") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise ProviderError(self.name, "unexpected answer to the gear list")
            for item in items:
                if isinstance(item, dict) and item.get("id") is not None:
                    gear.append(to_gear(item))
            offset += len(items)
            total = data.get("results_count") if isinstance(data, dict) else None
            if not items or not isinstance(total, int) or offset >= total:
                return gear

    def fetch(self, provider_id: str) -> RemoteActivity:
        response = self._send("GET", f"/api/v1/trips/{_trip_id(provider_id)}.json")
        if response.status_code != 200:
            raise self._error(response, f"trip {provider_id}")
        data = self._json(response)
        trip = data.get("trip") if isinstance(data, dict) else None
        if not isinstance(trip, dict) or trip.get("id") is None:
            raise ProviderError(self.name, f"unexpected answer for trip {provider_id}")
        remote = to_remote(trip)
        if remote is None:
            raise ProviderError(self.name, f"trip {provider_id} has no start time")
        return remote

    # -- writing (called only by tracekit.apply, after the user approved the change) ----------

    def _update(self, provider_id: str, changes: dict[str, Any]) -> None:
        response = self._send(
            "PATCH", f"/trips/{_trip_id(provider_id)}.json", json={"trip": changes}
        )
        if response.status_code not in (200, 204):
            raise self._error(response, f"trip {provider_id}")
        if response.content:
            data = self._json(response)
            if isinstance(data, dict) and data.get("error"):
                raise ProviderError(self.name, f"the change was refused: {data['error']}")

    def rename(self, provider_id: str, name: str) -> None:
        self._update(provider_id, {"name": name})

    def set_description(self, provider_id: str, description: str) -> None:
        self._update(provider_id, {"description": description})

    def set_gear(self, provider_id: str, gear_id: str | None) -> None:
        if gear_id is None:
            raise ProviderError(self.name, "its API has no known way to clear a trip's gear")
        value: int | str = int(gear_id) if gear_id.isdigit() else gear_id
        self._update(provider_id, {"gear_id": value})

    def download_original(self, provider_id: str, folder: Path) -> Path:
        """The trip's recorded file (TCX with the recorded points), into `folder`."""
        response = self._send(
            "GET", f"/trips/{_trip_id(provider_id)}.tcx", params={"sub_format": "history"}
        )
        if response.status_code != 200:
            raise self._error(response, f"the file of trip {provider_id}")
        data = response.content
        if b"trainingcenterdatabase" not in data[:2048].lower():
            raise ProviderError(
                self.name, f"trip {provider_id}: the answer was not a TCX file; nothing was kept"
            )
        return keep_original(folder, f"ridewithgps-{_trip_id(provider_id)}.tcx", data, self.name)


# -- connecting ---------------------------------------------------------------------------


def _connect_client(base_url: str, timeout: float) -> httpx.Client:
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        timeout=timeout,
        headers={"User-Agent": f"Tracekit/{__version__}", "Accept": "application/json"},
    )


def exchange_password(
    api_key: str,
    email: str,
    password: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> tuple[str, str | None]:
    """Trade the user's email and password for an auth token, once: (auth token, user id).

    The password goes in this one request and nowhere else. Raises `ReconnectNeeded` when
    RideWithGPS refuses the key or the password, `ProviderError` when it cannot be asked.
    """
    name = ProviderName.RIDEWITHGPS
    try:
        with _connect_client(base_url, timeout) as client:
            response = client.post(
                "/api/v1/auth_tokens.json",
                headers={"x-rwgps-api-key": api_key},
                json={"user": {"email": email, "password": password}},
            )
    except httpx.HTTPError as error:
        raise ProviderError(name, f"could not be reached ({type(error).__name__})") from None
    if response.status_code in (401, 403):
        raise ReconnectNeeded(name, "the API key, email or password was refused")
    if response.status_code not in (200, 201):
        detail = error_text(response)
        raise ProviderError(
            name, f"request refused ({response.status_code})" + (f": {detail}" if detail else "")
        )
    try:
        data = response.json()
    except ValueError:
        data = None
    wrapper = data.get("auth_token") if isinstance(data, dict) else None
    token = wrapper.get("auth_token") if isinstance(wrapper, dict) else None
    if not isinstance(token, str) or not token:
        raise ProviderError(name, "the answer held no auth token")
    user = wrapper.get("user") if isinstance(wrapper, dict) else None
    user_id = user.get("id") if isinstance(user, dict) else None
    return token, str(user_id) if user_id is not None else None


def authorize_url(base_url: str = DEFAULT_BASE_URL) -> str:
    return f"{base_url.rstrip('/')}/oauth/authorize"


def exchange_code(
    code: str,
    redirect_uri: str,
    client_id: str,
    client_secret: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> TokenSet:
    """Trade an OAuth code for an access token (a JSON body, as the documentation shows)."""
    name = ProviderName.RIDEWITHGPS
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
    }
    try:
        with _connect_client(base_url, timeout) as client:
            response = client.post("/oauth/token.json", json=body)
    except httpx.HTTPError as error:
        raise ProviderError(name, f"could not be reached ({type(error).__name__})") from None
    if response.status_code != 200:
        raise ReconnectNeeded(
            name,
            f"the authorisation code or the client id/secret was refused ({response.status_code})",
        )
    try:
        data = response.json()
    except ValueError:
        data = None
    access = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(access, str) or not access:
        raise ProviderError(name, "the answer held no access token")
    assert isinstance(data, dict)
    user = data.get("user_id") or data.get("rwgps_user_id")
    scope = data.get("scope")
    return TokenSet(
        access_token=access,
        scope=scope if isinstance(scope, str) else None,
        token_type=str(data.get("token_type") or "Bearer"),
        athlete_id=str(user) if user is not None else None,
    )


# -- conversion -----------------------------------------------------------------------------

# RideWithGPS `activity_type` ("family:kind", reference/activity_types.md) → Tracekit sport.
_ACTIVITY_TYPES: dict[str, Sport] = {
    "cycling:gravel": Sport.GRAVEL_RIDE,
    "cycling:cyclocross": Sport.GRAVEL_RIDE,
    "cycling:mountain": Sport.MOUNTAIN_BIKE,
    "e_biking:mountain": Sport.MOUNTAIN_BIKE,
    "cycling:indoor": Sport.VIRTUAL_RIDE,
    "cycling:virtual": Sport.VIRTUAL_RIDE,
    "running:trail": Sport.TRAIL_RUN,
    "running:indoor": Sport.VIRTUAL_RUN,
    "walking:hiking": Sport.HIKE,
    "training:strength": Sport.STRENGTH,
    "training:yoga": Sport.YOGA,
}
_FAMILIES: dict[str, Sport] = {
    "cycling": Sport.RIDE,
    "e_biking": Sport.RIDE,
    "running": Sport.RUN,
    "walking": Sport.WALK,
    "swimming": Sport.SWIM,
    "snow": Sport.SKI,
    "training": Sport.WORKOUT,
}
# FIT sport numbers (the trip's `fit_sport`) for trips without an `activity_type`.
_FIT_SPORTS: dict[int, Sport] = {
    1: Sport.RUN,
    2: Sport.RIDE,
    5: Sport.SWIM,
    10: Sport.WORKOUT,
    11: Sport.WALK,
    12: Sport.SKI,
    13: Sport.SKI,
    15: Sport.ROW,
    17: Sport.HIKE,
    21: Sport.RIDE,
}
_FIT_SUB_SPORTS: dict[int, Sport] = {
    3: Sport.TRAIL_RUN,
    6: Sport.VIRTUAL_RIDE,
    8: Sport.MOUNTAIN_BIKE,
    46: Sport.GRAVEL_RIDE,
    58: Sport.VIRTUAL_RIDE,
}


def sport_of(trip: Mapping[str, Any]) -> tuple[Sport, str | None]:
    """The trip's sport, and the label it came from."""
    label = trip.get("activity_type")
    if isinstance(label, str) and label:
        key = label.strip().lower()
        if key in _ACTIVITY_TYPES:
            return _ACTIVITY_TYPES[key], label
        family, _, kind = key.partition(":")
        sport = from_label(kind) if kind and kind != "generic" else Sport.OTHER
        if sport is Sport.OTHER:
            sport = _FAMILIES.get(family, Sport.OTHER)
        return sport, label
    fit_sport, fit_sub = trip.get("fit_sport"), trip.get("fit_sub_sport")
    if isinstance(fit_sub, int) and fit_sub in _FIT_SUB_SPORTS and fit_sport in (1, 2, 21):
        return _FIT_SUB_SPORTS[fit_sub], None
    if isinstance(fit_sport, int) and fit_sport in _FIT_SPORTS:
        return _FIT_SPORTS[fit_sport], None
    return Sport.RIDE, None  # RideWithGPS trips are rides unless they say otherwise


def _device(trip: Mapping[str, Any]) -> str | None:
    parts = [text(trip.get("device_manufacturer")), text(trip.get("device_display_name"))]
    named = " ".join(p for p in parts if p)
    if named:
        return named
    device = trip.get("device")
    if isinstance(device, dict):
        return text(device.get("name"))
    return text(device)


def to_remote(trip: Mapping[str, Any]) -> RemoteActivity | None:
    """One trip (list item or detail) as a `RemoteActivity` (None without a start time)."""
    departed_raw = trip.get("departed_at")
    departed: datetime | None = None
    if isinstance(departed_raw, str) and departed_raw:
        try:
            departed = datetime.fromisoformat(departed_raw)
        except ValueError:
            departed = None
    if departed is None:
        return None
    zone = iana_zone(trip.get("time_zone"))
    if departed.tzinfo is None:  # a wall clock: place it in the trip's zone, if it has one
        if zone is None:
            return None
        start_local: datetime | None = departed
        start_utc = departed.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    else:
        start_utc = departed.astimezone(UTC)
        if zone is not None:
            start_local = local_wall_clock(start_utc, zone)
        elif departed.utcoffset():  # the offset it was written with is the local one
            start_local = departed.replace(tzinfo=None)
        else:
            start_local = None
    sport, raw_type = sport_of(trip)
    gear = trip.get("gear")
    gear_id = trip.get("gear_id")
    if gear_id is None and isinstance(gear, dict):
        gear_id = gear.get("id")
    return RemoteActivity(
        provider_id=str(trip["id"]),
        start_utc=start_utc,
        sport=sport,
        raw_type=raw_type,
        start_local=start_local,
        timezone=zone,
        elapsed_s=number(trip.get("duration")),
        moving_s=number(trip.get("moving_time")),
        distance_m=number(trip.get("distance")),
        name=text(trip.get("name")),
        description=text(trip.get("description")),
        gear_id=str(gear_id) if gear_id is not None else None,
        device=_device(trip),
        avg_hr=number(trip.get("avg_hr")),
        max_hr=number(trip.get("max_hr")),
        ascent_m=number(trip.get("elevation_gain")),
        calories=number(trip.get("calories")),
        start_lat=number(trip.get("first_lat")),
        start_lon=number(trip.get("first_lng")),
        payload={key: value for key, value in trip.items() if key not in _BULKY},
        unknown=frozenset(
            [
                *(["description"] if "description" not in trip else []),
                *(["gear_id"] if "gear_id" not in trip and "gear" not in trip else []),
            ]
        ),
    )


def to_gear(item: Mapping[str, Any]) -> RemoteGear:
    """One piece of gear: its nickname, else make and model."""
    made = " ".join(p for p in (text(item.get("make")), text(item.get("model"))) if p)
    name = text(item.get("nickname")) or text(item.get("name")) or made or str(item["id"])
    kind = text(item.get("gear_type")) or text(item.get("type"))
    return RemoteGear(
        provider_gear_id=str(item["id"]),
        name=name,
        kind=kind,
        retired=bool(item.get("retired") or item.get("is_retired")),
    )


def _has_next_page(data: Any, count: int, page_size: int) -> bool:
    meta = data.get("meta") if isinstance(data, dict) else None
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    if isinstance(pagination, dict) and "next_page_url" in pagination:
        return bool(pagination["next_page_url"])
    return count >= page_size


_TRIP_ID = re.compile(r"\d+")


def _trip_id(provider_id: str) -> str:
    value = provider_id.strip()
    if not _TRIP_ID.fullmatch(value):
        raise ProviderError(ProviderName.RIDEWITHGPS, f"{provider_id!r} is not a trip id")
    return value
