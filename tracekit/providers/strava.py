"""Strava over its v3 API through stravalib (contract: shared/reference/provider-apis.md §1).

Every user brings their own Strava API application (client id and secret, from
https://www.strava.com/settings/api; Strava now requires a paid subscription on the account that
owns an application). Connecting is the OAuth code flow on a loopback address with a `state`
check (Strava does not do PKCE); the token set and the client secret live in the keyring as one
entry, and every refreshed token set replaces it whole (`on_tokens`).

Layers:

* stravalib's `ApiV3` protocol does the talking: URLs, the bearer header, the token endpoint,
  and mapping error statuses to its exceptions. Its own rate limiter is off
  (`rate_limit_requests=False`): it would sleep up to a day. Its pydantic models are not used:
  the raw JSON is kept as the record's payload, a model that rejects some new field of a
  response would turn a successful write into a reported failure, and a 2,000-activity history
  converts faster without them.
* `_Transport`, the requests adapter every call goes through: it points `https://www.strava.com`
  at another base URL when one is given (a fake server in tests), applies the timeout, counts
  requests, asks the `RateBudget` before each API request and raises `RateLimited` instead of
  sending one that would break the 15-minute or daily limit, reads `X-RateLimit-*` and
  `X-ReadRateLimit-*` from every response, turns a 429 into `RateLimited` with the reset time,
  and retries 5xx answers and timeouts a bounded number of times. Nothing here sleeps for a
  rate limit.
* `StravaProvider`: refreshes the access token shortly before it expires and once on a 401,
  then retries once. A refused refresh, or a 401 that survives a fresh token, means the
  athlete deauthorised Tracekit: `on_revoked` runs (the registry disconnects, which deletes all
  local Strava data as Strava's terms require) and `ReconnectNeeded` is raised.

There is no download of original files (the API has none). The activity list carries no
description and no gear object (gear_id only); `fetch` (the detail) has both.
"""

import logging
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

from tracekit import __version__
from tracekit.oauth import TokenSet
from tracekit.providers.base import (
    Capability,
    ProviderError,
    RateLimited,
    ReconnectNeeded,
    RemoteActivity,
    RemoteGear,
    UploadResult,
)
from tracekit.providers.http import MeteredProvider
from tracekit.providers.json_values import iana_zone, instant, number, text, wall_clock
from tracekit.providers.names import ProviderName
from tracekit.ratelimit import Clock, RateBudget, RetryPolicy, parse_retry_after, utc_now
from tracekit.sports import from_label
from tracekit.timezones import as_utc, local_wall_clock

if TYPE_CHECKING:
    from stravalib.exc import Fault

DEFAULT_BASE_URL = "https://www.strava.com"
SETTINGS_URL = "https://www.strava.com/settings/api"
APPS_URL = "https://www.strava.com/settings/apps"  # where an athlete removes an app
# What Tracekit asks for: every activity incl. "Only Me" ones, editing and uploading, and the
# detailed athlete (the only place Strava lists bikes and shoes).
SCOPES = ("read", "activity:read_all", "activity:write", "profile:read_all")
SUBSCRIPTION_NOTE = (
    "Strava's API now requires a paid Strava subscription on the account that owns the API "
    "application, even for a small personal app like this one."
)
DEFAULT_PAGE_SIZE = 200  # Strava's maximum per_page
DEFAULT_TIMEOUT_S = 30.0
REFRESH_MARGIN = timedelta(minutes=2)  # refresh a token this long before it expires
UPLOAD_POLL_INTERVAL_S = 1.0  # Strava: "a one-second or longer polling interval"
UPLOAD_MAX_POLLS = 120
# Bulky parts of an activity that Tracekit has no use for: never kept in the payload.
_BULKY = frozenset(
    {
        "map",
        "segment_efforts",
        "splits_metric",
        "splits_standard",
        "laps",
        "best_efforts",
        "photos",
        "highlighted_kudosers",
        "similar_activities",
        "stats_visibility",
    }
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class _QuietStravalib(logging.Filter):
    """stravalib warns on the root logger, at every client it makes, that STRAVA_CLIENT_ID is
    not in the environment (its own auto-refresh needs it; Tracekit refreshes by itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not (
            record.name == "root"
            and ("STRAVA_CLIENT_ID" in message or "client.refresh_token" in message)
        )


_QUIET = _QuietStravalib()


@cache
def _transport_class() -> Any:
    """The requests adapter class, made on first use: importing requests (and stravalib) costs
    a tenth of a second that a command not talking to Strava should not pay."""
    import requests
    from requests.adapters import HTTPAdapter

    class _Transport(HTTPAdapter):
        """Where all Strava HTTP traffic passes: base URL, timeout, budget, counting, retries."""

        def __init__(
            self,
            base_url: str,
            timeout: float,
            retry: RetryPolicy,
            budget: RateBudget,
            clock: Clock,
        ) -> None:
            super().__init__()
            self.base_url = base_url.rstrip("/")
            self.timeout = timeout
            self.retry = retry
            self.budget = budget
            self.clock = clock
            self.requests_made = 0

        def send(
            self,
            request: requests.PreparedRequest,
            stream: bool = False,
            timeout: Any = None,
            verify: Any = True,
            cert: Any = None,
            proxies: Any = None,
        ) -> requests.Response:
            url = request.url or ""
            if url.startswith(DEFAULT_BASE_URL) and self.base_url != DEFAULT_BASE_URL:
                request.url = self.base_url + url[len(DEFAULT_BASE_URL) :]
            method = (request.method or "GET").upper()
            path = url[len(DEFAULT_BASE_URL) :].split("?", 1)[0]
            api = path.startswith("/api/v3/") and "/oauth/" not in path
            if api:
                wait = self.budget.wait_until(read=method == "GET")
                if wait is not None:
                    raise RateLimited(
                        ProviderName.STRAVA,
                        wait,
                        f"rate limit nearly used up; requests resume at {wait:%H:%M} UTC",
                    )
            attempts = self.retry.start()
            while True:
                attempts.begin()
                self.requests_made += 1
                if api:
                    self.budget.spend()
                try:
                    response = super().send(
                        request,
                        stream=stream,
                        timeout=self.timeout if timeout is None else timeout,
                        verify=verify,
                        cert=cert,
                        proxies=proxies,
                    )
                except requests.Timeout:
                    log.info("%s %s timed out (attempt %d)", method, path, attempts.made)
                    if attempts.retry():
                        continue
                    raise ProviderError(
                        ProviderName.STRAVA,
                        f"no answer within {self.timeout:g} s after {attempts.made} attempts; "
                        "try again later",
                    ) from None
                except requests.ConnectionError as error:
                    log.info(
                        "%s %s failed: %s (attempt %d)",
                        method,
                        path,
                        type(error).__name__,
                        attempts.made,
                    )
                    if attempts.retry():
                        continue
                    raise ProviderError(
                        ProviderName.STRAVA,
                        f"could not reach the server ({type(error).__name__}) after "
                        f"{attempts.made} attempts; check your connection",
                    ) from None
                status = response.status_code
                log.debug("%s %s -> %d", method, path, status)
                if api:
                    self.budget.observe(response.headers)
                if status == 429:
                    until = self.budget.rejected(response.headers)
                    response.close()
                    raise RateLimited(
                        ProviderName.STRAVA,
                        until,
                        f"rate limited (429); try again after {until:%H:%M} UTC",
                    )
                if status >= 500:
                    now = self.clock()
                    hint = parse_retry_after(response.headers.get("Retry-After"), now)
                    hint_s = (hint - now).total_seconds() if hint else None
                    response.close()
                    if attempts.retry(hint_s):
                        continue
                    raise ProviderError(
                        ProviderName.STRAVA,
                        f"server error {status} after {attempts.made} attempts; try again later",
                    )
                return response

    return _Transport


class StravaProvider(MeteredProvider):
    name = ProviderName.STRAVA
    capabilities = frozenset(
        {
            Capability.READ,
            Capability.RENAME,
            Capability.SET_DESCRIPTION,
            Capability.SET_GEAR,
            Capability.UPLOAD,
        }
    )

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        tokens: TokenSet,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT_S,
        page_size: int = DEFAULT_PAGE_SIZE,
        retry: RetryPolicy | None = None,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        on_tokens: Callable[[TokenSet], None] | None = None,
        on_revoked: Callable[[], object] | None = None,
    ) -> None:
        import requests
        from stravalib import Client

        if _QUIET not in logging.getLogger().filters:
            logging.getLogger().addFilter(_QUIET)
        if not client_id.strip().isdigit():
            raise ValueError("a Strava client id is a number")
        self.client_id = client_id.strip()
        self._client_secret = client_secret
        self._tokens = tokens
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.page_size = page_size
        self._clock = clock
        self._sleep = sleep
        self.on_tokens = on_tokens
        self.on_revoked = on_revoked
        self.revoked = False
        self.budget = RateBudget(clock=clock, default_backoff=timedelta(minutes=15))
        # The adapter counts requests (`requests_made`) besides being an HTTPAdapter.
        self._transport: Any = _transport_class()(
            self.base_url, timeout, retry or RetryPolicy(), self.budget, clock
        )
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"Tracekit/{__version__}"
        self._session.mount(DEFAULT_BASE_URL, self._transport)
        self._client = Client(
            access_token=tokens.access_token,
            rate_limit_requests=False,
            requests_session=self._session,
        )
        # Never stravalib's own refresh (it would take credentials from the environment).
        self._client.protocol.client_id = None
        self._client.protocol.client_secret = None
        self._gear_on_activities: set[str] = set()
        self._retired: dict[str, RemoteGear] = {}

    def __repr__(self) -> str:
        return f"StravaProvider(client_id={self.client_id!r}, base_url={self.base_url!r})"

    @property
    def requests_made(self) -> int:
        return int(self._transport.requests_made)

    @property
    def tokens(self) -> TokenSet:
        return self._tokens

    def close(self) -> None:
        # A sync that met a revoked authorisation may have stored a last batch after the
        # provider said so; forgetting once more when the run is over removes it too.
        if self.revoked and self.on_revoked is not None:
            self.on_revoked()
        self._session.close()

    # -- tokens -------------------------------------------------------------------------------

    def _refresh(self) -> None:
        """A new token set from the refresh token, saved before anything else happens."""
        from stravalib import exc

        refresh_token = self._tokens.refresh_token
        if not refresh_token:
            self._revoke("there is no refresh token")
        try:
            info = self._client.refresh_access_token(
                client_id=int(self.client_id),
                client_secret=self._client_secret,
                refresh_token=refresh_token or "",
            )
        except exc.Fault as error:
            if _error_resources(error) == {"Application"}:
                raise ReconnectNeeded(
                    self.name,
                    "Strava refused this application's client secret; connect again with the "
                    f"current secret from {SETTINGS_URL}",
                ) from None
            self._revoke("the refresh token was refused")
        except (KeyError, TypeError, ValueError):
            raise ProviderError(
                self.name, "unexpected answer from the token endpoint; try again later"
            ) from None
        fresh = TokenSet(
            access_token=str(info["access_token"]),
            refresh_token=str(info["refresh_token"]) if info.get("refresh_token") else None,
            expires_at=datetime.fromtimestamp(float(info["expires_at"]), UTC),
            scope=self._tokens.scope,
            token_type=self._tokens.token_type,
            athlete_id=self._tokens.athlete_id,
        )
        if fresh.refresh_token is None:
            fresh = TokenSet(
                access_token=fresh.access_token,
                refresh_token=refresh_token,
                expires_at=fresh.expires_at,
                scope=fresh.scope,
                token_type=fresh.token_type,
                athlete_id=fresh.athlete_id,
            )
        self._tokens = fresh
        self._client.access_token = fresh.access_token
        log.info("Strava access token refreshed")
        if self.on_tokens is not None:
            self.on_tokens(fresh)

    def _revoke(self, why: str) -> NoReturn:
        log.info("Strava authorisation revoked: %s", why)
        self.revoked = True
        if self.on_revoked is not None:
            self.on_revoked()
        raise ReconnectNeeded(
            self.name,
            "the authorisation was revoked (Tracekit was disconnected on Strava, or the token "
            "expired for good); as Strava's terms require, Tracekit deleted the Strava data it "
            "held. Connect again to use Strava",
        )

    def deauthorize(self) -> None:
        """Ask Strava to drop Tracekit's access (it leaves the athlete's "My Apps"), as a
        disconnect should; a token Strava already refuses means there is nothing to drop."""
        from stravalib import exc

        try:
            if self._tokens.expires_within(REFRESH_MARGIN, self._clock()):
                self._refresh()
            self._client.deauthorize()
        except (exc.AccessUnauthorized, ReconnectNeeded):
            log.info("Strava authorisation was already gone")
            return
        except exc.Fault as error:
            raise self._refused(error) from None
        log.info("Strava authorisation revoked at the athlete's request")

    def _call(self, action: Callable[[], T], subject: str | None = None) -> T:
        """Run one stravalib request: a fresh token first, one refresh and retry on a 401."""
        from stravalib import exc

        if self._tokens.expires_within(REFRESH_MARGIN, self._clock()):
            self._refresh()
        refreshed = False
        while True:
            try:
                return action()
            except exc.AccessUnauthorized as error:
                missing = _missing_permission(error)
                if missing is not None:
                    raise ReconnectNeeded(
                        self.name,
                        f"Tracekit was not given permission to {missing} (401); connect again "
                        "and leave every box ticked on Strava's consent page",
                    ) from None
                if refreshed:
                    self._revoke("a fresh token was refused")
                refreshed = True
                self._refresh()
            except exc.ApplicationInactive:
                raise ProviderError(
                    self.name,
                    "the Strava API application is inactive (403): the account that owns it "
                    f"needs a Strava subscription; reactivate it at {SETTINGS_URL}",
                ) from None
            except exc.ObjectNotFound:
                raise ProviderError(
                    self.name, f"{subject} not found" if subject else "not found (404)"
                ) from None
            except exc.Fault as error:
                raise self._refused(error) from None
            except ValueError:
                raise ProviderError(self.name, "unexpected answer (not JSON)") from None

    def _refused(self, error: "Fault") -> ProviderError:
        response = error.response
        status = response.status_code if response is not None else 0
        detail = _fault_text(error)
        return ProviderError(
            self.name, f"request refused ({status})" + (f": {detail}" if detail else "")
        )

    # -- reading ------------------------------------------------------------------------------

    def pull(self, since: datetime | None, until: datetime | None) -> Iterator[RemoteActivity]:
        """Activities starting in [since, until), pages of `page_size`, as Strava orders them."""
        since = as_utc(since) if since is not None else None
        end = as_utc(until) if until is not None else self._clock()
        # `after`/`before` are exclusive epoch seconds: widen by one and filter here.
        after = math.floor(since.timestamp()) - 1 if since is not None else None
        before = math.ceil(end.timestamp()) + 1
        protocol = self._client.protocol
        seen: set[str] = set()
        page = 1
        while True:
            items = self._call(
                partial(
                    protocol.get,
                    "/athlete/activities",
                    after=after,
                    before=before,
                    page=page,
                    per_page=self.page_size,
                )
            )
            if not isinstance(items, list):
                raise ProviderError(self.name, "unexpected answer to the activity list")
            fresh = 0
            for item in items:
                if not isinstance(item, dict) or item.get("id") is None:
                    continue
                provider_id = str(item["id"])
                if provider_id in seen:
                    continue
                seen.add(provider_id)
                fresh += 1
                remote = to_remote(item)
                if remote is None:
                    log.warning("Strava activity %s has no start time; skipped", provider_id)
                    continue
                if remote.gear_id:
                    self._gear_on_activities.add(remote.gear_id)
                start = remote.start_utc
                if start is not None and ((since is not None and start < since) or start >= end):
                    continue
                yield remote
            if len(items) < self.page_size or not fresh:
                return  # the last page (or a server ignoring `page`: never loop on it)
            page += 1

    def athlete(self) -> dict[str, Any]:
        data = self._call(lambda: self._client.protocol.get("/athlete"))
        if not isinstance(data, dict):
            raise ProviderError(self.name, "unexpected answer for the athlete")
        return data

    def gear(self) -> list[RemoteGear]:
        """Bikes and shoes of the athlete, and retired gear that activities still name.

        Strava lists only active gear on the athlete; a piece of gear seen on a pulled activity
        but not listed is read on its own (`GET /gear/{id}`) once and reported as retired.
        """
        athlete = self.athlete()
        gear: list[RemoteGear] = []
        for key, kind in (("bikes", "Bike"), ("shoes", "Shoes")):
            items = athlete.get(key)
            if not isinstance(items, list):
                continue
            for item in items:
                if not isinstance(item, dict) or not item.get("id"):
                    continue
                gear.append(
                    RemoteGear(
                        provider_gear_id=str(item["id"]),
                        name=str(item.get("name") or item.get("nickname") or item["id"]),
                        kind=kind,
                        retired=bool(item.get("retired")),
                    )
                )
        listed = {g.provider_gear_id for g in gear}
        for gear_id in sorted(self._gear_on_activities - listed):
            known = self._retired.get(gear_id)
            if known is None:
                try:
                    detail = self._call(
                        partial(self._client.protocol.get, "/gear/{id}", id=gear_id),
                        subject=f"gear {gear_id}",
                    )
                except (RateLimited, ReconnectNeeded):
                    raise
                except ProviderError as error:
                    log.info("Strava gear %s could not be read: %s", gear_id, error)
                    continue
                if not isinstance(detail, dict):
                    continue
                known = RemoteGear(
                    provider_gear_id=gear_id,
                    name=str(detail.get("name") or detail.get("nickname") or gear_id),
                    kind="Shoes" if gear_id.startswith("g") else "Bike",
                    retired=True,
                )
                self._retired[gear_id] = known
            gear.append(known)
        return gear

    def fetch(self, provider_id: str) -> RemoteActivity:
        activity_id = _activity_id(provider_id)
        item = self._call(
            lambda: self._client.protocol.get(
                "/activities/{id}", id=activity_id, include_all_efforts=False
            ),
            subject=f"activity {provider_id}",
        )
        if not isinstance(item, dict) or item.get("id") is None:
            raise ProviderError(self.name, f"unexpected answer for activity {provider_id}")
        remote = to_remote(item)
        if remote is None:
            raise ProviderError(self.name, f"activity {provider_id} has no start time")
        if remote.gear_id:
            self._gear_on_activities.add(remote.gear_id)
        return remote

    # -- writing (called only by tracekit.apply, after the user approved the change) ----------

    def _update(self, provider_id: str, body: dict[str, Any]) -> None:
        activity_id = _activity_id(provider_id)
        self._call(
            lambda: self._client.protocol.put(
                "/activities/{activity_id}", activity_id=activity_id, body=body
            ),
            subject=f"activity {provider_id}",
        )

    def rename(self, provider_id: str, name: str) -> None:
        self._update(provider_id, {"name": name})

    def set_description(self, provider_id: str, description: str) -> None:
        self._update(provider_id, {"description": description})

    def set_gear(self, provider_id: str, gear_id: str | None) -> None:
        self._update(provider_id, {"gear_id": gear_id or "none"})  # "none" clears it

    def upload(self, path: Path, name: str | None, external_id: str) -> UploadResult:
        """Upload the file, then poll the upload (once a second at most) until it is an
        activity, a duplicate of one, or an error."""
        data_type = upload_data_type(path)
        params: dict[str, Any] = {"data_type": data_type, "external_id": external_id}
        if name:
            params["name"] = name
        protocol = self._client.protocol

        def send() -> Any:
            from stravalib import exc

            with path.open("rb") as handle:
                try:
                    return protocol.post("/uploads", files={"file": handle}, **params)
                except exc.Fault as error:
                    response = error.response
                    if response is not None and response.status_code == 400:
                        try:
                            body = response.json()
                        except ValueError:
                            raise error from None
                        if isinstance(body, dict) and (body.get("error") or body.get("status")):
                            return body  # refused at once: the error says why (a duplicate?)
                    raise

        state = self._call(send)
        for _ in range(UPLOAD_MAX_POLLS):
            result = self._upload_outcome(state)
            if result is not None:
                return result
            upload_id = state.get("id") if isinstance(state, dict) else None
            if upload_id is None:
                raise ProviderError(self.name, "the upload was accepted without an upload id")
            self._sleep(UPLOAD_POLL_INTERVAL_S)
            state = self._call(
                partial(protocol.get, "/uploads/{upload_id}", upload_id=upload_id),
                subject=f"upload {upload_id}",
            )
        upload_id = state.get("id") if isinstance(state, dict) else "?"
        raise ProviderError(
            self.name,
            f"upload {upload_id} was still being processed after {UPLOAD_MAX_POLLS} checks; "
            "the next sync brings it in once Strava has finished",
        )

    def _upload_outcome(self, state: Any) -> UploadResult | None:
        """What an upload's state says: done, a duplicate, an error, or None (processing)."""
        if not isinstance(state, dict):
            raise ProviderError(self.name, "unexpected answer about the upload")
        error = state.get("error")
        text = " ".join(str(part) for part in (error, state.get("status")) if part)
        duplicate = _DUPLICATE.search(text)
        if duplicate:
            return UploadResult(provider_id=duplicate.group(1), duplicate=True)
        if error:
            raise ProviderError(self.name, f"the upload failed: {_plain(str(error))}")
        activity_id = state.get("activity_id")
        if activity_id is not None:
            return UploadResult(provider_id=str(activity_id))
        if state.get("status") == "The created activity has been deleted.":
            raise ProviderError(self.name, "the uploaded activity was deleted on Strava")
        return None


# -- connecting ---------------------------------------------------------------------------


def authorize_url(base_url: str = DEFAULT_BASE_URL) -> str:
    return f"{base_url.rstrip('/')}/oauth/authorize"


def exchange_code(
    code: str,
    client_id: str,
    client_secret: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    granted_scope: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> TokenSet:
    """Trade an authorisation code for a token set (stravalib's `exchange_code_for_token`).

    Raises `ProviderError` with a message for the user when Strava refuses the code or the
    application's credentials.
    """
    from stravalib import exc

    placeholder = TokenSet(access_token="-", expires_at=datetime.max.replace(tzinfo=UTC))
    with StravaProvider(
        client_id=client_id,
        client_secret=client_secret,
        tokens=placeholder,
        base_url=base_url,
        timeout=timeout,
    ) as provider:
        client = provider._client
        client.access_token = None
        try:
            answer = client.exchange_code_for_token(
                client_id=int(provider.client_id),
                client_secret=client_secret,
                code=code,
                return_athlete=True,
            )
        except exc.Fault as error:
            resources = _error_resources(error)
            if "Application" in resources or (
                error.response is not None and error.response.status_code == 401
            ):
                raise ProviderError(
                    ProviderName.STRAVA,
                    f"Strava refused the client id or secret; copy both from {SETTINGS_URL}",
                ) from None
            raise ProviderError(
                ProviderName.STRAVA,
                "Strava refused the authorisation code (it may have expired); connect again",
            ) from None
        except (KeyError, TypeError, ValueError):
            raise ProviderError(
                ProviderName.STRAVA, "unexpected answer from the token endpoint"
            ) from None
    info, athlete = answer if isinstance(answer, tuple) else (answer, None)
    athlete_id = getattr(athlete, "id", None)
    return TokenSet(
        access_token=str(info["access_token"]),
        refresh_token=str(info["refresh_token"]),
        expires_at=datetime.fromtimestamp(float(info["expires_at"]), UTC),
        scope=granted_scope,
        athlete_id=str(athlete_id) if athlete_id is not None else None,
    )


def missing_scopes(granted: str | None) -> set[str]:
    """Which of the scopes Tracekit asked for the user unticked on Strava's consent page."""
    if granted is None:
        return set()
    have = {part.strip() for part in granted.split(",") if part.strip()}
    return {scope for scope in SCOPES if scope not in have and scope != "read"}


# -- conversion -----------------------------------------------------------------------------


_GMT_PREFIX = re.compile(r"^\(GMT[^)]*\)\s*")
_GARMIN_PUSH = re.compile(r"garmin_push_(\d+)")
_DUPLICATE = re.compile(r"duplicate of\b.*?(?:/activities/|activity\s+)(\d+)", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")


def _plain(text: str) -> str:
    """An upload error as text (Strava's may hold HTML)."""
    return " ".join(_TAGS.sub("", text).split())[:300]


def zone_name(value: Any) -> str | None:
    """Strava's "(GMT+01:00) Europe/Madrid" as "Europe/Madrid" (None when not a known zone)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return iana_zone(_GMT_PREFIX.sub("", value.strip()))


def evidence_keys(item: Mapping[str, Any]) -> frozenset[str]:
    """`strava:<id>`, and `garmin:<id>` when Garmin's auto-sync pushed it ("garmin_push_<id>")."""
    keys = {f"strava:{item['id']}"}
    external = item.get("external_id")
    if isinstance(external, str):
        push = _GARMIN_PUSH.fullmatch(external.strip())
        if push:
            keys.add(f"garmin:{push.group(1)}")
    return frozenset(keys)


def to_remote(item: Mapping[str, Any]) -> RemoteActivity | None:
    """One Strava activity (summary or detail) as a `RemoteActivity` (None without a start)."""
    zone = zone_name(item.get("timezone"))
    start_utc = instant(item.get("start_date"))
    start_local = wall_clock(item.get("start_date_local"))
    if start_local is None and start_utc is not None and zone is not None:
        start_local = local_wall_clock(start_utc, zone)
    if start_utc is None and start_local is not None and zone is not None:
        start_utc = start_local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    if start_utc is None and start_local is None:
        return None
    raw_type = text(item.get("sport_type")) or text(item.get("type"))
    gear = item.get("gear")
    gear_id = text(item.get("gear_id")) or (
        str(gear["id"]) if isinstance(gear, dict) and gear.get("id") else None
    )
    latlng = item.get("start_latlng")
    lat = lon = None
    if isinstance(latlng, list) and len(latlng) == 2:
        lat, lon = number(latlng[0]), number(latlng[1])
    external = text(item.get("external_id"))
    return RemoteActivity(
        provider_id=str(item["id"]),
        start_utc=start_utc,
        sport=from_label(raw_type),
        raw_type=raw_type,
        start_local=start_local,
        timezone=zone,
        elapsed_s=number(item.get("elapsed_time")),
        moving_s=number(item.get("moving_time")),
        distance_m=number(item.get("distance")),
        name=text(item.get("name")),
        description=text(item.get("description")),
        gear_id=gear_id or None,
        device=text(item.get("device_name")),
        avg_hr=number(item.get("average_heartrate")),
        max_hr=number(item.get("max_heartrate")),
        ascent_m=number(item.get("total_elevation_gain")),
        calories=number(item.get("calories")),
        start_lat=lat,
        start_lon=lon,
        external_id=external or None,
        evidence=evidence_keys(item),
        payload={key: value for key, value in item.items() if key not in _BULKY},
        unknown=frozenset(
            field
            for field, key in (("description", "description"), ("gear_id", "gear_id"))
            if key not in item
        ),
    )


def upload_data_type(path: Path) -> str:
    """Strava's `data_type` for a file: fit, tcx or gpx, each possibly gzipped."""
    name = path.name.lower()
    for kind in ("fit", "tcx", "gpx"):
        if name.endswith(f".{kind}.gz"):
            return f"{kind}.gz"
        if name.endswith(f".{kind}"):
            return kind
    with path.open("rb") as handle:
        head = handle.read(1024)
    gz = head[:2] == b"\x1f\x8b"
    if gz:
        import gzip

        try:
            with gzip.open(path, "rb") as inner:
                head = inner.read(1024)
        except OSError:
            head = b""
    sniffed = _sniff(head)
    if sniffed is None:
        raise ProviderError(ProviderName.STRAVA, f"{path.name} is not a FIT, TCX or GPX file")
    return f"{sniffed}.gz" if gz else sniffed


def _sniff(head: bytes) -> str | None:
    if len(head) >= 12 and head[8:12] == b".FIT":
        return "fit"
    lowered = head.lower()
    if b"trainingcenterdatabase" in lowered:
        return "tcx"
    if b"<gpx" in lowered:
        return "gpx"
    return None


def _activity_id(provider_id: str) -> int:
    if not provider_id.strip().isdigit():
        raise ProviderError(ProviderName.STRAVA, f"{provider_id!r} is not a Strava activity id")
    return int(provider_id)


def _body(error: "Fault") -> Any:
    response = error.response
    if response is None:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _errors(error: "Fault") -> list[dict[str, Any]]:
    body = _body(error)
    if not isinstance(body, dict):
        return []
    errors = body.get("errors")
    if isinstance(errors, dict):
        errors = [errors]
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _error_resources(error: "Fault") -> set[str]:
    return {str(e.get("resource")) for e in _errors(error) if e.get("resource")}


def _missing_permission(error: "Fault") -> str | None:
    """What a 401 says Tracekit lacks permission for, when it is a missing scope."""
    for item in _errors(error):
        field = str(item.get("field") or "")
        if item.get("code") == "missing" or field.endswith("permission"):
            if "write" in field:
                return "change activities"
            return "read activities"
    return None


def _fault_text(error: "Fault") -> str:
    body = _body(error)
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or ""
        codes = ", ".join(
            f"{e.get('field') or e.get('resource')} {e.get('code')}".strip() for e in _errors(error)
        )
        return _plain(f"{message} ({codes})" if codes else str(message))
    return ""
