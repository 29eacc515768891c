"""Which providers are connected, and connecting or disconnecting one.

Secrets live in the keyring (`tracekit.credentials`); what is not secret (the athlete id, how
the provider authenticates) is a `Setting` row named `provider.<name>`. The CLI and the settings
dialog both call `connect_*` / `disconnect` here. `_BUILDERS` is the one place a provider type
plugs in: add Strava, RideWithGPS, Garmin or the spreadsheet there with its own builder.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session

from tracekit import garmin_login
from tracekit.credentials import Credentials, CredentialStoreUnavailable
from tracekit.oauth import OAuthError, Opener, TokenSet, authorize
from tracekit.providers import ridewithgps, strava
from tracekit.providers.base import Provider, ProviderError, ReconnectNeeded
from tracekit.providers.connections import record_connection, setting_key
from tracekit.providers.demo import DemoProvider
from tracekit.providers.garmin import build_garmin
from tracekit.providers.garmin_client import GarminFactory
from tracekit.providers.intervalsicu import DEFAULT_BASE_URL, SETTINGS_URL, IntervalsIcuProvider
from tracekit.providers.names import ProviderName
from tracekit.providers.ridewithgps import RideWithGpsProvider
from tracekit.providers.spreadsheet import SpreadsheetProvider
from tracekit.providers.strava import StravaProvider
from tracekit.store.engine import Database
from tracekit.store.models import (
    Notification,
    NotificationLevel,
    ProviderState,
    ProviderStatus,
    Setting,
)
from tracekit.sync import ForgetReport, forget_provider

API_KEY = "api_key"
OAUTH = "oauth"
# A base URL other than the real service (a self-hosted proxy, or a fake server in tests).
BASE_URL_ENV = {
    ProviderName.INTERVALSICU: "TRACEKIT_INTERVALSICU_URL",
    ProviderName.STRAVA: "TRACEKIT_STRAVA_URL",
    ProviderName.RIDEWITHGPS: "TRACEKIT_RIDEWITHGPS_URL",
    ProviderName.GARMIN: "TRACEKIT_GARMIN_URL",  # loopback only (a fake server in tests)
}
# Kept inside Strava's token-set entry: one keyring entry holds all its secrets.
CLIENT_SECRET = "client_secret"
# Strava's API terms: all of a user's Strava data goes when they disconnect.
FORGET_ON_DISCONNECT = frozenset({ProviderName.STRAVA})


class ConnectFailed(Exception):
    """Connecting did not work; the message says why and what to do. Nothing was stored."""


def connection_settings(session: Session, provider: ProviderName) -> dict[str, Any] | None:
    row = session.get(Setting, setting_key(provider))
    return dict(row.value) if row is not None and isinstance(row.value, dict) else None


def _base_url(provider: ProviderName, default: str) -> str:
    env = BASE_URL_ENV.get(provider)
    return (os.environ.get(env) if env else None) or default


# -- building providers from what is stored -------------------------------------------------


def _build_intervalsicu(settings: dict[str, Any], credentials: Credentials) -> Provider | None:
    stored = settings.get("base_url")
    base_url = _base_url(ProviderName.INTERVALSICU, stored if isinstance(stored, str) else "")
    base_url = base_url or DEFAULT_BASE_URL
    athlete_id = str(settings.get("athlete_id") or "0")
    if settings.get("auth") == OAUTH:
        blob = credentials.load_json(ProviderName.INTERVALSICU, OAUTH)
        if blob is None or "access_token" not in blob:
            return None
        tokens = TokenSet.from_json(blob)
        # intervals.icu documents no token expiry or refresh: a 401 means connect again.
        return IntervalsIcuProvider(
            access_token=tokens.access_token, athlete_id=athlete_id, base_url=base_url
        )
    key = credentials.load(ProviderName.INTERVALSICU, API_KEY)
    if not key:
        return None
    return IntervalsIcuProvider(api_key=key, athlete_id=athlete_id, base_url=base_url)


def _build_strava(settings: dict[str, Any], credentials: Credentials) -> Provider | None:
    name = ProviderName.STRAVA
    blob = credentials.load_json(name, OAUTH)
    client_id = str(settings.get("client_id") or "")
    if blob is None or "access_token" not in blob or not blob.get(CLIENT_SECRET) or not client_id:
        return None
    secret = str(blob[CLIENT_SECRET])
    stored = settings.get("base_url")
    base_url = _base_url(name, stored if isinstance(stored, str) else "") or strava.DEFAULT_BASE_URL

    def keep(tokens: TokenSet) -> None:
        """Strava rotates the refresh token: the new set replaces the old one at once."""
        try:
            credentials.save_json(name, OAUTH, {**tokens.as_json(), CLIENT_SECRET: secret})
        except CredentialStoreUnavailable as error:
            raise ProviderError(name, f"the refreshed token could not be kept. {error}") from None

    return StravaProvider(
        client_id=client_id,
        client_secret=secret,
        tokens=TokenSet.from_json(blob),
        base_url=base_url,
        on_tokens=keep,
    )


def _build_ridewithgps(settings: dict[str, Any], credentials: Credentials) -> Provider | None:
    name = ProviderName.RIDEWITHGPS
    stored = settings.get("base_url")
    base_url = _base_url(name, stored if isinstance(stored, str) else "")
    base_url = base_url or ridewithgps.DEFAULT_BASE_URL
    user_id = str(settings["user_id"]) if settings.get("user_id") else None
    if settings.get("auth") == OAUTH:
        blob = credentials.load_json(name, OAUTH)
        if blob is None or "access_token" not in blob:
            return None
        tokens = TokenSet.from_json(blob)  # no expiry or refresh documented: 401 = reconnect
        return RideWithGpsProvider(
            access_token=tokens.access_token, user_id=user_id, base_url=base_url
        )
    keys = credentials.load_json(name, API_KEY)  # the API key and the auth token, together
    if keys is None or not keys.get("api_key") or not keys.get("auth_token"):
        return None
    return RideWithGpsProvider(
        api_key=str(keys["api_key"]),
        auth_token=str(keys["auth_token"]),
        user_id=user_id,
        base_url=base_url,
    )


Builder = Callable[[dict[str, Any], Credentials], Provider | None]


# The single place each provider type plugs in (Strava, RideWithGPS, Garmin, spreadsheet: add
# a builder here and a connect_* function below).
def _build_garmin(settings: dict[str, Any], credentials: Credentials) -> Provider | None:
    return build_garmin(settings, credentials, base_url=_base_url(ProviderName.GARMIN, "") or None)


_BUILDERS: dict[ProviderName, Builder] = {
    ProviderName.INTERVALSICU: _build_intervalsicu,
    ProviderName.STRAVA: _build_strava,
    ProviderName.RIDEWITHGPS: _build_ridewithgps,
    ProviderName.GARMIN: _build_garmin,
}
DEMO = "demo"  # a connection setting the demo database carries: simulated, no account


def supported() -> tuple[ProviderName, ...]:
    """The providers `tracekit connect` knows (the spreadsheet connects with `tracekit sheet`)."""
    return tuple(_BUILDERS)


def _missing_secret(session: Session, provider: ProviderName) -> None:
    status = session.get(ProviderStatus, provider)
    if status is None:
        status = ProviderStatus(provider=provider)
        session.add(status)
    if status.state is not ProviderState.RECONNECT_NEEDED:
        message = f"{provider.label}: its key is missing from the system keyring; connect again"
        status.state = ProviderState.RECONNECT_NEEDED
        status.error = message
        session.add(
            Notification(
                created_at=datetime.now(UTC),
                level=NotificationLevel.ERROR,
                message=message,
                provider=provider,
            )
        )


def connected_providers(
    store: Database | Session, credentials: Credentials
) -> dict[ProviderName, Provider]:
    """A ready provider for each connection whose secret is in the keyring.

    A connection whose secret has gone from the keyring is left out and its status set to
    "reconnect needed". Raises `CredentialStoreUnavailable` when there is no keyring at all.
    """
    if isinstance(store, Database):
        with store.session() as session:
            providers = _connected(session, credentials)
        for provider in providers.values():
            if isinstance(provider, Revocable):  # it disconnects itself once access is revoked
                provider.on_revoked = partial(
                    disconnect, store, credentials, provider.name, deauthorize=False
                )
        return providers
    return _connected(store, credentials)


@runtime_checkable
class Revocable(Protocol):
    """A provider that notices when the user revoked its access (Strava's deauthorisation).

    `connected_providers` sets `on_revoked` to `disconnect`, which for Strava also deletes every
    Strava record, as Strava's API terms require.
    """

    on_revoked: Callable[[], object] | None


def _connected(session: Session, credentials: Credentials) -> dict[ProviderName, Provider]:
    providers: dict[ProviderName, Provider] = {}
    for name in ProviderName:
        settings = connection_settings(session, name)
        if settings is None:
            continue
        if settings.get(DEMO):
            providers[name] = DemoProvider(name, session.get_bind().engine)
            continue
        if name is ProviderName.SPREADSHEET:
            sheet = SpreadsheetProvider.from_settings(session)
            if sheet is not None:
                providers[name] = sheet
            continue
        build = _BUILDERS.get(name)
        if build is None:
            continue
        provider = build(settings, credentials)
        if provider is None:
            _missing_secret(session, name)
            continue
        providers[name] = provider
    return providers


# -- connecting -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connected:
    provider: ProviderName
    athlete_id: str | None
    message: str


def connect_intervalsicu(
    db: Database,
    credentials: Credentials,
    *,
    api_key: str | None = None,
    tokens: TokenSet | None = None,
    athlete_id: str = "0",
    base_url: str | None = None,
) -> Connected:
    """Check the API key (or OAuth tokens) with one request, then keep it in the keyring.

    Raises `ConnectFailed` (nothing stored) when intervals.icu refuses it or cannot be asked,
    and `CredentialStoreUnavailable` when there is no keyring to keep it in.
    """
    name = ProviderName.INTERVALSICU
    api_key = api_key.strip() if api_key else None
    if not api_key and tokens is None:
        raise ConnectFailed(
            f"No API key given: copy yours from {SETTINGS_URL} (Developer Settings)."
        )
    # Fail on a missing keyring before asking the network anything.
    credentials.load(name, API_KEY)
    athlete_id = athlete_id.strip() or "0"
    url = base_url or _base_url(name, DEFAULT_BASE_URL)
    provider = (
        IntervalsIcuProvider(api_key=api_key, athlete_id=athlete_id, base_url=url)
        if api_key
        else IntervalsIcuProvider(
            access_token=tokens.access_token if tokens else None,
            athlete_id=athlete_id,
            base_url=url,
        )
    )
    try:
        seen_athlete = provider.check()
    except ReconnectNeeded as error:
        if "(403)" in str(error):
            message = (
                f"{name.label} denied access to athlete {athlete_id!r}: check the athlete id "
                f"on {SETTINGS_URL}, or leave it out. Nothing was saved."
            )
        else:
            message = (
                f"{name.label} refused this API key. Copy the key from {SETTINGS_URL} "
                "(Developer Settings) and try again. Nothing was saved."
            )
        raise ConnectFailed(message) from None
    except ProviderError as error:
        raise ConnectFailed(f"{error}. Nothing was saved.") from None
    finally:
        provider.close()
    if api_key:
        credentials.save(name, API_KEY, api_key)
        credentials.delete(name, OAUTH)
        auth = API_KEY
    else:
        assert tokens is not None
        credentials.save_json(name, OAUTH, tokens.as_json())
        credentials.delete(name, API_KEY)
        auth = OAUTH
    athlete = athlete_id if athlete_id != "0" else (seen_athlete or None)
    who = f" as athlete {athlete}" if athlete else ""
    message = f"Connected to {name.label}{who}."
    settings: dict[str, Any] = {"auth": auth, "athlete_id": athlete_id}
    if base_url and base_url.rstrip("/") != DEFAULT_BASE_URL:
        settings["base_url"] = base_url.rstrip("/")  # a proxy or a test server, given explicitly
    record_connection(db, name, settings, message)
    return Connected(provider=name, athlete_id=athlete, message=message)


def connect_strava(
    db: Database,
    credentials: Credentials,
    *,
    client_id: str,
    client_secret: str,
    opener: Opener | None = None,
    on_url: Callable[[str], None] | None = None,
    timeout: float = 300.0,
    cancelled: Callable[[], bool] | None = None,
    port: int = 0,
    base_url: str | None = None,
) -> Connected:
    """Authorise Tracekit on Strava in the browser with the user's own API application, then
    keep the token set and the client secret in the keyring (one entry).

    The consent page redirects to a loopback address (the application's "Authorization
    Callback Domain" must be 127.0.0.1); the code is traded for tokens with one request.
    Raises `ConnectFailed` (nothing stored) when the user declines, unticks reading activities,
    or Strava refuses the application, and `CredentialStoreUnavailable` without a keyring.
    """
    name = ProviderName.STRAVA
    client_id, client_secret = client_id.strip(), client_secret.strip()
    if not client_id.isdigit():
        raise ConnectFailed(
            f"A Strava client id is a number: copy it from {strava.SETTINGS_URL} "
            "(My API Application). Nothing was saved."
        )
    if not client_secret:
        raise ConnectFailed(
            f"No client secret given: copy it from {strava.SETTINGS_URL}. Nothing was saved."
        )
    credentials.load(name, OAUTH)  # no keyring: say so before the browser opens
    url = (base_url or _base_url(name, strava.DEFAULT_BASE_URL)).rstrip("/")
    options: dict[str, Any] = {"opener": opener} if opener is not None else {}
    try:
        result = authorize(
            strava.authorize_url(url),
            client_id,
            ",".join(strava.SCOPES),
            pkce=False,  # Strava does not support PKCE; the state value is checked
            extra_params={"approval_prompt": "auto"},
            on_url=on_url,
            timeout=timeout,
            cancelled=cancelled,
            port=port,
            **options,
        )
    except OAuthError as error:
        raise ConnectFailed(f"{error} Nothing was saved.") from None
    granted = result.granted_scope
    missing = strava.missing_scopes(granted)
    if granted is not None and "activity:read" not in granted:
        raise ConnectFailed(
            "Strava was not allowed to show Tracekit your activities (the box was unticked). "
            "Connect again and leave every box ticked. Nothing was saved."
        )
    try:
        tokens = strava.exchange_code(
            result.code, client_id, client_secret, base_url=url, granted_scope=granted
        )
    except ProviderError as error:
        raise ConnectFailed(f"{error}. Nothing was saved.") from None
    credentials.save_json(name, OAUTH, {**tokens.as_json(), CLIENT_SECRET: client_secret})
    credentials.delete(name, API_KEY)
    who = f" as athlete {tokens.athlete_id}" if tokens.athlete_id else ""
    message = f"Connected to {name.label}{who}."
    if "activity:write" in missing:
        message += " Editing and uploading were not allowed, so changes to Strava will fail."
    if "profile:read_all" in missing:
        message += " Your profile was not shared, so Strava gear names will be missing."
    if "activity:read_all" in missing:
        message += " Activities visible only to you will not be read."
    settings: dict[str, Any] = {
        "auth": OAUTH,
        "client_id": client_id,
        "athlete_id": tokens.athlete_id,
        "scope": granted,
    }
    if base_url and base_url.rstrip("/") != strava.DEFAULT_BASE_URL:
        settings["base_url"] = base_url.rstrip("/")
    record_connection(db, name, settings, message)
    return Connected(provider=name, athlete_id=tokens.athlete_id, message=message)


def connect_ridewithgps(
    db: Database,
    credentials: Credentials,
    *,
    api_key: str,
    email: str,
    password: str,
    base_url: str | None = None,
) -> Connected:
    """Trade the user's email and password for an auth token (one request), then keep the API
    key and the token in the keyring. The password is used for that request only: it is never
    stored. Raises `ConnectFailed` (nothing stored) when RideWithGPS refuses them."""
    name = ProviderName.RIDEWITHGPS
    api_key, email = api_key.strip(), email.strip()
    if not api_key:
        raise ConnectFailed(
            f"No API key given: find yours at {ridewithgps.SETTINGS_URL}. Nothing was saved."
        )
    if not email or not password:
        raise ConnectFailed("Give the email and password of your RideWithGPS account.")
    credentials.load(name, API_KEY)  # no keyring: say so before asking the network anything
    url = (base_url or _base_url(name, ridewithgps.DEFAULT_BASE_URL)).rstrip("/")
    try:
        auth_token, user_id = ridewithgps.exchange_password(api_key, email, password, base_url=url)
    except ReconnectNeeded:
        raise ConnectFailed(
            f"{name.label} refused the API key, email or password. Check them (the API key is "
            f"at {ridewithgps.SETTINGS_URL}) and try again. Nothing was saved."
        ) from None
    except ProviderError as error:
        raise ConnectFailed(f"{error}. Nothing was saved.") from None
    credentials.save_json(name, API_KEY, {"api_key": api_key, "auth_token": auth_token})
    credentials.delete(name, OAUTH)
    return _ridewithgps_connected(db, name, API_KEY, user_id, base_url)


def connect_ridewithgps_oauth(
    db: Database,
    credentials: Credentials,
    *,
    client_id: str,
    client_secret: str,
    opener: Opener | None = None,
    on_url: Callable[[str], None] | None = None,
    timeout: float = 300.0,
    cancelled: Callable[[], bool] | None = None,
    port: int = 0,
    base_url: str | None = None,
) -> Connected:
    """Authorise Tracekit with the user's own RideWithGPS API client in the browser (loopback
    redirect, `state` checked), trade the code for a token, keep the token in the keyring."""
    name = ProviderName.RIDEWITHGPS
    client_id, client_secret = client_id.strip(), client_secret.strip()
    if not client_id or not client_secret:
        raise ConnectFailed(
            f"Give the client id and secret of your API client ({ridewithgps.SETTINGS_URL})."
        )
    credentials.load(name, OAUTH)
    url = (base_url or _base_url(name, ridewithgps.DEFAULT_BASE_URL)).rstrip("/")
    options: dict[str, Any] = {"opener": opener} if opener is not None else {}
    try:
        result = authorize(
            ridewithgps.authorize_url(url),
            client_id,
            None,
            pkce=False,  # not documented by RideWithGPS; the state value is checked
            on_url=on_url,
            timeout=timeout,
            cancelled=cancelled,
            port=port,
            **options,
        )
        tokens = ridewithgps.exchange_code(
            result.code, result.redirect_uri, client_id, client_secret, base_url=url
        )
    except OAuthError as error:
        raise ConnectFailed(f"{error} Nothing was saved.") from None
    except ProviderError as error:
        raise ConnectFailed(f"{error}. Nothing was saved.") from None
    credentials.save_json(name, OAUTH, tokens.as_json())
    credentials.delete(name, API_KEY)
    return _ridewithgps_connected(db, name, OAUTH, tokens.athlete_id, base_url)


def _ridewithgps_connected(
    db: Database, name: ProviderName, auth: str, user_id: str | None, base_url: str | None
) -> Connected:
    who = f" as user {user_id}" if user_id else ""
    message = f"Connected to {name.label}{who}."
    settings: dict[str, Any] = {"auth": auth, "user_id": user_id}
    if base_url and base_url.rstrip("/") != ridewithgps.DEFAULT_BASE_URL:
        settings["base_url"] = base_url.rstrip("/")
    record_connection(db, name, settings, message)
    return Connected(provider=name, athlete_id=user_id, message=message)


def connect_garmin(
    db: Database,
    credentials: Credentials,
    *,
    email: str,
    password: str,
    ask_code: Callable[[], str],
    on_refused_code: Callable[[str], None] | None = None,
    factory: GarminFactory | None = None,
) -> Connected:
    """Sign in once (with the MFA code asked for in the same flow); only the token store is
    kept, in the keyring. A dialog calls `garmin_login.start_login`/`finish_login` instead."""
    try:
        done = garmin_login.login(
            db,
            credentials,
            email,
            password,
            ask_code,
            on_refused_code=on_refused_code,
            factory=factory,
        )
    except garmin_login.GarminLoginError as error:
        raise ConnectFailed(str(error)) from None
    return Connected(provider=ProviderName.GARMIN, athlete_id=None, message=done.message)


@runtime_checkable
class Deauthorizable(Protocol):
    """A provider that can be told to drop Tracekit's access (Strava's "My Apps")."""

    def deauthorize(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Disconnected:
    provider: ProviderName
    forgot: ForgetReport | None  # the local data deleted with the connection
    not_revoked: str | None  # why the provider could not be told to drop Tracekit's access

    @property
    def message(self) -> str:
        message = f"Disconnected {self.provider.label}" + (
            "; its key was removed from the keyring." if self.provider in _BUILDERS else "."
        )
        if self.forgot is not None:
            message += (
                f" Deleted {self.forgot.records} records and {self.forgot.activities_removed} "
                "activities that only it had."
            )
        if self.not_revoked is not None:
            message += f" {self.not_revoked}"
        return message


def _deauthorize(db: Database, credentials: Credentials, provider: ProviderName) -> str | None:
    """Tell the provider to drop Tracekit's access, where it can be told; what went wrong."""
    build = _BUILDERS.get(provider)
    with db.session() as session:
        settings = connection_settings(session, provider)
    if build is None or settings is None or settings.get(DEMO):
        return None
    remote = build(settings, credentials)
    if not isinstance(remote, Deauthorizable):
        return None
    try:
        remote.deauthorize()
    except ProviderError as error:
        return (
            f"{provider.label} could not be told to drop Tracekit's access ({error}); "
            f"remove Tracekit at {strava.APPS_URL}."
        )
    finally:
        remote.close()
    return None


def disconnect(
    db: Database,
    credentials: Credentials,
    provider: ProviderName,
    *,
    forget: bool = False,
    deauthorize: bool = True,
) -> Disconnected:
    """Remove the provider's secrets and connection; its local data too when `forget` (always
    for Strava), and with `deauthorize` the provider is told to drop Tracekit's access first
    (Strava). Safe to call when it is not connected."""
    not_revoked = _deauthorize(db, credentials, provider) if deauthorize else None
    for key in (API_KEY, OAUTH):
        credentials.delete(provider, key)
    now = datetime.now(UTC)
    with db.session() as session:
        row = session.get(Setting, setting_key(provider))
        if row is not None:
            session.delete(row)
        status = session.get(ProviderStatus, provider)
        if status is None:
            status = ProviderStatus(provider=provider)
            session.add(status)
        status.state = ProviderState.DISCONNECTED
        status.error = None
        status.rate_limited_until = None
        status.last_operation = "disconnect"
        status.last_operation_at = now
    forgot = forget_provider(db, provider) if forget or provider in FORGET_ON_DISCONNECT else None
    return Disconnected(provider, forgot, not_revoked)
